-module(kp_calc).
%% v2 calls kp_fmt:fmt2/1, which only kp_fmt v2 has: kp_fmt must load first
-export([calc/1]).
calc(X) -> kp_fmt:fmt2(X * 3).
