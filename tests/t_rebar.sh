#!/usr/bin/env bash
# t_rebar.sh - rebar3 projects (SPEC "rebar3 projects"): knit reads rebar.config's relx
# section; the release it builds is laid out as `rebar3 tar` lays it out (same files apart
# from the documented differences, boot files byte-identical); errors; relx's version forms;
# and live, both ways: a relx-built node upgraded by relx's own script with knit's slim
# tarball (and downgraded), and a knit-built node run with knit's bin/NAME.
source "$(dirname "$0")/lib.sh"
if ! command -v rebar3 >/dev/null; then
    skip "t_rebar.sh" "no rebar3 on PATH (make deps installs it)"
    finish
    exit
fi
T=$(tmpdir)
RELX_NODE= KNIT_NODE=
cleanup() {
    for r in "$RELX_NODE" "$KNIT_NODE"; do
        [ -n "$r" ] && [ -x "$r/bin/myrel" ] && timeout 30 "$r/bin/myrel" stop >/dev/null 2>&1
    done
    rm -rf "$T"
}
trap cleanup EXIT
# rebar3 offline: a fresh HOME (no global config or plugins), no deps in the project
export HOME=$T/home
mkdir -p "$HOME"
MK=$TOP/tests/rebar/mkproj.sh
N1=knit_rx$RANDOM@127.0.0.1 N2=knit_rk$RANDOM@127.0.0.1 C=c$RANDOM$RANDOM
R3() { (cd "$1" && shift && timeout 300 rebar3 "$@") >"$T/rebar3.log" 2>&1; }

# --- relx builds 1.0.0; knit builds the same release from the same rebar.config
"$MK" "$T/p" 1.0.0 "$N1" "$C"
R3 "$T/p" tar || fail "rebar3 tar" "$(tail -20 "$T/rebar3.log")"
RELX_TAR=$T/p/_build/default/rel/myrel/myrel-1.0.0.tar.gz
cp -R "$T/p" "$T/k"
rm -rf "$T/k/_build/default/rel"
(cd "$T/k" && "$KNIT" -q release) 2>"$T/err" || fail "knit release in a rebar3 project" "$(cat "$T/err")"
KNIT_TAR=$T/k/_build/default/rel/myrel/myrel-1.0.0.tar.gz
[ -f "$KNIT_TAR" ] && ok "release tarball where rebar3 tar puts it" || fail "no $KNIT_TAR"
tar tzf "$RELX_TAR" | grep -v '/$' | sort >"$T/relx.files"
tar tzf "$KNIT_TAR" | grep -v '/$' | sort >"$T/knit.files"
# deliberate: knit's bin/NAME talks to the node itself (no nodetool, no escript), knit's
# erts bin/erl is its own relocatable script (no dyn_erl / *.src templates), and knit adds
# NAME.boot/NAME.script and releases/NAME-VSN.rel (unpack_release("NAME-VSN"))
grep -v -E '^bin/(install_upgrade.escript|nodetool)$|^erts-[^/]*/bin/(dyn_erl|erl.src|start.src|start_erl.src)$' "$T/relx.files" >"$T/relx.cmp"
grep -v -E '^releases/1.0.0/myrel.(boot|script)$|^releases/myrel-1.0.0.rel$' "$T/knit.files" >"$T/knit.cmp"
if diff "$T/relx.cmp" "$T/knit.cmp" >"$T/diff"; then ok "same file list as rebar3 tar ($(wc -l <"$T/knit.cmp") files)"
else fail "file list differs from rebar3 tar's" "$(cat "$T/diff")"; fi
mkdir -p "$T/xr" "$T/xk"
tar xzf "$RELX_TAR" -C "$T/xr" && tar xzf "$KNIT_TAR" -C "$T/xk"
for f in releases/1.0.0/start.boot releases/1.0.0/start_clean.boot releases/1.0.0/no_dot_erlang.boot \
    bin/no_dot_erlang.boot releases/1.0.0/sys.config releases/1.0.0/vm.args; do
    if cmp -s "$T/xr/$f" "$T/xk/$f"; then ok "$f byte-identical"; else fail "$f differs from rebar3 tar's" "$(cmp "$T/xr/$f" "$T/xk/$f" 2>&1)"; fi
