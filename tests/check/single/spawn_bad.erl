%% local_loop fires on a spawned entry point that loops without receiving
-module(spawn_bad).
-export([start/0]).

start() -> spawn(fun() -> tick(0) end).

tick(N) ->
    timer:sleep(1000),
    tick(N + 1). %% HERE local_loop
