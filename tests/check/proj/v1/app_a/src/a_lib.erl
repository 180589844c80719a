-module(a_lib).
-export([f/1, g/1]).

f(X) -> {f, X}.
g(X) -> {g, X}.
