%% loop_bad silenced in the module
-module(ignored).
-export([start/0, loop/1]).
-knit_check_ignore([local_loop]).

start() -> spawn(?MODULE, loop, [0]).

loop(N) ->
    receive
        {add, K} -> loop(N + K)
    after 60000 ->
        loop(N)
    end.
