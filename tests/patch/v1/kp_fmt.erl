-module(kp_fmt).
-export([fmt/1]).
fmt(X) -> {v1, X}.
