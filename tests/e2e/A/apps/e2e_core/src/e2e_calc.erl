%% e2e_calc (A) - plain module calling e2e_fmt
-module(e2e_calc).
-export([tag/0, show/1]).

tag() -> calc_a.

show(N) -> e2e_fmt:format(N).
