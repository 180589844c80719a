%% e2e_new (added in C) - plain module, loads before the other added module
-module(e2e_new).
-knit_priority(5).
-export([tag/0]).

tag() -> new_c.
