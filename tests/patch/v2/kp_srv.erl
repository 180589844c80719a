-module(kp_srv).
-behaviour(gen_server).
-vsn("2").
%% v2: the state becomes a map; code_change records the old vsn and the knit_extra term
-knit_extra({migrate, 42}).
-export([start_link/0, bump/0, info/0, calc/1]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).
start_link() -> gen_server:start_link({local, kp_srv}, kp_srv, [], []).
bump() -> gen_server:call(kp_srv, bump).
info() -> gen_server:call(kp_srv, info).
calc(X) -> gen_server:call(kp_srv, {calc, X}).
init([]) -> {ok, #{count => 0, from => none, extra => none}}.
handle_call(bump, _, #{count := N} = S) -> {reply, N + 1, S#{count := N + 1}};
handle_call(info, _, S) -> {reply, S, S};
handle_call({calc, X}, _, S) -> {reply, kp_calc:calc(X), S}.
handle_cast(_, S) -> {noreply, S}.
code_change(OldVsn, {count, N}, Extra) -> {ok, #{count => N, from => OldVsn, extra => Extra}};
code_change(_, S, _) -> {ok, S}.
