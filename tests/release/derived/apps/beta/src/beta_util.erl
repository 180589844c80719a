-module(beta_util).
-export([double/1]).
double(X) -> beta_deep:mul(X, 2).
