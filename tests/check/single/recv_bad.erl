%% receive_no_after fires: a process loop blocked in a receive without after
-module(recv_bad).
-export([start/0, loop/1]).

start() -> spawn(?MODULE, loop, [[]]).

loop(Acc) ->
    receive %% HERE receive_no_after
        {put, X} -> ?MODULE:loop([X | Acc]);
        {dump, From} -> From ! Acc, ?MODULE:loop(Acc)
    end.
