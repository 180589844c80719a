%% stored_fun fires: a local fun handed to another module that keeps it
-module(stored_bad).
-export([setup/0]).

setup() ->
    my_events:attach(stored_bad, [request, stop], fun(E, M) -> handle(E, M) end, []). %% HERE stored_fun

handle(E, M) -> io:format("~p ~p~n", [E, M]).
