%% e2e_util (1.1.0) - library module, changed
-module(e2e_util).
-export([version/0, twice/1]).

version() -> "1.1.0".

twice(X) -> 2 * X.
