-module(ka_new2).
-export([x/0]).
x() -> new2.
