#!/usr/bin/env bash
# t_node.sh - knit status / install / downgrade / remove against live release nodes (SPEC
# "Part 2 - the node"). knit builds releases 1.0.0 and 2.0.0 of the e2e fixture (tests/e2e
# A and B, plus a module e2e_loop whose process loops with a local call) and the upgrade
# tarball; three nodes boot 1.0.0 from the release tarball (bin/e2e start). Checked: status
# (hot patch, old code and its process, one rpc call); the pre-flight naming the looping
# process and a hot patch (exit 5, nodes unchanged), --dry-run, --force killing the looper;
# three nodes with one failing the pre-flight (nothing changes anywhere), then all three
# upgraded; downgrade with the state converted back; remove; refusals each leaving the node
# unchanged: unreachable, wrong cookie, stopped node (timeout), another release's tarball,
# a corrupted tarball, a plain node, the node lock held; --json of every command.
source "$(dirname "$0")/lib.sh"
E2E=$TOP/tests/e2e
TOOL=$TOP/$KNIT_BUILD/tests/tool_node
[ -x "$TOOL" ] || { fail "no $TOOL (run make unit-bins)"; finish; exit; }
T=$(tmpdir)
export SOURCE_DATE_EPOCH=1700000000
CK=kn_ck_$$_$RANDOM
PIDS=()
ROOTS=()
cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill -CONT "$p" 2>/dev/null
        kill "$p" 2>/dev/null
    done
    sleep 1
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
P=$T/proj
mkdir -p "$P"
for v in A B; do
    cp -R "$E2E/$v" "$P/$v"
    rm -rf "$P/$v/lib"
    tag=$(echo "$v" | tr AB ab)
    cat >"$P/$v/apps/e2e_core/src/e2e_loop.erl" <<ERL
-module(e2e_loop).
-export([start/0, loop/1, vsn/0]).
vsn() -> $tag.
start() -> spawn(fun() -> register(e2e_looper, self()), loop(0) end).
loop(N) -> receive stop -> ok after 100 -> loop(N + 1) end.
ERL
    "$E2E/build.sh" "$P/$v" >/dev/null || fail "compile $v"
    printf '{node_name, "kn_unused_%s"}.\n{cookie, "%s"}.\n' "$$" "$CK" >"$P/$v/files/vars.config"
done
for v in A B; do
    out=$(cd "$P/$v" && "$KNIT" 2>&1) || { fail "knit in $v" "$out"; finish; exit; }
done
REL1=$P/releases/e2e-1.0.0.tar.gz
UP2=$P/upgrades/e2e-2.0.0.tar.gz
[ -f "$REL1" ] && [ -f "$UP2" ] || { fail "knit made no e2e-1.0.0 release or 2.0.0 upgrade" "$(ls -R "$P/releases" "$P/upgrades" 2>&1)"; finish; exit; }

