-module(beta_unused).
-export([f/0]).
%% nothing calls this module: mod_cond derived leaves it out
f() -> ok.
