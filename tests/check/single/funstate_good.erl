%% the fix: the state holds data and an external fun, not a local fun
-module(funstate_good).
-behaviour(gen_server).
-export([init/1, handle_call/3, handle_cast/2, step/2]).

init(Step) ->
    {ok, #{next => fun ?MODULE:step/2, step => Step}}.

handle_call(next, _From, S = #{next := F, step := Step}) -> {reply, F(1, Step), S}.
handle_cast(_, S) -> {noreply, S#{list => lists:map(fun(X) -> X * 2 end, [1, 2])}}.

step(X, Step) -> X + Step.
