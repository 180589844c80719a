%% e2e_fmt (C) - changed again: soft purge before loading, brutal after
-module(e2e_fmt).
-knit_priority(10).
-knit_purge({soft_purge, brutal_purge}).
-export([tag/0, format/1]).

tag() -> fmt_c.

format(N) -> "#" ++ integer_to_list(N) ++ "!".
