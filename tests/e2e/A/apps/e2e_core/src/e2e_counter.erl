%% e2e_counter (A) - a gen_server whose state is #{count}
-module(e2e_counter).
-behaviour(gen_server).
-vsn("1.0.0").
-export([start_link/0, bump/0, value/0]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

bump() -> gen_server:call(?MODULE, bump).
value() -> gen_server:call(?MODULE, value).

init([]) -> {ok, #{count => 0}}.

handle_call(bump, _From, S = #{count := N}) -> {reply, N + 1, S#{count := N + 1}};
handle_call(value, _From, S) -> {reply, S, S}.

handle_cast(_Msg, S) -> {noreply, S}.

code_change(_OldVsn, S, _Extra) -> {ok, S}.
