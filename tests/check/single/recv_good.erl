%% the fix: the receive has an after that goes through ?MODULE:loop
-module(recv_good).
-export([start/0, loop/1]).

start() -> spawn(?MODULE, loop, [[]]).

loop(Acc) ->
    receive
        {put, X} -> ?MODULE:loop([X | Acc]);
        {dump, From} -> From ! Acc, ?MODULE:loop(Acc)
    after 5000 ->
        ?MODULE:loop(Acc)
    end.
