-module(a_old).
-export([h/0]).

h() -> old.
