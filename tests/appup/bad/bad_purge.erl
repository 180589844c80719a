-module(bad_purge).
-knit_purge({soft_purge, gentle}).
-export([x/0]).
x() -> ok.