# ev NODE EXPR - evaluate EXPR on NODE (one line of ~tp)
ev() { "$TOOL" "$1" --cookie "$CK" --timeout 60 eval "$2" 2>&1; }
# boot NAME - root $T/NAME from the 1.0.0 release tarball, started as node NAME
boot() {
    local r=$T/$1 i pid
    mkdir -p "$r"
    tar -xzf "$REL1" -C "$r" || return 1
    sed -i "s/^-sname .*/-sname $1/" "$r/releases/1.0.0/vm.args"
    (cd "$r" && timeout 300 bin/e2e start >/dev/null 2>&1) || { fail "$1: bin/e2e start"; return 1; }
    for i in $(seq 1 120); do
        pid=$(ev "$1" 'os:getpid()' 2>/dev/null) && [ "${pid#\"}" != "$pid" ] && break
        sleep 1
    done
    pid=${pid//\"/}
    [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null || { fail "$1 did not come up" "$pid"; return 1; }
    PIDS+=("$pid")
    eval "PID_$1=$pid"
    ROOTS+=("$r")
    # wait for the release to be up (e2e_counter running)
    for i in $(seq 1 60); do
        [ "$(ev "$1" 'is_pid(whereis(e2e_counter))')" = true ] && return 0
        sleep 1
    done
    fail "$1: e2e_counter never started"
    return 1
}
RELS='lists:sort([{V, S} || {_, V, _, S} <- release_handler:which_releases()])'
# unchanged DESC NODE - still 1.0.0 permanent only, no 2.0.0 tarball or directory left
unchanged() {
    local out
    out=$(ev "$2" "$RELS")
    [ "$out" = '[{"1.0.0",permanent}]' ] && ok "$1: $2 unchanged (releases)" ||
        fail "$1: $2 releases changed" "$out"
    out=$(ls "$T/$2/releases" | grep -v '^1.0.0$\|^RELEASES$\|^start_erl.data$\|^e2e-1.0.0.rel$' || true)
    [ -z "$out" ] && ok "$1: $2 unchanged (releases dir)" || fail "$1: $2 releases dir has more" "$out"
}

N1=kn1_$$
N2=kn2_$$
N3=kn3_$$
boot "$N1" && boot "$N2" && boot "$N3" || { finish; exit; }
ok "three nodes booted 1.0.0"

# --- status
out=$("$KNIT" status "$N1" --cookie "$CK" 2>&1)
rc=$?
[ $rc = 0 ] && ok "status exit 0" || fail "status exit $rc" "$out"
printf '%s\n' "$out" | head -1 | grep -qx "$N1@$(hostname -s): 1.0.0 (permanent)" &&
    ok "status summary: 1.0.0 (permanent)" || fail "status summary" "$out"
printf '%s\n' "$out" | grep -q "e2e_core 1.0.0" && ok "status lists e2e_core 1.0.0" || fail "status apps" "$out"
printf '%s\n' "$out" | grep -q "all equal" && ok "status: every loaded module is the release's beam" ||
    fail "status: modules differ on a fresh node" "$out"
js=$("$KNIT" status "$N1" --cookie "$CK" --json 2>/dev/null)
[ "$(printf '%s' "$js" | jq -r '.nodes[0].rpc_calls')" = 1 ] && ok "status is one rpc call" ||
    fail "status rpc calls" "$js"
[ "$(printf '%s' "$js" | jq -r '.nodes[0].status.releases[0].status')" = permanent ] &&
    ok "status --json: releases" || fail "status --json releases" "$js"

# --- a hot patch (e2e_fmt of a C-like version by load_binary) and a looping process on N3
mkdir -p "$T/hp"
sed 's/fmt_a/fmt_hot/' "$P/A/apps/e2e_core/src/e2e_fmt.erl" >"$T/hp/e2e_fmt.erl"
erlc -o "$T/hp" "$T/hp/e2e_fmt.erl"
ev "$N3" "{ok, B} = file:read_file(\"$T/hp/e2e_fmt.beam\"), code:load_binary(e2e_fmt, \"$T/hp/e2e_fmt.beam\", B)" >/dev/null
ev "$N3" 'e2e_loop:start()' >/dev/null
out=$("$KNIT" status "$N3" --cookie "$CK" 2>&1)
printf '%s\n' "$out" | head -1 | grep -qx "$N3@$(hostname -s): 1.0.0 (permanent) + 1 hot patch; old code in 1 module held by 0 processes" &&
    ok "status summary names the hot patch and the old code" || fail "status summary with a hot patch" "$out"
printf '%s\n' "$out" | grep -q "hot patch: e2e_fmt loaded from '$T/hp/e2e_fmt.beam'" &&
    ok "status: hot patch e2e_fmt and where it came from" || fail "status hot patch line" "$out"
# a patch as knit patch records it (application env knit/patches): status names it
ev "$N3" 'application:set_env(knit, patches, [#{id => "kp1", time => 1700000000, modules => [e2e_fmt], md5 => [{e2e_fmt, e2e_fmt:module_info(md5)}], dir => "/nowhere"}])' >/dev/null
out=$("$KNIT" status "$N3" --cookie "$CK" 2>&1)
printf '%s\n' "$out" | grep -q "hot patch: e2e_fmt .*\[knit patch kp1\]" &&
    ok "status: the hot patch is knit patch kp1" || fail "status knit patch on the module" "$out"
printf '%s\n' "$out" | grep -qx "  knit patch kp1: e2e_fmt" && ok "status lists knit's recorded patches" ||
    fail "status knit patch list" "$out"
# old code held by a process: reload e2e_loop while the looper runs its current code
ev "$N3" 'code:purge(e2e_loop), {ok, B, F} = erl_prim_loader:get_file(code:which(e2e_loop)), code:load_binary(e2e_loop, F, B)' >/dev/null
out=$("$KNIT" status "$N3" --cookie "$CK" 2>&1)
printf '%s\n' "$out" | grep -q "old code: e2e_loop, held by <[0-9.]*> (e2e_looper, erlang:apply/2)" &&
    ok "status: old code of e2e_loop held by e2e_looper" || fail "status old code line" "$out"
printf '%s\n' "$out" | head -1 | grep -q "old code in 2 modules held by 1 process" &&
    ok "status summary: old code in 2 modules (e2e_fmt, e2e_loop), held by 1 process" || fail "status summary old code" "$out"
# the looper back on current code: restart it
ev "$N3" 'exit(whereis(e2e_looper), kill), code:purge(e2e_loop), timer:sleep(100), e2e_loop:start()' >/dev/null

# --- bad input, each leaving the node unchanged
expect_exit "install on an unknown node: exit 4" 4 "$KNIT" install "nosuch_$$" "$UP2" --cookie "$CK"
expect_exit "install with a wrong cookie: exit 4 (not reached)" 4 "$KNIT" install "$N1" "$UP2" --cookie wrong
case $ERR in *"cookie rejected by $N1@"*) ok "wrong cookie named" ;; *) fail "wrong cookie message" "$ERR" ;; esac
unchanged "wrong cookie" "$N1"
kill -STOP "$(eval echo \$PID_$N2)"
expect_exit "install on a stopped node: exit 4" 4 timeout 60 "$KNIT" install "$N1" "$N2" "$UP2" --cookie "$CK" --timeout 3
case $ERR in *"timed out after 3 s"*"$N2"*) ok "stopped node: timed out, named" ;; *) fail "timeout message" "$ERR" ;; esac
kill -CONT "$(eval echo \$PID_$N2)"
unchanged "stopped node" "$N1"
unchanged "stopped node" "$N2"
# another release's tarball: the same files, the release renamed
mkdir -p "$T/other"
tar -xzf "$UP2" -C "$T/other"
for f in "$T/other/releases/e2e-2.0.0.rel" "$T/other/releases/2.0.0/e2e.rel"; do
    [ -f "$f" ] && sed -i 's/"e2e"/"other"/' "$f"
