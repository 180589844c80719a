-module(bad_timeout).
-knit_timeout(-1).
-export([x/0]).
x() -> ok.
