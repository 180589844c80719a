-module(bad_phase).
-knit_apply({sometime, {m, f, []}}).
-export([x/0]).
x() -> ok.
