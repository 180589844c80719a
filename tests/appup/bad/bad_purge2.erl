-module(bad_purge2).
-knit_purge(soft_purge).
-knit_purge(brutal_purge).
-export([x/0]).
x() -> ok.
