%% e2e_old (A only) - deleted in B
-module(e2e_old).
-export([tag/0]).

tag() -> old_a.
