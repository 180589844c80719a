#!/usr/bin/env bash
# tests/e2e/otp_flow.sh - the e2e upgrade scenario with pure OTP, no knit: proves the
# fixture (tests/e2e/A, B, C) and the appups knit must generate (tests/e2e/expected/)
# upgrade a running node. Compiles A, B, C with erlc; puts the expected appups in the new
# versions' ebin; systools makes the .rel/.boot/relup/tarballs (otp_rels.escript); boots
# 1.0.0 embedded in a fresh root with its own ERTS; applies 2.0.0 then 3.0.0 with
# release_handler (unpack/install/make_permanent) through erl_call; downgrades to 2.0.0;
# restarts; and on a second root goes from 1.0.0 to 3.0.0 in one step.
# Usage: tests/e2e/otp_flow.sh [-k]   (-k keeps the work dir). Exit 0 when all checks pass.
# Also leaves, with -k, WORK/rels/VSN/relup: the relups systools makes from those appups.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/e2e/node.sh"
E2E=$TOP/tests/e2e
KEEP=
[ "${1:-}" = -k ] && KEEP=1
W=$(tmpdir)
cleanup() {
    node_cleanup
    if [ -n "$KEEP" ]; then echo "work dir kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
EVSN=$(erl -noshell -eval 'io:put_chars(erlang:system_info(version)), halt().')
COOKIE=e2e_otp_cookie_$$

# --- build: compile, the expected appups, systools
for v in A B C; do
    "$E2E/build.sh" "$E2E/$v" "$W/$v/lib" || fail "compile $v"
done
cp "$E2E/expected/e2e_core-2.0.0.appup" "$W/B/lib/e2e_core-2.0.0/ebin/e2e_core.appup"
cp "$E2E/expected/e2e_core-3.0.0.appup" "$W/C/lib/e2e_core-3.0.0/ebin/e2e_core.appup"
cp "$E2E/expected/e2e_util-1.1.0.appup" "$W/C/lib/e2e_util-1.1.0/ebin/e2e_util.appup"
if out=$(escript "$E2E/otp_rels.escript" build "$W" "$E2E" 2>&1); then
    ok "systools: scripts, relups (from the expected appups) and tarballs"
else
    fail "systools: scripts, relups and tarballs" "$out"
    finish
    exit
fi

# install ROOT - the 1.0.0 tarball (with ERTS) as a target system in ROOT
install() {
    mkdir -p "$1"
    tar -xzf "$W/tars/e2e-1.0.0.tar.gz" -C "$1" &&
        escript "$E2E/otp_rels.escript" releases "$1" 1.0.0 &&
        printf '%s 1.0.0\n' "$EVSN" >"$1/releases/start_erl.data"
}

# boot ROOT - start the release start_erl.data names, embedded, in the background
boot() {
    local root=$1 vsn
    read -r _ vsn <"$root/releases/start_erl.data"
    ROOTDIR=$root BINDIR=$root/erts-$EVSN/bin EMU=beam PROGNAME=erl \
        "$root/erts-$EVSN/bin/erlexec" -boot "$root/releases/$vsn/start" -mode embedded \
        -config "$root/releases/$vsn/sys" -sname "$NODE" -setcookie "$COOKIE" \
        -noshell -noinput >>"$root/node.log" 2>&1 &
    local pid=$!
    remember_pid "$pid"
    BOOTED_PID=$pid
    if wait_up "$E2E_BOOT_WAIT"; then
        ok "$NODE: boots $vsn"
    else
        fail "$NODE: does not answer within ${E2E_BOOT_WAIT}s" "$(tail -20 "$root/node.log")"
        finish
        exit
    fi
}

# stop_node - init:stop and wait for the OS process to exit
stop_node() {
    rpc 'init:stop().' >/dev/null
    if wait_pid_gone "$BOOTED_PID" 120; then ok "$NODE: stops"; else fail "$NODE: does not stop"; fi
}

# upgrade VSN - release_handler's three calls, as an operator would type them
upgrade() {
    cp "$W/tars/e2e-$1.tar.gz" "$ROOT/releases/"
    expect_rpc "$NODE: unpack, install, make_permanent $1" "
        {ok, V} = release_handler:unpack_release(\"e2e-$1\"),
        {ok, From, _} = release_handler:install_release(V),
        ok = release_handler:make_permanent(V),
        {V, From}." "{\"$1\", \"$2\"}"
}

# install_again VSN FROM - install_release + make_permanent of a release already unpacked
install_again() {
    expect_rpc "$NODE: install_release $1, make_permanent" "
        {ok, Other, _} = release_handler:install_release(\"$1\"),
        ok = release_handler:make_permanent(\"$1\"),
        Other." "\"$2\""
}

A0='[{count, 0}]'
B0='[{count, 0}, {label, "fresh-b"}]'
C0='[{count, 0}, {hits, 0}, {label, "fresh-c"}]'

# --- root 1: 1.0.0 -> 2.0.0 -> 3.0.0, down to 2.0.0, restart, up to 3.0.0 again, restart
ROOT=$W/root1
NODE=e2e_otp1_$$
install "$ROOT" || fail "install 1.0.0 in $ROOT"
ERL_CALL=$ROOT/erts-$EVSN/bin/erl_call
boot "$ROOT"
check_release "otp 1.0.0" 1.0.0 fresh "$A0" 1.0.0:permanent
bump 3
upgrade 2.0.0 1.0.0
check_release "otp 1.0.0->2.0.0" 2.0.0 kept '[{count, 3}, {label, "set-by-extra-b"}]' \
    1.0.0:old 2.0.0:permanent
bump 2
upgrade 3.0.0 2.0.0
check_release "otp 2.0.0->3.0.0" 3.0.0 kept '[{count, 5}, {hits, 7}, {label, "set-by-extra-b"}]' \
    1.0.0:old 2.0.0:old 3.0.0:permanent
bump 1
# down: the old release 2.0.0 through 3.0.0's relup (down section)
install_again 2.0.0 2.0.0
check_release "otp 3.0.0->2.0.0 (down)" 2.0.0 kept '[{count, 6}, {label, "set-by-extra-b"}]' \
    1.0.0:old 2.0.0:permanent 3.0.0:old
stop_node
boot "$ROOT"
check_release "otp 2.0.0 restarted" 2.0.0 fresh "$B0" 1.0.0:old 2.0.0:permanent 3.0.0:old
install_again 3.0.0 2.0.0
check_release "otp 2.0.0->3.0.0 again" 3.0.0 kept '[{count, 0}, {hits, 7}, {label, "fresh-b"}]' \
    1.0.0:old 2.0.0:old 3.0.0:permanent
stop_node
boot "$ROOT"
check_release "otp 3.0.0 restarted" 3.0.0 fresh "$C0" 1.0.0:old 2.0.0:old 3.0.0:permanent
stop_node

# --- root 2: 1.0.0 -> 3.0.0 in one step
ROOT=$W/root2
NODE=e2e_otp2_$$
install "$ROOT" || fail "install 1.0.0 in $ROOT"
ERL_CALL=$ROOT/erts-$EVSN/bin/erl_call
boot "$ROOT"
check_release "otp 1.0.0 (root 2)" 1.0.0 fresh "$A0" 1.0.0:permanent
bump 6
upgrade 3.0.0 1.0.0
check_release "otp 1.0.0->3.0.0" 3.0.0 kept '[{count, 6}, {hits, 7}, {label, "set-by-extra-c"}]' \
    1.0.0:old 3.0.0:permanent
stop_node
boot "$ROOT"
check_release "otp 3.0.0 restarted (root 2)" 3.0.0 fresh "$C0" 1.0.0:old 3.0.0:permanent
stop_node

finish
rc=$?
echo "otp_flow: $T_PASS passed, $T_FAIL failed"
exit $rc
