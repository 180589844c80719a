-module(kp_srv).
-behaviour(gen_server).
-vsn("1").
-export([start_link/0, bump/0, info/0, calc/1]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).
start_link() -> gen_server:start_link({local, kp_srv}, kp_srv, [], []).
bump() -> gen_server:call(kp_srv, bump).
info() -> gen_server:call(kp_srv, info).
calc(X) -> gen_server:call(kp_srv, {calc, X}).
init([]) -> {ok, {count, 0}}.
handle_call(bump, _, {count, N}) -> {reply, N + 1, {count, N + 1}};
handle_call(info, _, S) -> {reply, S, S};
handle_call({calc, X}, _, S) -> {reply, kp_calc:calc(X), S}.
handle_cast(_, S) -> {noreply, S}.
code_change(_, S, _) -> {ok, S}.
