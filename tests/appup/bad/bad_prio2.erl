-module(bad_prio2).
-knit_priority(1).
-knit_priority(2).
-export([x/0]).
x() -> ok.
