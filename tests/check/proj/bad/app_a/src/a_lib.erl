-module(a_lib).
-export([f/2]).

f(X, Y) -> {f, X, Y}.
