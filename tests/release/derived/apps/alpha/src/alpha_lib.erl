-module(alpha_lib).
-export([twice/1]).
%% calls into beta, which no release names: incl_cond derived takes beta in
twice(X) -> beta_util:double(X).
