-module(bad_timeout2).
-knit_timeout(1).
-knit_timeout(2).
-export([x/0]).
x() -> ok.
