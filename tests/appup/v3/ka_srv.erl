-module(ka_srv).
-behaviour(gen_server).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).
init([]) -> {ok, {ka_lib:f(), ka_v3:y()}}.
handle_call(_, _, S) -> {reply, S, S}.
handle_cast(_, S) -> {noreply, S}.
code_change(_, S, _) -> {ok, S}.