done
mv "$T/other/releases/e2e-2.0.0.rel" "$T/other/releases/other-2.0.0.rel" 2>/dev/null
(cd "$T/other" && tar -czf "$T/other-2.0.0.tar.gz" releases lib)
expect_exit "another release's tarball: exit 5" 5 "$KNIT" install "$N1" "$T/other-2.0.0.tar.gz" --cookie "$CK"
case $ERR in *"release 'other'"*"runs release 'e2e'"*) ok "another release: both names said" ;; *) fail "other release message" "$ERR" ;; esac
unchanged "another release" "$N1"
cp "$UP2" "$T/bad.tar.gz"
size=$(stat -c %s "$UP2")
head -c 512 /dev/urandom | dd of="$T/bad.tar.gz" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_exit "corrupted tarball: refused (exit 2)" 2 "$KNIT" install "$N1" "$T/bad.tar.gz" --cookie "$CK"
case $ERR in *"refused before anything is sent"*) ok "corrupted tarball: refused before the upload" ;; *) fail "corrupted message" "$ERR" ;; esac
unchanged "corrupted tarball" "$N1"
PLAIN=kn_plain_$$
erl -sname "$PLAIN" -setcookie "$CK" -noshell -noinput >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do ev "$PLAIN" ok >/dev/null 2>&1 && break; sleep 0.5; done
expect_exit "a node not started as a release: exit 5" 5 "$KNIT" install "$PLAIN" "$UP2" --cookie "$CK"
case $ERR in *"not started as a release"*) ok "plain node: said" ;; *) fail "plain node message" "$ERR" ;; esac
"$TOOL" "$N1" --cookie "$CK" lock install 8 >"$T/lock" 2>&1 &
LPID=$!
for _ in $(seq 1 40); do grep -q locked "$T/lock" && break; sleep 0.25; done
expect_exit "a second install while the node is locked: exit 5" 5 "$KNIT" install "$N1" "$UP2" --cookie "$CK"
case $ERR in *"locked by another knit"*) ok "lock: the second install refuses" ;; *) fail "lock message" "$ERR" ;; esac
wait "$LPID"
unchanged "locked" "$N1"

