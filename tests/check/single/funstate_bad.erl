%% fun_in_state fires: init/1 keeps a local fun in the state
-module(funstate_bad).
-behaviour(gen_server).
-export([init/1, handle_call/3, handle_cast/2]).

init(Step) ->
    {ok, #{next => fun(X) -> X + Step end}}. %% HERE fun_in_state

handle_call(next, _From, S = #{next := F}) -> {reply, F(1), S}.
handle_cast(_, S) -> {noreply, S}.
