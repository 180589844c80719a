-module(ka_plain).
-knit_priority(10).
-export([g/0]).
g() -> ka_new2:x().