# --- three nodes, N3 fails the pre-flight (looper + hot patch): nothing changes anywhere
out=$("$KNIT" install "$N1" "$N2" "$N3" "$UP2" --cookie "$CK" 2>&1)
rc=$?
[ $rc = 5 ] && ok "three nodes, one failing the pre-flight: exit 5" || fail "three nodes pre-flight exit $rc" "$out"
printf '%s\n' "$out" | grep -q "would be killed by the purge of e2e_loop: <[0-9.]*> (e2e_looper" &&
    ok "pre-flight names the looping process" || fail "pre-flight looper" "$out"
printf '%s\n' "$out" | grep -q "hot patch undone: e2e_fmt" && ok "pre-flight names the hot patch" ||
    fail "pre-flight hot patch" "$out"
printf '%s\n' "$out" | grep -q "pre-flight failed on $N3@" && ok "the failing node is named" ||
    fail "failing node named" "$out"
for n in "$N1" "$N2" "$N3"; do unchanged "pre-flight failure" "$n"; done
[ "$(ev "$N3" 'is_pid(whereis(e2e_looper))')" = true ] && ok "the looper still runs" || fail "looper gone"
# --dry-run --json: the pre-flight only
js=$("$KNIT" install "$N3" "$UP2" --cookie "$CK" --dry-run --force --json 2>/dev/null)
rc=$?
[ $rc = 0 ] && ok "--dry-run --force: exit 0" || fail "--dry-run exit $rc" "$js"
[ "$(printf '%s' "$js" | jq -r '.nodes[0].preflight.would_kill[0].name')" = e2e_looper ] &&
    ok "--json pre-flight: would_kill e2e_looper" || fail "--json would_kill" "$js"
[ "$(printf '%s' "$js" | jq -r '.nodes[0].preflight.patches_undone[0].module')" = e2e_fmt ] &&
    ok "--json pre-flight: patches_undone e2e_fmt" || fail "--json patches_undone" "$js"
unchanged "dry run" "$N3"

# --- N3 with --force: the looper is killed and reported; N1, N2 normally
COUNT_BEFORE=$(ev "$N1" '[e2e_counter:bump() || _ <- lists:seq(1, 3)], lists:sort(maps:to_list(sys:get_state(e2e_counter)))')
out=$("$KNIT" install "$N3" "$UP2" --cookie "$CK" --force 2>&1)
rc=$?
[ $rc = 0 ] && ok "install --force: exit 0" || fail "install --force exit $rc" "$out"
printf '%s\n' "$out" | grep -q "killed by the purge of e2e_loop: <[0-9.]*> (e2e_looper" &&
    ok "install --force reports the killed looper" || fail "killed report" "$out"
[ "$(ev "$N3" 'whereis(e2e_looper)')" = undefined ] && ok "the looper is gone" || fail "looper still there"
[ "$(ev "$N3" "$RELS")" = '[{"1.0.0",old},{"2.0.0",permanent}]' ] && ok "$N3 runs 2.0.0 permanent" ||
    fail "$N3 releases after install" "$(ev "$N3" "$RELS")"
js=$("$KNIT" install "$N1" "$N2" "$UP2" --cookie "$CK" --json 2>/dev/null)
rc=$?
[ $rc = 0 ] && ok "install on two nodes: exit 0" || fail "install two nodes exit $rc" "$js"
[ "$(printf '%s' "$js" | jq -r '[.nodes[].phases[].phase] | join(",")')" = \
    "connect,inspect,upload,unpack,preflight,install,permanent,connect,inspect,upload,unpack,preflight,install,permanent" ] &&
    ok "--json: every phase of both nodes" || fail "--json phases" "$(printf '%s' "$js" | jq -c '[.nodes[].phases[].phase]')"
for n in "$N1" "$N2"; do
    [ "$(ev "$n" "$RELS")" = '[{"1.0.0",old},{"2.0.0",permanent}]' ] && ok "$n runs 2.0.0 permanent" ||
        fail "$n releases after install" "$(ev "$n" "$RELS")"
done
STATE2=$(ev "$N1" 'lists:sort(maps:to_list(sys:get_state(e2e_counter)))')
[ "$STATE2" = '[{count,3},{label,"set-by-extra-b"}]' ] && ok "state converted up" || fail "state after install" "$STATE2 (before $COUNT_BEFORE)"
expect_exit "installing 2.0.0 again: exit 5" 5 "$KNIT" install "$N1" "$UP2" --cookie "$CK"

