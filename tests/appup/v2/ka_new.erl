-module(ka_new).
-knit_priority(-1).
-knit_apply({immediate, {ka_new, init, []}}).
-export([h/0, init/0]).
h() -> new.
init() -> ok.
