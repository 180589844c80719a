%% e2e_calc (B, same in C) - changed and calls the changed e2e_fmt: the dependency only
%% knit's inference (imports) finds; there is no knit_depends here
-module(e2e_calc).
-export([tag/0, show/1]).

tag() -> calc_b.

show(N) -> "calc:" ++ e2e_fmt:format(N).
