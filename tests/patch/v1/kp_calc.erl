-module(kp_calc).
-export([calc/1]).
calc(X) -> kp_fmt:fmt(X * 2).
