-module(ka_same).
-knit_priority(99).
-export([x/0]).
x() -> same.
