%% the fix: the spawned loop goes through ?MODULE:
-module(spawn_good).
-export([start/0, tick/1]).

start() -> spawn(fun() -> ?MODULE:tick(0) end).

tick(N) ->
    timer:sleep(1000),
    ?MODULE:tick(N + 1).