# --- downgrade --dry-run: the pre-flight only, the node stays on 2.0.0
expect_exit "downgrade --dry-run: exit 0" 0 "$KNIT" downgrade "$N1" 1.0.0 --dry-run --cookie "$CK"
[ "$(ev "$N1" "$RELS")" = '[{"1.0.0",old},{"2.0.0",permanent}]' ] && ok "downgrade --dry-run: still 2.0.0 permanent" ||
    fail "releases after downgrade --dry-run" "$(ev "$N1" "$RELS")"

# --- downgrade N1 to 1.0.0: the state converted back; then remove 2.0.0
js=$("$KNIT" downgrade "$N1" 1.0.0 --cookie "$CK" --json 2>/dev/null)
rc=$?
[ $rc = 0 ] && ok "downgrade: exit 0" || fail "downgrade exit $rc" "$js"
[ "$(printf '%s' "$js" | jq -r '.nodes[0].after')" = 1.0.0 ] && ok "downgrade --json: after 1.0.0" || fail "downgrade json" "$js"
[ "$(ev "$N1" "$RELS")" = '[{"1.0.0",permanent},{"2.0.0",old}]' ] && ok "$N1 back on 1.0.0 permanent" ||
    fail "$N1 releases after downgrade" "$(ev "$N1" "$RELS")"
st=$(ev "$N1" 'lists:sort(maps:to_list(sys:get_state(e2e_counter)))')
[ "$st" = '[{count,3}]' ] && ok "downgrade: state converted back" || fail "state after downgrade" "$st"
[ "$(ev "$N1" 'e2e_fmt:tag()')" = fmt_a ] && ok "downgrade: 1.0.0 code answers" || fail "code after downgrade"
js=$("$KNIT" remove "$N1" 2.0.0 --cookie "$CK" --json 2>/dev/null)
rc=$?
[ $rc = 0 ] && ok "remove: exit 0" || fail "remove exit $rc" "$js"
[ "$(printf '%s' "$js" | jq -r '.command')" = remove ] && ok "remove --json" || fail "remove json" "$js"
unchanged "after downgrade + remove" "$N1"
expect_exit "remove of the permanent release: exit 5" 5 "$KNIT" remove "$N1" 1.0.0 --cookie "$CK"
expect_exit "downgrade to a release the node lacks: exit 5" 5 "$KNIT" downgrade "$N2" 0.9.0 --cookie "$CK"
js=$("$KNIT" install "nosuch_$$" "$UP2" --cookie "$CK" --json 2>/dev/null)
[ "$(printf '%s' "$js" | jq -r '.error.exit_code')" = 4 ] && ok "--json of a failed install: error.exit_code 4" ||
    fail "--json error" "$js"
expect_exit "install without a tarball: usage" 1 "$KNIT" install "$N1"
expect_exit "bad --timeout: usage" 1 "$KNIT" status "$N1" --timeout x

# --- a failure during install: N4's e2e_counter hangs (release_handler waits 30 s to suspend
# it), knit's call times out after 8 s: it stops, N1 (installed first) runs 2.0.0 current
N4=kn4_$$
if boot "$N4"; then
    ev "$N4" 'spawn(fun() -> sys:replace_state(e2e_counter, fun(S) -> timer:sleep(45000), S end, 60000) end), ok' >/dev/null
    sleep 1
    out=$(timeout 200 "$KNIT" install "$N1" "$N4" "$UP2" --cookie "$CK" --timeout 8 2>&1)
    rc=$?
    [ $rc = 4 ] && ok "install stopped by a node during install: exit 4" || fail "midway failure exit $rc" "$out"
    case $out in
    *"timed out after 8 s waiting for $N4@"*"install_release"*"stopped: $N1@$(hostname -s) runs 2.0.0 (current), $N4@$(hostname -s) runs "*)
        ok "the report says which node runs which version" ;;
    *) fail "midway failure report" "$out" ;;
    esac
    [ "$(ev "$N1" "$RELS")" = '[{"1.0.0",permanent},{"2.0.0",current}]' ] &&
        ok "$N1: 2.0.0 installed, not made permanent after the stop" || fail "$N1 after the stop" "$(ev "$N1" "$RELS")"
fi

for n in "$N1" "$N2" "$N3" "$N4"; do ev "$n" 'init:stop()' >/dev/null 2>&1; done
ev "$PLAIN" 'init:stop()' >/dev/null 2>&1
finish
