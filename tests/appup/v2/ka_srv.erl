-module(ka_srv).
-behaviour(gen_server).
-knit_priority(10).
-knit_extra([[x]]).
-knit_purge({soft_purge, brutal_purge}).
-knit_depends(ka_same).
-knit_depends([ka_new, nosuch]).
-knit_depends([ka_plain]).
-knit_apply({immediate, {ka_srv, migrated, []}}).
-knit_apply({{immediate, -5}, {ka_srv, early, []}}).
-export([init/1, handle_call/3, handle_cast/2, code_change/3, migrated/0, early/0]).
init([]) -> {ok, {ka_lib:f(), ka_same:x(), ka_new:h()}}.
handle_call(_, _, S) -> {reply, S, S}.
handle_cast(_, S) -> {noreply, S}.
code_change(_, S, _) -> {ok, S}.
migrated() -> ok.
early() -> ok.
