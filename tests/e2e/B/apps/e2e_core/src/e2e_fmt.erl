%% e2e_fmt (B) - changed, loads first among the changed modules
-module(e2e_fmt).
-knit_priority(10).
-export([tag/0, format/1]).

tag() -> fmt_b.

format(N) -> "#" ++ integer_to_list(N).
