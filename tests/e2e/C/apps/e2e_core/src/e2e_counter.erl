%% e2e_counter (C) - the state gains hits; Extra is a map of defaults for every field a
%% from-version may lack (up from A: label and hits; up from B: hits)
-module(e2e_counter).
-behaviour(gen_server).
-vsn("3.0.0").
-knit_extra(#{label => "set-by-extra-c", hits => 7}).
-knit_depends(e2e_fmt).
-knit_timeout(infinity).
-export([start_link/0, bump/0, value/0]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

bump() -> gen_server:call(?MODULE, bump).
value() -> gen_server:call(?MODULE, value).

init([]) -> {ok, #{count => 0, label => "fresh-c", hits => 0}}.

handle_call(bump, _From, S = #{count := N, hits := H}) ->
    {reply, N + 1, S#{count := N + 1, hits := H + 1}};
handle_call(value, _From, S) -> {reply, S, S}.

handle_cast(_Msg, S) -> {noreply, S}.

%% down (to B): drop hits; up: add the fields this state lacks, from Extra
code_change({down, _Vsn}, S, _Extra) -> {ok, maps:remove(hits, S)};
code_change(_OldVsn, S, Defaults) when is_map(Defaults) ->
    {ok, maps:merge(maps:with([label, hits], Defaults), S)}.
