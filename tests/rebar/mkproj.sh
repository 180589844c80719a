#!/usr/bin/env bash
# tests/rebar/mkproj.sh DIR VSN NODE COOKIE - write a small multi-app rebar3 project (apps aa, bb; no deps)
# at release version VSN into DIR. aa 1.1.0 adds a counter field to its server's state, which
# its code_change converts; bb 1.1.0 changes a library function.
set -eu
D=$1 V=$2 NODE=$3 COOKIE=$4
mkdir -p "$D/apps/aa/src" "$D/apps/bb/src" "$D/config"
cat >"$D/rebar.config" <<E
{erl_opts, [debug_info]}.
{deps, []}.
{relx, [{release, {myrel, "$V"}, [aa, bb, sasl]},
        {dev_mode, false}, {include_erts, true}, {extended_start_script, true},
        {sys_config, "config/sys.config"}, {vm_args, "config/vm.args"}]}.
{profiles, [{prod, [{relx, [{dev_mode, false}, {include_erts, true}]}]}]}.
E
echo '[{aa, [{greeting, "hi"}]}].' >"$D/config/sys.config"
cat >"$D/config/vm.args" <<E
-name $NODE
-setcookie $COOKIE
E
cat >"$D/apps/aa/src/aa.app.src" <<E
{application, aa, [{description, "a"}, {vsn, "$V"}, {registered, [aa_srv]},
  {mod, {aa_app, []}}, {applications, [kernel, stdlib]}, {env, []}]}.
E
cat >"$D/apps/aa/src/aa_app.erl" <<'E'
-module(aa_app).
-behaviour(application).
-export([start/2, stop/1]).
%% start_delay (ms, default 0): a slow start, for bin/NAME start to wait for
start(_, _) -> timer:sleep(application:get_env(aa, start_delay, 0)), aa_sup:start_link().
stop(_) -> ok.
E
cat >"$D/apps/aa/src/aa_sup.erl" <<'E'
-module(aa_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).
start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).
init([]) -> {ok, {{one_for_one, 5, 10}, [{aa_srv, {aa_srv, start_link, []}, permanent, 5000, worker, [aa_srv]}]}}.
E
if [ "$V" = 1.0.0 ]; then
cat >"$D/apps/aa/src/aa_srv.erl" <<'E'
-module(aa_srv).
-behaviour(gen_server).
-export([start_link/0, get/0, init/1, handle_call/3, handle_cast/2, code_change/3]).
start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).
get() -> gen_server:call(?MODULE, get).
init([]) -> {ok, {state, 1}}.
handle_call(get, _, S) -> {reply, S, S}.
handle_cast(_, S) -> {noreply, S}.
code_change({down, _}, {state, N, _}, _) -> {ok, {state, N}};
code_change(_, S, _) -> {ok, S}.
E
else
cat >"$D/apps/aa/src/aa_srv.erl" <<'E'
-module(aa_srv).
-behaviour(gen_server).
-export([start_link/0, get/0, init/1, handle_call/3, handle_cast/2, code_change/3]).
start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).
get() -> gen_server:call(?MODULE, get).
init([]) -> {ok, {state, 1, converted}}.
handle_call(get, _, S) -> {reply, S, S}.
handle_cast(_, S) -> {noreply, S}.
code_change({down, _}, {state, N, _}, _) -> {ok, {state, N}};
code_change(_, {state, N}, _) -> {ok, {state, N, converted}}.
E
fi
cat >"$D/apps/bb/src/bb.app.src" <<E
{application, bb, [{description, "b"}, {vsn, "$V"}, {registered, []},
  {applications, [kernel, stdlib, aa]}, {env, []}]}.
E
cat >"$D/apps/bb/src/bb_lib.erl" <<E
-module(bb_lib).
-export([v/0]).
v() -> "$V".
E