done

# --- errors (exit 2, a message that says what to do)
mkdir -p "$T/e1" && echo '{deps, []}.' >"$T/e1/rebar.config"
expect_exit "no relx section: exit 2" 2 env -C "$T/e1" "$KNIT" release
case $ERR in *"no {relx, [...]} section"*) ok "no relx section: message" ;; *) fail "no relx section: message" "$ERR" ;; esac
cp -R "$T/p" "$T/e2"
sed -i 's/{relx, \[/{relx, [{release, {other, "1.0.0"}, [aa]},/' "$T/e2/rebar.config"
expect_exit "two releases, no default_release: exit 2" 2 env -C "$T/e2" "$KNIT" release
case $ERR in *"no default_release"*) ok "two releases: message" ;; *) fail "two releases: message" "$ERR" ;; esac
sed -i 's/{relx, \[/{relx, [{default_release, {other, "1.0.0"}},/' "$T/e2/rebar.config"
(cd "$T/e2" && "$KNIT" -q release) 2>"$T/err" && [ -d "$T/e2/_build/default/knit/other/releases/1.0.0" ] &&
    ok "default_release picks the release" || fail "default_release" "$(cat "$T/err")"
cp -R "$T/p" "$T/e3"
sed -i 's/\[aa, bb, sasl\]/[aa, bb, cc, sasl]/' "$T/e3/rebar.config"
expect_exit "application missing from _build: exit 2" 2 env -C "$T/e3" "$KNIT" release
case $ERR in *"'cc'"*"rebar3 compile"*) ok "missing app: message names it and says rebar3 compile" ;; *) fail "missing app: message" "$ERR" ;; esac
mkdir -p "$T/e4" && cp -R "$T/p/rebar.config" "$T/p/config" "$T/e4/"
expect_exit "no _build: exit 2" 2 env -C "$T/e4" "$KNIT" release
case $ERR in *"rebar3 compile"*) ok "no _build: message" ;; *) fail "no _build: message" "$ERR" ;; esac
expect_exit "unknown profile: exit 2" 2 env -C "$T/k" "$KNIT" --profile nope release
cp -R "$T/p" "$T/e5"
sed -i 's/{relx, \[/{relx, [{exclude_apps, [bb]},/' "$T/e5/rebar.config"
out=$(cd "$T/e5" && "$KNIT" release -f 2>&1)
case $out in *"relx option 'exclude_apps' is not supported"*) ok "unsupported relx option: a warning naming it" ;; *) fail "unsupported option warning" "$out" ;; esac

# --- versions as relx resolves them; profiles
V=$T/v
cp -R "$T/p" "$V"
(cd "$V" && git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm 1 &&
    git tag v1.2.0 && echo x >x && git add x && git -c user.email=t@t -c user.name=t commit -qm 2) >/dev/null 2>&1
short=$(cd "$V" && git rev-parse --short HEAD) long=$(cd "$V" && git rev-parse HEAD)
cp "$V/rebar.config" "$T/rebar.config.orig"
for form in '{git, short}' '{git, long}' semver '{cmd, "echo 2.0.0"}'; do
    sed "s/{release, {myrel, \"1.0.0\"}/{release, {myrel, $form}/" "$T/rebar.config.orig" >"$V/rebar.config"
    case $form in *short*) want=$short ;; *long*) want=$long ;; semver) want=1.2.0+build.1.ref$short ;; *) want=2.0.0 ;; esac
    rm -rf "$V/_build/default/knit"
    (cd "$V" && "$KNIT" -q release -f) 2>"$T/err"
    if [ -d "$V/_build/default/knit/myrel/releases/$want" ]; then ok "version $form = $want"
    else fail "version $form" "expected releases/$want; have $(ls "$V/_build/default/knit/myrel/releases" 2>&1) $(cat "$T/err")"; fi
