-module(ka_old2).
-export([x/0]).
x() -> old2.
