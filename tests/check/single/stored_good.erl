%% the fix: hand over an external fun
-module(stored_good).
-export([setup/0, handle/2]).

setup() ->
    my_events:attach(stored_good, [request, stop], fun ?MODULE:handle/2, []).

handle(E, M) -> io:format("~p ~p~n", [E, M]).
