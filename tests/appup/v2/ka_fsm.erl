-module(ka_fsm).
-behaviour(gen_statem).
-export([init/1, callback_mode/0, idle/3, code_change/4]).
init([]) -> {ok, idle, #{}}.
callback_mode() -> state_functions.
idle(_, _, D) -> {keep_state, D}.
code_change(_, S, D, _) -> {ok, S, D}.
