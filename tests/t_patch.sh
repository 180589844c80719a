#!/usr/bin/env bash
# t_patch.sh - `knit patch` on live nodes: plain `erl -name` nodes (no release) running the
# fixture application kp of tests/patch/v1 are patched with beams of tests/patch/v2, compiled
# here by erlc. (a) kp_srv's state changes shape: code_change/3 gets the old vsn "1" read
# from v1's file and the knit_extra term, and the same process keeps serving; (b) kp_srv ->
# kp_calc -> kp_fmt load callee first in one suspend group while a client calls all along;
# (c) kp_sup's child specs are updated and its knit_apply starts the new child; (d) the
# spawned kp_loop (local-call recursion) is named by the pre-flight, which stops the patch
# (exit 5) unless --force; --add; (f) two nodes patched together, and a node failing the
# pre-flight stops the patch on both; (g) all of it on nodes without a release. (e) needs a
# release: `knit install` of a release without the fix warns. Last, the manual way measured
# on a fresh node: what l/1 and nl/1 do to the same modules (the README quotes it).
source "$(dirname "$0")/lib.sh"
T=$(tmpdir)
OTP_ROOT=$(erl -noshell -eval 'io:put_chars(code:root_dir()), halt().')
ERL_CALL=$OTP_ROOT/bin/erl_call
COOKIE=c$RANDOM$RANDOM
NODES=() # "ospid name" of every node started here
cleanup() {
    local e pid name i
    for e in "${NODES[@]+"${NODES[@]}"}"; do
        read -r pid name <<<"$e"
        kill -0 "$pid" 2>/dev/null || continue
        timeout 20 "$ERL_CALL" -n "$name" -c "$COOKIE" -a 'erlang halt' >/dev/null 2>&1
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

if [ ! -x "$ERL_CALL" ] || ! command -v jq >/dev/null; then
    fail "t_patch needs erl_call ($ERL_CALL) and jq"
    finish
    exit
fi

# --- the fixture: v1 and v2 of application kp, compiled by erlc
for v in v1 v2 v3; do
    mkdir -p "$T/$v/ebin"
    erlc -o "$T/$v/ebin" "$TOP"/tests/patch/$v/*.erl || fail "erlc $v"
    cp "$TOP/tests/patch/kp.app" "$T/$v/ebin/"
done
V1=$T/v1/ebin
V2=$T/v2/ebin
PATCH1=("$V2/kp_srv.beam" "$V2/kp_calc.beam" "$V2/kp_fmt.beam" "$V2/kp_sup.beam" "$V2/kp_idle.beam")

# rpc NODE EXPR - evaluate EXPR (expressions ending in '.') on NODE; prints {ok, Term} or
# the error, as erl_call prints terms
rpc() {
    printf '%s\n' "$2" | timeout 60 "$ERL_CALL" -n "$1" -c "$COOKIE" -timeout 50 -e 2>&1
}
# expect_rpc DESC NODE EXPR WANT - EXPR on NODE must give {ok, WANT}
expect_rpc() {
    local out
    out=$(rpc "$2" "$3")
    if [ "$out" = "{ok, $4}" ]; then ok "$1"; else fail "$1" "expr:     $3
expected {ok, $4}
got      $out"; fi
}

# start_node NAME [DIR] - a plain node (no release, no sasl started) with kp started from
# DIR's ebin (v1 by default) and the kp_loop process spawned; its cwd is T/NAME
start_node() {
    local name=$1@127.0.0.1 i=0
    mkdir -p "$T/$1"
    (cd "$T/$1" && exec erl -name "$name" -setcookie "$COOKIE" -noshell -noinput \
        -pa "${2:-$V1}" -eval 'ok = application:start(kp), ok = kp_loop:start()' \
        >"$T/$1.log" 2>&1) &
    NODES+=("$! $name")
    while [ $i -lt 60 ]; do
        [ "$(rpc "$name" 'whereis(kp_loop) =/= undefined.')" = "{ok, true}" ] && return 0
        sleep 0.5
        i=$((i + 1))
    done
    fail "node $name did not start" "$(cat "$T/$1.log")"
    return 1
}

# knit_patch ARGS... - run knit patch with this run's cookie: stdout in $OUT, stderr in
# $ERR, exit code in $RC
knit_patch() {
    timeout 120 "$KNIT" patch --cookie "$COOKIE" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

X_MD5='[{M, case code:is_loaded(M) of false -> no; _ -> binary:encode_hex(M:module_info(md5)) end} || M <- [kp_srv, kp_calc, kp_fmt, kp_sup, kp_loop, kp_new]].'
md5_of() { erl -noshell -eval "{ok, {_, M}} = beam_lib:md5(\"$1\"), io:put_chars(binary:encode_hex(M)), halt()."; }

# --- the command line, before any node is involved
expect_exit "no beam given: usage error" 1 "$KNIT" patch somenode@127.0.0.1
case $ERR in *"no BEAM or EBIN_DIR given"*"try 'knit --help'"*) ok "it says what is missing" ;;
*) fail "usage message without beams" "$ERR" ;; esac
expect_exit "no node given: usage error" 1 "$KNIT" patch "$V2/kp_srv.beam"
expect_exit "an unknown option: usage error" 1 "$KNIT" patch n@127.0.0.1 "$V2" --frob
expect_exit "a node given twice: usage error" 1 "$KNIT" patch n@127.0.0.1 n@127.0.0.1 "$V2"
expect_exit "a bad --timeout: usage error" 1 "$KNIT" patch n@127.0.0.1 "$V2" --timeout x
printf 'not a beam' >"$T/bad.beam"
expect_exit "a file that is no beam: exit 2" 2 "$KNIT" patch n@127.0.0.1 "$T/bad.beam"
case $ERR in *"bad.beam"*) ok "the bad beam is named" ;; *) fail "bad beam message" "$ERR" ;; esac
expect_exit "a module given twice: exit 2" 2 "$KNIT" patch n@127.0.0.1 "$V1" "$V2/kp_srv.beam"

A=pa$RANDOM@127.0.0.1
start_node "${A%@*}" || {
    finish
    exit
}
ok "plain node $A is up (no release)"
V1MD5=$(md5_of "$V1/kp_srv.beam")
expect_rpc "kp_srv starts on v1's state shape" "$A" 'kp_srv:bump(), kp_srv:bump(), kp_srv:info().' '{count, 2}'
SRV_PID=$(rpc "$A" 'pid_to_list(whereis(kp_srv)).')
LOOP_PID=$(rpc "$A" 'pid_to_list(whereis(kp_loop)).' | sed -n 's/^{ok, "\(.*\)"}$/\1/p')
BEFORE=$(rpc "$A" "$X_MD5")

# --- refusals that leave the node as it was
knit_patch "$A" "$V2"
if [ $RC = 5 ] && [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] &&
    printf '%s' "$ERR" | grep -q "kp_new.*not loaded.*--add"; then
    ok "a module that is not loaded: one line, exit 5, --add suggested"
else
    fail "patch with an unloaded module" "exit $RC: $ERR"
fi
knit_patch "$A" "$V2/kp_loop.beam" --dry-run
if [ $RC = 5 ] && printf '%s' "$ERR$OUT" | grep -q "kp_loop" &&
    [ -n "$LOOP_PID" ] && printf '%s' "$ERR$OUT" | grep -qF "$LOOP_PID"; then
    ok "(d) the pre-flight names the spawned kp_loop process (pid and name), exit 5"
else
    fail "(d) pre-flight of kp_loop" "exit $RC: $ERR $OUT"
fi
knit_patch "$A" "$V2/kp_loop.beam"
[ $RC = 5 ] && ok "(d) without --force the patch stops (exit 5)" ||
    fail "(d) kp_loop without --force" "exit $RC: $ERR $OUT"
AFTER=$(rpc "$A" "$X_MD5")
[ "$AFTER" = "$BEFORE" ] && ok "loaded md5s unchanged after the refusals" ||
    fail "refusals changed the node" "before $BEFORE
after  $AFTER"
expect_rpc "kp_loop still runs v1" "$A" 'kp_loop:ping().' '1'
knit_patch "$A" "${PATCH1[@]}" --dry-run --json
if [ $RC = 0 ] && [ "$(rpc "$A" "$X_MD5")" = "$BEFORE" ] &&
    [ "$(printf '%s' "$OUT" | jq -r '.dry_run')" = true ]; then
    ok "--dry-run: exit 0, plan printed, nothing loaded"
else
    fail "--dry-run" "exit $RC: $ERR $OUT"
fi

# --- (a) (b) (c): patch 1, with a client calling kp_srv all along
rpc "$A" 'register(kp_client, spawn(fun() -> L = fun L(Ok, Bad) -> receive {stop, P} -> P ! {client, Ok, Bad} after 0 -> case catch kp_srv:calc(1) of {_, _} -> L(Ok + 1, Bad); _ -> L(Ok, Bad + 1) end end end, L(0, 0) end)).' >/dev/null
knit_patch "$A" "${PATCH1[@]}" --json
if [ $RC = 0 ]; then ok "patch 1 applied (exit 0)"; else fail "patch 1" "exit $RC: $ERR $OUT"; fi
printf '%s' "$OUT" >"$T/p1.json"
J() { jq -r "$1" "$T/p1.json" 2>/dev/null; }
CLIENT=$(rpc "$A" 'kp_client ! {stop, self()}, receive {client, O, B} -> {O, B} after 5000 -> timeout end.')
case $CLIENT in
"{ok, {"*", 0}}") ok "(b) a client calling kp_srv:calc/1 throughout saw no error: $CLIENT" ;;
*) fail "(b) the client calling during the patch" "$CLIENT" ;;
esac
expect_rpc "(a) code_change/3 got old vsn \"1\" (from v1's file) and the knit_extra term" "$A" \
    'maps:with([from, extra], kp_srv:info()).' '#{extra => {migrate, 42}, from => "1"}'
expect_rpc "(a) the state was converted, count kept, and kp_srv keeps serving" "$A" \
    'kp_srv:bump(), maps:get(count, kp_srv:info()).' '3'
NOW_PID=$(rpc "$A" 'pid_to_list(whereis(kp_srv)).')
[ "$NOW_PID" = "$SRV_PID" ] && ok "(a) kp_srv pid unchanged ($NOW_PID)" ||
    fail "(a) kp_srv was restarted" "before $SRV_PID, after $NOW_PID"
expect_rpc "(b) kp_calc v2 calls kp_fmt v2" "$A" 'kp_srv:calc(2).' '{v2, 6}'
SCRIPT=$(J '.nodes[0].script')
order=$(printf '%s' "$SCRIPT" | grep -o '{suspend,\[kp_srv\]}\|{load,{kp_[a-z]*\|{resume,\[kp_srv\]}' |
    tr '\n' ' ')
if [ "$order" = "{suspend,[kp_srv]} {load,{kp_fmt {load,{kp_calc {load,{kp_srv {resume,[kp_srv]} {load,{kp_sup " ]; then
    ok "(b) one suspend group: kp_fmt, kp_calc, kp_srv loaded callee first"
else
    fail "(b) load order in the low-level script" "$order
$SCRIPT"
fi
expect_rpc "(c) kp_sup's child spec for kp_srv was updated (shutdown 1234)" "$A" \
    '{ok, S} = supervisor:get_childspec(kp_sup, kp_srv), maps:get(shutdown, S).' '1234'
expect_rpc "(c) kp_sup's knit_apply started the new child kp_idle" "$A" \
    'is_pid(whereis(kp_idle)).' 'true'
[ "$(J '.nodes[0].unchanged | join(",")')" = kp_idle ] && ok "unchanged kp_idle skipped and listed" ||
    fail "unchanged list" "$(J '.nodes[0].unchanged')"
[ "$(J '.nodes[0].code_changed | sort | join(",")')" = "kp_srv,kp_sup" ] &&
    ok "report: code-changed kp_srv and kp_sup" || fail "code_changed" "$(cat "$T/p1.json")"
[ "$(J '.nodes[0].loaded | sort | join(",")')" = "kp_calc,kp_fmt,kp_srv,kp_sup" ] &&
    ok "report: loaded the four changed modules" || fail "loaded" "$(cat "$T/p1.json")"
[ "$(J '.nodes[0].killed | length')" = 0 ] && ok "report: nobody killed" ||
    fail "killed" "$(cat "$T/p1.json")"
PDIR=$(J '.nodes[0].dir')
WHICH=$(rpc "$A" 'code:which(kp_srv).')
case $WHICH in
"{ok, \"$PDIR/ebin/kp_srv.beam\"}") ok "kp_srv was loaded from the patch's own directory $PDIR" ;;
*) fail "code:which(kp_srv)" "$WHICH, patch dir $PDIR" ;;
esac
[ "$(md5_of "$V1/kp_srv.beam")" = "$V1MD5" ] && ok "v1's kp_srv.beam on disk is untouched" ||
    fail "v1's kp_srv.beam was changed"
REC=$(rpc "$A" '{ok, L} = application:get_env(knit, patches), [{maps:get(id, P), lists:sort(maps:get(modules, P))} || P <- L].')
ID1=$(J '.id')
case $REC in
"{ok, [{\"$ID1\", [kp_calc, kp_fmt, kp_srv, kp_sup]}]}") ok "the patch is recorded on the node (knit/patches env)" ;;
*) fail "patch record" "$REC (id $ID1)" ;;
esac

# --- patching again with the same beams: nothing to do
knit_patch "$A" "${PATCH1[@]}"
if [ $RC = 0 ] && printf '%s' "$OUT$ERR" | grep -qi "nothing to patch"; then
    ok "the same beams again: nothing to patch, exit 0"
else
    fail "re-patch" "exit $RC: $OUT $ERR"
fi

# --- (d) with --force: kp_loop is killed, and the report says so
knit_patch "$A" "$V2/kp_loop.beam" --force --json
KILLED=$(printf '%s' "$OUT" | jq -r '.nodes[0].killed[] | .name + " " + .pid' 2>/dev/null)
if [ $RC = 0 ] && [ "$KILLED" = "kp_loop $LOOP_PID" ]; then
    ok "(d) --force: the report lists kp_loop as killed"
else
    fail "(d) --force" "exit $RC killed='$KILLED' pid $LOOP_PID: $ERR $OUT"
fi
expect_rpc "(d) kp_loop is gone, v2 loaded" "$A" \
    "{ok, {_, Md5}} = beam_lib:md5(\"$V2/kp_loop.beam\"), {whereis(kp_loop), kp_loop:module_info(md5) =:= Md5}." \
    '{undefined, true}'

# --- --add
knit_patch "$A" "$V2/kp_new.beam"
[ $RC = 5 ] && ok "kp_new not loaded: refused without --add" || fail "kp_new without --add" "exit $RC: $ERR"
knit_patch "$A" "$V2/kp_new.beam" --add
[ $RC = 0 ] && ok "--add loads kp_new" || fail "--add" "exit $RC: $ERR $OUT"
expect_rpc "kp_new:hello() answers" "$A" 'kp_new:hello().' 'new'
expect_rpc "three patches recorded" "$A" '{ok, L} = application:get_env(knit, patches), length(L).' '3'

# --- (f) two nodes: a pre-flight failure on one stops both; then both are patched
B=pb$RANDOM@127.0.0.1
C=pc$RANDOM@127.0.0.1
start_node "${B%@*}" && start_node "${C%@*}" || {
    finish
    exit
}
rpc "$B" 'exit(whereis(kp_loop), kill).' >/dev/null
B0=$(rpc "$B" "$X_MD5")
C0=$(rpc "$C" "$X_MD5")
knit_patch "$B" "$C" "${PATCH1[@]}" "$V2/kp_loop.beam"
if [ $RC = 5 ] && printf '%s' "$ERR$OUT" | grep -q "$C" &&
    [ "$(rpc "$B" "$X_MD5")" = "$B0" ] && [ "$(rpc "$C" "$X_MD5")" = "$C0" ]; then
    ok "(f) $C fails the pre-flight: exit 5, and neither node loaded anything"
else
    fail "(f) pre-flight failure on one node" "exit $RC: $ERR $OUT"
fi
knit_patch "$B" "$C" "${PATCH1[@]}" --json
[ $RC = 0 ] && ok "(f) two nodes patched together" || fail "(f) two nodes" "exit $RC: $ERR $OUT"
for n in "$B" "$C"; do
    expect_rpc "(f) $n: code_change ran, kp_srv serves" "$n" \
        '{maps:get(from, kp_srv:info()), kp_srv:calc(1)}.' '{"1", {v2, 3}}'
done
[ "$(printf '%s' "$OUT" | jq -r '[.nodes[].node] | join(" ")')" = "$B $C" ] &&
    ok "(f) the report has both nodes" || fail "(f) report nodes" "$OUT"

# --- a patch whose code_change fails on the first node: the evaluator stops there (its
# suspended processes are resumed), the second node is not touched, exit 5 says where
C1=$(rpc "$C" "$X_MD5")
knit_patch "$B" "$C" "$T/v3/ebin/kp_srv.beam"
if [ $RC = 5 ] && printf '%s' "$ERR" | grep -q "stopped midway on $B; not loaded on $C"; then
    ok "a failing code_change: exit 5, the message says where it stopped and where nothing loaded"
else
    fail "failing code_change" "exit $RC: $ERR"
fi
expect_rpc "after the failure $B's kp_srv is resumed and serves" "$B" 'is_integer(kp_srv:bump()).' 'true'
[ "$(rpc "$C" "$X_MD5")" = "$C1" ] && ok "$C was not touched" || fail "$C changed after $B failed"

# --- unreachable node, wrong cookie: exit 4, one line, and --json still gives a document
knit_patch nosuch$RANDOM@127.0.0.1 "${PATCH1[@]}" --json
if [ $RC = 4 ] && [ "$(printf '%s' "$OUT" | jq -r '.error.exit_code')" = 4 ]; then
    ok "an unreachable node: exit 4, JSON error document"
else
    fail "unreachable node" "exit $RC: $ERR $OUT"
fi
timeout 60 "$KNIT" patch --cookie wrong$RANDOM "$B" "${PATCH1[@]}" >/dev/null 2>"$T/err"
RC=$?
# SPEC: "exit 4 or 5"; the connection layer says 5 (the node refused the handshake)
if { [ $RC = 4 ] || [ $RC = 5 ]; } && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "$B" "$T/err" &&
    grep -qi cookie "$T/err"; then
    ok "a wrong cookie: exit $RC, one line naming the node and the cookie"
else
    fail "wrong cookie" "exit $RC: $(cat "$T/err")"
fi

# --- (e) a node running a release: patched, then `knit install` of a release without the fix
# must warn that the upgrade would undo the patch. Releases kp 1.0.0 (v1) and 1.0.1 (v1
# plus an unrelated change to kp_srv: no fix) are built by knit.
R=pr$RANDOM@127.0.0.1
E=$T/rel
for rv in 1.0.0 1.0.1; do
    d=$E/$rv
    mkdir -p "$d/lib/kp-$rv/ebin" "$d/files"
    cp "$TOP"/tests/patch/v1/*.erl "$d/"
    if [ $rv = 1.0.1 ]; then
        sed -i '1a -export([unrelated/0]).' "$d/kp_srv.erl"
        echo 'unrelated() -> ok.' >>"$d/kp_srv.erl"
    fi
    erlc -o "$d/lib/kp-$rv/ebin" "$d"/*.erl || fail "(e) erlc $rv"
    sed "s/{vsn, \"1.0.0\"}/{vsn, \"$rv\"}/" "$TOP/tests/patch/kp.app" >"$d/lib/kp-$rv/ebin/kp.app"
    cat >"$d/reltool.config" <<CFG
{sys, [{lib_dirs, ["lib"]},
       {rel, "kp", "$rv", [kernel, stdlib, sasl, kp]},
       {rel, "start_clean", "", [kernel, stdlib]},
       {boot_rel, "kp"}, {profile, embedded}, {incl_cond, exclude},
       {excl_archive_filters, [".*"]},
       {app, kernel, [{incl_cond, include}]}, {app, stdlib, [{incl_cond, include}]},
       {app, sasl, [{incl_cond, include}]}, {app, kp, [{incl_cond, include}]}]}.
{target_dir, "."}.
{release_dir, "../releases"}.
{upgrade_dir, "../upgrades"}.
{overlay, [{copy, "files/vm.args", "releases/{{rel_vsn}}/vm.args"},
           {copy, "files/sys.config", "releases/{{rel_vsn}}/sys.config"}]}.
CFG
    printf -- '-name %s\n-setcookie %s\n' "$R" "$COOKIE" >"$d/files/vm.args"
    echo '[{sasl, [{sasl_error_logger, false}]}].' >"$d/files/sys.config"
done
if (cd "$E/1.0.0" && "$KNIT" -q >"$T/k1.out" 2>&1) && (cd "$E/1.0.1" && "$KNIT" -q >"$T/k2.out" 2>&1) &&
    [ -f "$E/upgrades/kp-1.0.1.tar.gz" ]; then
    mkdir -p "$E/root"
    tar -xzf "$E/releases/kp-1.0.0.tar.gz" -C "$E/root"
    (cd "$E/root" && exec bin/kp foreground >"$T/rel.log" 2>&1) &
    NODES+=("$! $R")
    i=0
    until [ "$(rpc "$R" 'is_pid(whereis(kp_srv)).')" = "{ok, true}" ] || [ $i -ge 120 ]; do
        sleep 0.5
        i=$((i + 1))
    done
    knit_patch "$R" "$V2/kp_srv.beam" "$V2/kp_calc.beam" "$V2/kp_fmt.beam" --json
    printf '%s' "$OUT" >"$T/e.json"
    [ $RC = 0 ] && ok "(e) a node running release kp 1.0.0 is patched" ||
        fail "(e) patching the release node" "exit $RC: $ERR $OUT $(tail -5 "$T/rel.log")"
    WHICH=$(rpc "$R" 'code:which(kp_srv).')
    case $WHICH in
    *"$E/root/releases/knit_patches/knit_patch-"*"/ebin/kp_srv.beam\"}") ok "(e) the patch directory is under the release's releases/ dir" ;;
    *) fail "(e) patch directory on a release node" "$WHICH" ;;
    esac
    timeout 300 "$KNIT" install --cookie "$COOKIE" "$R" "$E/upgrades/kp-1.0.1.tar.gz" >"$T/out" 2>"$T/err"
    RC=$?
    if [ $RC = 1 ] && grep -q "unknown command 'install'" "$T/err"; then
        fail "(e) knit install is not in this branch (it comes with the node branch)" "$(cat "$T/err")"
    elif [ $RC = 5 ] && grep -qi "hot patch undone" "$T/err" &&
        grep -q "hot patch undone: kp_srv.*knit patch $(jq -r .id "$T/e.json")" "$T/out"; then
        ok "(e) knit install of 1.0.1 names the patch of kp_srv it would undo, and stops (exit 5)"
    else
        fail "(e) knit install after a patch" "exit $RC: $(cat "$T/err" "$T/out")"
    fi
    STATUS=$(timeout 120 "$KNIT" status --cookie "$COOKIE" "$R" 2>&1)
    case $STATUS in
    *"$(jq -r .id "$T/e.json")"*) ok "(e) knit status lists the patch by its id" ;;
    *) fail "(e) knit status does not list the patch" "$STATUS" ;;
    esac
    expect_rpc "(e) the node still runs the patched kp_srv" "$R" \
        "kp_srv:module_info(md5) =:= element(2, element(2, beam_lib:md5(\"$V2/kp_srv.beam\")))." 'true'
else
    fail "(e) building releases kp 1.0.0 and 1.0.1 with knit" "$(cat "$T/k1.out" "$T/k2.out" 2>/dev/null)"
fi

# --- old code: after one l/1 of kp_loop v2, the kp_loop process runs old code; a patch of
# kp_loop would kill it at the load (brutal pre-purge): the pre-flight says so
D=pd$RANDOM@127.0.0.1
if start_node "${D%@*}"; then
    DPID=$(rpc "$D" "true = code:add_patha(\"$V2\"), c:l(kp_loop), pid_to_list(whereis(kp_loop))." |
        sed -n 's/^{ok, "\(.*\)"}$/\1/p')
    knit_patch "$D" "$V1/kp_loop.beam" --dry-run
    if [ $RC = 5 ] && [ -n "$DPID" ] && printf '%s' "$ERR" | grep -qF "$DPID (kp_loop" && printf '%s' "$ERR" | grep -q "runs old code of 'kp_loop'"; then
        ok "a process on old code is named by the pre-flight (it would die at the load)"
    else
        fail "old-code pre-flight" "exit $RC pid $DPID: $ERR"
    fi
fi

# --- the manual way, measured on a fresh node M: l/1 then nl/1 with v2 first in the path
M=pm$RANDOM@127.0.0.1
start_node "${M%@*}" || {
    finish
    exit
}
MANUAL=$(rpc "$M" "
    Before = {whereis(kp_srv), whereis(kp_loop)},
    kp_srv:bump(), kp_srv:bump(), {v1, 2} = kp_srv:calc(1),
    true = code:add_patha(\"$V2\"),
    c:l(kp_calc),
    Between = case catch kp_calc:calc(1) of {'EXIT', {undef, _}} -> undef; O -> O end,
    [c:l(Mod) || Mod <- [kp_fmt, kp_srv, kp_sup, kp_loop]],
    {ok, Spec} = supervisor:get_childspec(kp_sup, kp_srv),
    Call = (catch kp_srv:bump()),
    timer:sleep(200),
    AfterL = {whereis(kp_srv), whereis(kp_loop)},
    Info = (catch kp_srv:info()),
    c:nl(kp_loop),
    timer:sleep(200),
    AfterNl = whereis(kp_loop),
    [{calc_between_loads, Between},
     {sup_shutdown, maps:get(shutdown, Spec)},
     {call_after_l, case Call of {'EXIT', _} -> crashed; _ -> Call end},
     {kp_srv_restarted, element(1, AfterL) =/= element(1, Before)},
     {kp_srv_state, Info},
     {kp_loop_alive_after_l, element(2, AfterL) =:= element(2, Before)},
     {kp_loop_alive_after_nl, AfterNl =:= element(2, Before)}].")
printf '%s\n' "$MANUAL" >"$T/manual"
case $MANUAL in
*"{calc_between_loads, undef}"*"{sup_shutdown, 5000}"*"{call_after_l, crashed}"*"{kp_srv_restarted, true}"*"{kp_srv_state, #{count => 0, extra => none, from => none}}"*"{kp_loop_alive_after_l, true}"*"{kp_loop_alive_after_nl, false}"*)
    ok "manual way: undef between l/1s, sup specs unchanged, kp_srv crashes (no code_change: state lost), nl/1 kills kp_loop"
    ;;
*) fail "manual way measurement" "$MANUAL" ;;
esac
[ -n "${VERBOSE:-}" ] && echo "  manual: $MANUAL"
finish
