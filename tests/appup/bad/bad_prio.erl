-module(bad_prio).
-knit_priority(high).
-export([x/0]).
x() -> ok.
