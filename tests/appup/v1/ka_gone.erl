-module(ka_gone).
-knit_priority(4).
-export([x/0]).
x() -> gone.
