-module(a_lib).
-export([f/1, f/2, g/1]).

f(X) -> f(X, undefined).
f(X, Y) -> {f, X, Y}.
g(X) -> {g, X}.
