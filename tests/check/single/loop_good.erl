%% local_loop's fix: the loop recurses through ?MODULE: and moves to new code
-module(loop_good).
-export([start/0, loop/1]).

start() -> spawn(?MODULE, loop, [0]).

loop(N) ->
    receive
        {add, K} -> ?MODULE:loop(N + K);
        {get, From} -> From ! N, ?MODULE:loop(N)
    after 60000 ->
        ?MODULE:loop(N)
    end.
