-module(ka_v3).
-export([y/0]).
y() -> v3.
