-module(gamma_mod).
-export([f/0]).
f() -> ok.
