-module(kp_fmt).
-export([fmt/1, fmt2/1]).
fmt(X) -> {v1, X}.
fmt2(X) -> {v2, X}.
