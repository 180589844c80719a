-module(bad_depends).
-knit_depends([a, "b"]).
-export([x/0]).
x() -> ok.
