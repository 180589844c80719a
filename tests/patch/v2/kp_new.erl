-module(kp_new).
%% only in v2: loaded by a patch only with --add
-export([hello/0]).
hello() -> new.