done
cp -R "$T/p" "$T/pr"
sed -i 's/{dev_mode, false}, {include_erts, true}/{dev_mode, false}, {include_erts, false}, {release, {myrel, "9.9.9"}, [aa, sasl]}/' "$T/pr/rebar.config"
R3 "$T/pr" as prod compile || fail "rebar3 as prod compile" "$(tail "$T/rebar3.log")"
(cd "$T/pr" && "$KNIT" -q --profile prod release) 2>"$T/err"
d=$T/pr/_build/prod/knit/myrel
if [ -d "$d/releases/9.9.9" ] && ! ls -d "$d"/erts-* >/dev/null 2>&1; then ok "--profile prod: the profile's release and include_erts override"
else fail "--profile prod" "$(ls "$d" "$d/releases" 2>&1) $(cat "$T/err")"; fi

# --- live (a): relx-built 1.0.0 run by relx's script; knit's slim upgrade through relx's upgrade
RELX_NODE=$T/nodex
mkdir -p "$RELX_NODE" && tar xzf "$RELX_TAR" -C "$RELX_NODE"
(cd "$RELX_NODE" && timeout 60 bin/myrel daemon) >"$T/start.log" 2>&1
i=0; until (cd "$RELX_NODE" && timeout 10 bin/myrel ping) >/dev/null 2>&1 || [ $i -ge 30 ]; do sleep 1; i=$((i+1)); done
relx_eval() { (cd "$RELX_NODE" && timeout 60 bin/myrel eval "$1") 2>&1 | tr -d ' '; }
# state before
st=$(relx_eval 'aa_srv:get().')
[ "$st" = "{state,1}" ] && ok "relx node runs 1.0.0" || fail "relx node state" "$st $(cat "$T/start.log")"
"$MK" "$T/p" 1.1.0 "$N1" "$C"
R3 "$T/p" compile || fail "rebar3 compile 1.1.0" "$(tail "$T/rebar3.log")"
out=$(cd "$T/p" && "$KNIT" check --from 1.0.0 2>&1) &&
    case $out in *"knit check:"*) ok "knit check --from 1.0.0 in a rebar3 project" ;; *) fail "knit check output" "$out" ;; esac ||
    fail "knit check in a rebar3 project" "$out"
(cd "$T/p" && "$KNIT" -q) 2>"$T/err" || fail "knit 1.1.0 + upgrade from the relx tarball" "$(cat "$T/err")"
UP=$T/p/_build/default/knit/upgrades/myrel-1.1.0.tar.gz
if [ -f "$UP" ]; then ok "slim upgrade tarball from relx's 1.0.0"
    tar tzf "$UP" | grep -q '^erts-' && fail "slim tarball carries ERTS" || ok "slim tarball has no ERTS"
    tar tzf "$UP" | grep -q '^lib/kernel' && fail "slim tarball carries kernel" || ok "slim tarball has no unchanged apps"
else fail "no upgrade tarball" "$(ls "$T/p/_build/default/knit" 2>&1)"; fi
# earlier releases also from relx's unpacked _build/default/rel/myrel/releases/1.0.0
cp -R "$T/p" "$T/p4"
rm -rf "$T/p4/_build/default/knit" "$T/p4"/_build/default/rel/myrel/myrel-*.tar.gz
if (cd "$T/p4" && "$KNIT" -q relup) 2>"$T/err" &&
    cmp -s "$T/p/_build/default/knit/myrel/releases/1.1.0/relup" "$T/p4/_build/default/knit/myrel/releases/1.1.0/relup"; then
    ok "earlier release found in _build/default/rel/myrel/releases/1.0.0 (same relup as from the tarball)"
else fail "upgrade from relx's release dir" "$(cat "$T/err"; ls "$T/p4/_build/default/knit/myrel/releases/1.1.0" 2>&1)"; fi
cp "$UP" "$RELX_NODE/releases/myrel-1.1.0.tar.gz"
out=$(cd "$RELX_NODE" && timeout 120 bin/myrel upgrade 1.1.0 2>&1)
case $out in *"Made release permanent"*) ok "relx's bin/myrel upgrade 1.1.0 installs knit's tarball" ;; *) fail "relx upgrade" "$out" ;; esac
st=$(relx_eval 'aa_srv:get().'); v=$(relx_eval 'bb_lib:v().')
[ "$st" = "{state,1,converted}" ] && [ "$v" = '"1.1.0"' ] && ok "state converted by code_change, new code loaded" || fail "after upgrade" "state $st, bb_lib:v() $v"
out=$(cd "$RELX_NODE" && timeout 120 bin/myrel downgrade 1.0.0 2>&1)
st=$(relx_eval 'aa_srv:get().'); v=$(relx_eval 'bb_lib:v().')
[ "$st" = "{state,1}" ] && [ "$v" = '"1.0.0"' ] && ok "relx's bin/myrel downgrade 1.0.0 goes back" || fail "after downgrade" "$out; state $st, bb_lib:v() $v"
(cd "$RELX_NODE" && timeout 60 bin/myrel stop) >/dev/null 2>&1; RELX_NODE=

