#!/usr/bin/env bash
# t_live_never.sh - live upgrade cases of SPEC "Module attributes: additions" on a real node
# (part of the live-upgrade suite, beside t_live_upgrade.sh): an application `lv` whose
# release 1.1.0 adds a supervisor child with -knit_apply({last, ...}) and takes it away on
# the way back with {down, first, ...} applies, and whose library module lv_lib (code "you
# don't own": no knit_* attribute in it) gets soft_purge from {knit_defaults, ...} in the
# config. On the node: the upgrade keeps a long-lived process running lv_lib's code alive;
# while it still runs the old code, check_install_release of the downgrade is refused
# (old_processes) and the node keeps serving; once it is gone, the downgrade removes the
# child and the node keeps serving.
source "$(dirname "$0")/lib.sh"
source "$TOP/tests/e2e/node.sh"
export KNIT_TEMPLATES=${KNIT_TEMPLATES:-$TOP/templates}
T=$(tmpdir)
cleanup() {
    node_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
for tool in erlc erl; do
    command -v "$tool" >/dev/null || { fail "t_live_never.sh needs '$tool' on PATH"; finish; exit; }
done
NODE=knit_lv$RANDOM$$
COOKIE=c$RANDOM$RANDOM
EVSN=$(erl -noshell -eval 'io:put_chars(erlang:system_info(version)), halt().')
P=$T/proj

# --- the application, version by version
# src V - write lv's sources for application version V (1.0.0, 1.1.0 or 1.2.0: only
# lv_lib's tag differs from 1.1.0) into P/src-V
src() {
    local v=$1 d=$P/src-$1
    mkdir -p "$d"
    cat >"$d/lv.app" <<EOF
{application, lv, [{description, "knit live test"}, {vsn, "$v"},
  {modules, [lv_app, lv_sup, lv_srv, lv_lib$([ "$v" != 1.0.0 ] && echo ", lv_extra")]},
  {registered, [lv_sup, lv_srv]}, {applications, [kernel, stdlib]}, {mod, {lv_app, []}}]}.
EOF
    cat >"$d/lv_app.erl" <<'EOF'
-module(lv_app).
-behaviour(application).
-export([start/2, stop/1]).
start(_, _) -> lv_sup:start_link().
stop(_) -> ok.
EOF
    cat >"$d/lv_srv.erl" <<'EOF'
-module(lv_srv).
-behaviour(gen_server).
-export([start_link/0, ping/0, init/1, handle_call/3, handle_cast/2]).
start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).
ping() -> gen_server:call(?MODULE, ping).
%% a long-lived process running library code (as a keep-alive connection would)
init([]) ->
    Holder = spawn(fun() -> lv_lib:hold() end),
    register(lv_holder, Holder),
    {ok, Holder}.
handle_call(ping, _From, S) -> {reply, {pong, lv_lib:tag()}, S}.
handle_cast(_, S) -> {noreply, S}.
EOF
    local tag=one children='[Srv]' extra_attrs=''
    if [ "$v" != 1.0.0 ]; then
        tag=$([ "$v" = 1.1.0 ] && echo two || echo three)
        children='[Srv, #{id => lv_extra, start => {lv_extra, start_link, []}}]'
        extra_attrs='-knit_apply({last, {supervisor, restart_child, [lv_sup, lv_extra]}}).
-knit_apply({down, {first, 0}, {supervisor, terminate_child, [lv_sup, lv_extra]}}).
-knit_apply({down, {first, 1}, {supervisor, delete_child, [lv_sup, lv_extra]}}).'
        cat >"$d/lv_extra.erl" <<'EOF'
-module(lv_extra).
-behaviour(gen_server).
-export([start_link/0, init/1, handle_call/3, handle_cast/2]).
start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).
init([]) -> {ok, #{}}.
handle_call(_, _, S) -> {reply, extra, S}.
handle_cast(_, S) -> {noreply, S}.
EOF
    fi
    cat >"$d/lv_lib.erl" <<EOF
-module(lv_lib).
-export([hold/0, tag/0]).
hold() -> receive stop -> ok end.
tag() -> $tag.
EOF
    cat >"$d/lv_sup.erl" <<EOF
-module(lv_sup).
-behaviour(supervisor).
$extra_attrs
-export([start_link/0, init/1]).
start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).
init([]) ->
    Srv = #{id => lv_srv, start => {lv_srv, start_link, []}},
    {ok, {#{strategy => one_for_one, intensity => 3, period => 60}, $children}}.
EOF
    local ebin=$P/lib/lv-$v/ebin
    mkdir -p "$ebin"
    cp "$d/lv.app" "$ebin/" && erlc -o "$ebin" "$d"/*.erl || fail "compile lv $v"
}
# config V - reltool.config for release V (application lv V), with knit_defaults
config() {
    cat >"$P/reltool.config" <<EOF
{sys, [{lib_dirs, ["lib"]},
       {rel, "lv", "$1", [kernel, stdlib, sasl, lv]},
       {rel, "start_clean", "", [kernel, stdlib]},
       {boot_rel, "lv"}, {profile, embedded}, {incl_cond, exclude},
       {excl_archive_filters, [".*"]},
       {app, kernel, [{incl_cond, include}]}, {app, stdlib, [{incl_cond, include}]},
       {app, sasl, [{incl_cond, include}]}, {app, lv, [{incl_cond, include}]}]}.
{target_dir, "."}.
%% lv_lib is library code without knit_* attributes: soft_purge comes from here
{knit_defaults, [{{lv, lv_lib}, [{knit_purge, soft_purge}]}]}.
{overlay, [{copy, "files/vm.args", "releases/{{rel_vsn}}/vm.args"}]}.
EOF
}
mkdir -p "$P/files"
printf -- '-sname %s\n-setcookie %s\n' "$NODE" "$COOKIE" >"$P/files/vm.args"
src 1.0.0
config 1.0.0
OUT=$(cd "$P" && "$KNIT" 2>&1) && ok "lv 1.0.0: knit" || fail "lv 1.0.0: knit" "$OUT"
src 1.1.0
rm -rf "$P/lib/lv-1.0.0"
config 1.1.0
OUT=$(cd "$P" && "$KNIT" 2>&1) && ok "lv 1.1.0: knit" || fail "lv 1.1.0: knit" "$OUT"
cp "$P/upgrades/lv-1.1.0.tar.gz" "$T/lv-1.1.0.tar.gz"
src 1.2.0
rm -rf "$P/lib/lv-1.1.0"
config 1.2.0
OUT=$(cd "$P" && "$KNIT" 2>&1) && ok "lv 1.2.0: knit" || fail "lv 1.2.0: knit" "$OUT"
UP=$T/lv-1.1.0.tar.gz
RELUP=$P/lv/releases/1.2.0/relup
[ -f "$UP" ] || { fail "no upgrade tarball $UP" "$OUT"; finish; exit; }
grep -q 'soft_purge' "$RELUP" && ok "relup: lv_lib loads with soft_purge (knit_defaults)" ||
    fail "relup: no soft_purge" "$(cat "$RELUP")"

# --- the node
R=$T/root
mkdir -p "$R"
tar -xzf "$P/releases/lv-1.0.0.tar.gz" -C "$R" || fail "extract lv-1.0.0.tar.gz"
ERL_CALL=$R/erts-$EVSN/bin/erl_call
if ! out=$(timeout 300 "$R/bin/lv" start 2>&1) || ! wait_up 90; then
    fail "$NODE: bin/lv start" "$out"
    finish
    exit
fi
remember_pid "$(node_os_pid)"
ok "$NODE: started 1.0.0"
X_CHILDREN='lists:sort([Id || {Id, P, _, _} <- supervisor:which_children(lv_sup), is_pid(P)]).'
expect_rpc "1.0.0: serving" 'lv_srv:ping().' '{pong, one}'
expect_rpc "1.0.0: children" "$X_CHILDREN" '[lv_srv]'
HOLDER=$(rpc 'pid_to_list(whereis(lv_holder)).')

cp "$UP" "$R/releases/lv-1.1.0.tar.gz"
expect_rpc "1.0.0 -> 1.1.0: unpack, install, make permanent" '
    {ok, V} = release_handler:unpack_release("lv-1.1.0"),
    {ok, _, _} = release_handler:install_release(V),
    ok = release_handler:make_permanent(V), V.' '"1.1.0"'
expect_rpc "1.1.0: serving the new code" 'lv_srv:ping().' '{pong, two}'
expect_rpc "1.1.0: knit_apply {last, ...} started the new child" "$X_CHILDREN" '[lv_extra, lv_srv]'
expect_rpc "1.1.0: soft_purge kept the long-lived process in lv_lib's old code alive" \
    "P = whereis(lv_holder), {pid_to_list(P), is_process_alive(P), erlang:check_process_code(P, lv_lib)}." \
    "{$(printf '%s' "$HOLDER" | sed -E 's/^\{ok, (.*)\}$/\1/'), true, true}"

# soft purge cannot proceed while that process runs the old code: OTP refuses the next
# upgrade (lv_lib changes again in 1.2.0) before it changes anything
cp "$P/upgrades/lv-1.2.0.tar.gz" "$R/releases/lv-1.2.0.tar.gz"
expect_rpc "1.2.0 unpacked" 'release_handler:unpack_release("lv-1.2.0").' '{ok, "1.2.0"}'
expect_rpc "1.1.0 -> 1.2.0 while a process runs old lv_lib code: check_install_release refuses" \
    'release_handler:check_install_release("1.2.0").' '{error, {old_processes, lv_lib}}'
expect_rpc "install_release refuses it the same way" \
    'release_handler:install_release("1.2.0").' '{error, {old_processes, lv_lib}}'
expect_rpc "after the refusal: still 1.1.0 and serving" \
    '{[V || {_, V, _, current} <- release_handler:which_releases()] ++ [V || {_, V, _, permanent} <- release_handler:which_releases()], lv_srv:ping()}.' \
    '{["1.1.0"], {pong, two}}'

# the process finishes; then the downgrade takes the child away first and the node lives on
rpc 'lv_holder ! stop, ok.' >/dev/null
sleep 1
expect_rpc "1.1.0 -> 1.0.0: install_release (the downgrade)" \
    '{ok, _, _} = release_handler:install_release("1.0.0"), ok = release_handler:make_permanent("1.0.0"), done.' done
expect_rpc "1.0.0 again: serving the old code" 'lv_srv:ping().' '{pong, one}'
expect_rpc "1.0.0 again: knit_apply {down, first, ...} removed the child" "$X_CHILDREN" '[lv_srv]'
expect_rpc "1.0.0 again: the supervisor and the application survived" \
    '{is_pid(whereis(lv_sup)), lists:keymember(lv, 1, application:which_applications())}.' '{true, true}'
sleep 2
node_up && ok "the node is still up after the downgrade" || fail "the node died after the downgrade"

timeout 120 "$R/bin/lv" stop >/dev/null 2>&1
finish
