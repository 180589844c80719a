-module(ka_plain).
-export([g/0]).
g() -> 1.
