%% local_loop fires: a receiving process loop that recurses with a local call
-module(loop_bad).
-export([start/0, loop/1]).

start() -> spawn(?MODULE, loop, [0]).

loop(N) ->
    receive
        {add, K} -> loop(N + K); %% HERE local_loop
        {get, From} -> From ! N, loop(N)
    after 60000 ->
        loop(N)
    end.