# --- live (b): knit-built 1.0.0 (rebar.config with vm_args_src / sys_config_src), knit's
# bin/myrel and its relx-style commands, a knit upgrade, an upgrade with no path
srcify() { # DIR: the project's config as relx's .src files, filled from the environment
    printf -- '-name ${NODE_NAME}\n-setcookie ${COOKIE:-nocookie}\n' >"$1/config/vm.args.src"
    printf '[{aa, [{greeting, "${GREETING:-default}"}, {start_delay, 3000}]}].\n' >"$1/config/sys.config.src"
    rm -f "$1/config/vm.args" "$1/config/sys.config"
    printf '{{release_name}} {{release_version}}\n' >"$1/config/note.txt"
    sed -i 's|{sys_config, "config/sys.config"}, {vm_args, "config/vm.args"}|{sys_config_src, "config/sys.config.src"}, {vm_args_src, "config/vm.args.src"}, {overlay, [{mkdir, "etc"}, {template, "config/note.txt", "etc/note.txt"}]}|' "$1/rebar.config"
}
"$MK" "$T/b" 1.0.0 "$N2" "$C" && srcify "$T/b"
R3 "$T/b" compile || fail "rebar3 compile (b)" "$(tail "$T/rebar3.log")"
(cd "$T/b" && "$KNIT" -q) 2>"$T/err" || fail "knit 1.0.0 (b)" "$(cat "$T/err")"
TB=$T/b/_build/default/rel/myrel/myrel-1.0.0.tar.gz
if tar tzf "$TB" | grep -q '^releases/1.0.0/vm.args.src$' && tar tzf "$TB" | grep -q '^releases/1.0.0/sys.config.src$' &&
    ! tar tzf "$TB" | grep -q -E '^releases/1.0.0/(vm.args|sys.config)$'; then ok "vm.args.src / sys.config.src shipped as .src (as relx does)"
