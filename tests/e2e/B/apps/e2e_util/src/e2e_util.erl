%% e2e_util (1.0.0) - library module
-module(e2e_util).
-export([version/0]).

version() -> "1.0.0".
