%% e2e_fmt (A) - plain module
-module(e2e_fmt).
-export([tag/0, format/1]).

tag() -> fmt_a.

format(N) -> integer_to_list(N).
