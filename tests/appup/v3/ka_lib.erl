-module(ka_lib).
-export([f/0]).
f() -> 3.