else fail "the .src files in the tarball" "$(tar tzf "$TB" | grep releases/)"; fi
KNIT_NODE=$T/nodek
mkdir -p "$KNIT_NODE" && tar xzf "$TB" -C "$KNIT_NODE"
KB=$KNIT_NODE/bin/myrel
export NODE_NAME=$N2 COOKIE=$C GREETING=first
out=$(cd "$T" && timeout 90 "$KB" start 2>&1)
st=$(timeout 30 "$KB" eval 'aa_srv:get().' 2>&1 | tr -d ' ')
# aa takes 3 s to start (start_delay): the node answers pings long before aa_srv exists
[ "$st" = "{state,1}" ] && ok "knit-built node: start returns once the (slow) applications have started; eval" || fail "start/eval" "$out / $st"
n=$(cat "$KNIT_NODE/etc/note.txt" 2>&1)
[ "$n" = "myrel 1.0.0" ] && ok "relx overlay with relx's variables (release_name, release_version)" || fail "overlay" "$n"
g=$(timeout 30 "$KB" eval 'application:get_env(aa, greeting)' 2>&1 | tr -d ' ')
[ "$g" = '{ok,"first"}' ] && ok "sys.config.src filled from the environment at boot (\${GREETING})" || fail "sys.config.src at boot" "$g"
out=$(timeout 30 "$KB" rpc bb_lib v 2>&1)
[ "$out" = '"1.0.0"' ] && ok "rpc M F" || fail "rpc M F" "$out"
out=$(timeout 30 "$KB" rpc erlang length '[[a,b,c]]' 2>&1)
[ "$out" = '3' ] && ok "rpc M F [A]" || fail "rpc M F A" "$out"
out=$(timeout 30 "$KB" status 2>&1)
case $out in *"1.0.0 permanent"*) ok "status" ;; *) fail "status" "$out" ;; esac
"$MK" "$T/b" 1.1.0 "$N2" "$C" && srcify "$T/b"
R3 "$T/b" compile || fail "rebar3 compile 1.1.0 (b)" "$(tail "$T/rebar3.log")"
(cd "$T/b" && "$KNIT" -q) 2>"$T/err" || fail "knit 1.1.0 (b)" "$(cat "$T/err")"
export GREETING=second
out=$(timeout 120 "$KB" upgrade "$T/b/_build/default/knit/upgrades/myrel-1.1.0.tar.gz" 2>&1)
st=$(timeout 30 "$KB" eval 'aa_srv:get().' 2>&1 | tr -d ' ')
[ "$st" = "{state,1,converted}" ] && ok "knit upgrade applies on the knit-built node" || fail "knit upgrade (b)" "$out / $st"
g=$(timeout 30 "$KB" eval 'application:get_env(aa, greeting)' 2>&1 | tr -d ' ')
[ "$g" = '{ok,"second"}' ] && ok "the new sys.config.src filled before the upgrade installed" || fail "sys.config.src at upgrade" "$g"
# 1.2.0 with an upgrade from 1.0.0 only: the running 1.1.0 has no path to it
"$MK" "$T/b" 1.2.0 "$N2" "$C" && srcify "$T/b"
R3 "$T/b" compile || fail "rebar3 compile 1.2.0 (b)" "$(tail "$T/rebar3.log")"
(cd "$T/b" && "$KNIT" -q relup --from 1.0.0) 2>"$T/err" || fail "knit relup --from 1.0.0 (b)" "$(cat "$T/err")"
out=$(timeout 60 "$KB" unpack "$T/b/_build/default/knit/upgrades/myrel-1.2.0.tar.gz" 2>&1)
s2=$(timeout 30 "$KB" status 2>&1)
case "$out|$s2" in *"1.2.0 is unpacked"*"1.2.0 unpacked"*) ok "unpack TARBALL" ;; *) fail "unpack" "$out / $s2" ;; esac
out=$(timeout 60 "$KB" upgrade 1.2.0 2>&1); rc=$?
case $out in *"no upgrade from the running release 1.1.0"*) [ $rc != 0 ] && ok "upgrade with no path: a sentence, exit $rc" || fail "no-path upgrade exit" "$rc" ;;
    *) fail "upgrade with no path: message" "$out" ;; esac
case $out in *"{error"*) fail "no-path upgrade prints a raw term" "$out" ;; *) ok "no raw {error, ...} term" ;; esac
st=$(timeout 30 "$KB" eval 'aa_srv:get().' 2>&1 | tr -d ' ')
[ "$st" = "{state,1,converted}" ] && ok "node still runs 1.1.0 after the refused upgrade" || fail "after refused upgrade" "$st"
out=$(timeout 60 "$KB" uninstall 1.2.0 2>&1); s2=$(timeout 30 "$KB" status 2>&1)
case "$out|$s2" in *"1.2.0 is removed"*) case $s2 in *1.2.0*) fail "uninstall: still listed" "$s2" ;; *) ok "uninstall VSN" ;; esac ;; *) fail "uninstall" "$out / $s2" ;; esac
out=$(timeout 120 "$KB" install 1.0.0 2>&1)
st=$(timeout 30 "$KB" eval 'aa_srv:get().' 2>&1 | tr -d ' ')
[ "$st" = "{state,1}" ] && ok "install VSN (an old release: back to 1.0.0)" || fail "install 1.0.0" "$out / $st"
# a crash dump lands in the release's log/, not the caller's directory
mkdir -p "$T/cwd"
(cd "$T/cwd" && timeout 30 "$KB" eval 'erlang:halt("knit_test_dump")') >/dev/null 2>&1
i=0; while [ ! -s "$KNIT_NODE/log/erl_crash.dump" ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
if grep -q knit_test_dump "$KNIT_NODE/log/erl_crash.dump" 2>/dev/null && [ ! -e "$T/cwd/erl_crash.dump" ]; then ok "crash dump in the release's log/"
else fail "crash dump location" "$(ls "$KNIT_NODE/log" "$T/cwd" 2>&1)"; fi
sleep 2; KNIT_NODE=
finish
