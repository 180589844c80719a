%% e2e_counter (B) - the state gains label, its default from knit_extra
-module(e2e_counter).
-behaviour(gen_server).
-vsn("2.0.0").
-knit_extra({label, "set-by-extra-b"}).
%% e2e_calc has an instruction in A->B; e2e_util is another application's module, so knit
%% drops it from Deps
-knit_depends([e2e_calc, e2e_util]).
-knit_timeout(30000).
-knit_purge(soft_purge).
-export([start_link/0, bump/0, value/0]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

bump() -> gen_server:call(?MODULE, bump).
value() -> gen_server:call(?MODULE, value).

init([]) -> {ok, #{count => 0, label => "fresh-b"}}.

handle_call(bump, _From, S = #{count := N}) -> {reply, N + 1, S#{count := N + 1}};
handle_call(value, _From, S) -> {reply, S, S}.

handle_cast(_Msg, S) -> {noreply, S}.

%% down to A: drop label; up from A: label from Extra
code_change({down, _Vsn}, S, _Extra) -> {ok, maps:remove(label, S)};
code_change(_OldVsn, S, {label, Label}) when not is_map_key(label, S) -> {ok, S#{label => Label}};
code_change(_OldVsn, S, _Extra) -> {ok, S}.
