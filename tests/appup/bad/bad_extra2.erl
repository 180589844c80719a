-module(bad_extra2).
-knit_extra(a).
-knit_extra(b).
-export([x/0]).
x() -> ok.
