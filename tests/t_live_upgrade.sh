#!/usr/bin/env bash
# t_live_upgrade.sh - the end-to-end proof: knit builds releases 1.0.0, 2.0.0, 3.0.0 of the
# fixture in tests/e2e (A, B, C) and their upgrade tarballs; the upgrades apply on a running
# node and nothing breaks. Root 1: boot 1.0.0 from its release tarball (bin/e2e start),
# refuse a corrupted tarball and one built from another from-version, upgrade to 2.0.0 and
# 3.0.0 with bin/e2e upgrade, down to 2.0.0, restarts. Root 2: 1.0.0 -> 3.0.0 in one step
# with the plain release_handler calls over erl_call. After each step, from outside the
# node: which_releases, the gen_server's process and converted state, the modules, the
# supervisor's children, the applications. knit's relups must equal systools' for the
# appups in tests/e2e/expected. tests/e2e/otp_flow.sh runs the same scenario with OTP only.
source "$(dirname "$0")/lib.sh"
source "$TOP/tests/e2e/node.sh"
E2E=$TOP/tests/e2e
T=$(tmpdir)
cleanup() {
    node_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000
NODE=e2e_live_$$
COOKIE=e2e_live_cookie_$$
P=$T/proj
EVSN=$(erl -noshell -eval 'io:put_chars(erlang:system_info(version)), halt().')
export CALL_TIMEOUT=$E2E_CALL_TIMEOUT START_WAIT=$E2E_BOOT_WAIT STOP_WAIT=120

# --- compile A, B, C (knit sees no appup: it generates them)
mkdir -p "$P"
for v in A B C; do
    cp -R "$E2E/$v" "$P/$v"
    rm -rf "$P/$v/lib"
    "$E2E/build.sh" "$P/$v" >/dev/null || fail "compile $v"
    # this run's node name and cookie, in the overlay vars (plain `knit` takes no others)
    printf '{node_name, "%s"}.\n{cookie, "%s"}.\n' "$NODE" "$COOKIE" >"$P/$v/files/vars.config"
done

# knit_in V ARGS... - run knit ARGS in project dir P/V (as a developer types it); its
# output in $OUT
knit_in() {
    local v=$1
    shift
    OUT=$(cd "$P/$v" && "$KNIT" "$@" 2>&1)
}

# tar_files TARBALL - its regular files, sorted, lib/APP-VSN/... folded to lib/APP-VSN/
tar_files() {
    tar -tzvf "$1" | awk '$1 !~ /^d/ {print $NF}' | sed -E 's|^\./||; s|^(lib/[^/]+/).*|\1|' | sort -u
}

# --- knit for A (nothing earlier: the release only), then B, then C
FLOW=1
for v in A B C; do
    vsn=$(sed -n 's/.*{rel, "e2e", "\([^"]*\)".*/\1/p' "$P/$v/reltool.config")
    knit_in "$v"
    rc=$?
    if [ $rc = 0 ]; then
        ok "knit in $v"
    elif [ $rc = 126 ] || printf '%s' "$OUT" | grep -q "unknown command"; then
        fail "knit in $v: knit's full flow (plain 'knit': release + upgrades) is not available yet" \
            "exit $rc: $OUT"
        FLOW=
        # still build the release tarball, so that what can be checked is
        knit_in "$v" release || fail "knit release in $v" "$OUT"
    else
        fail "knit in $v: exit $rc" "$OUT"
        FLOW=
    fi
    [ -f "$P/releases/e2e-$vsn.tar.gz" ] && ok "$v: release tarball e2e-$vsn.tar.gz" ||
        fail "$v: no release tarball releases/e2e-$vsn.tar.gz"
    # the generated appups equal tests/e2e/expected (the relups below depend on it; this
    # names the appup that differs). knit appup writes them into the build dir; run now,
    # each sees the same earlier releases as the build did
    if [ -n "$FLOW" ] && [ "$v" != A ]; then
        knit_in "$v" appup || fail "knit appup in $v" "$OUT"
        for f in "$E2E"/expected/*.appup; do
            app=$(basename "$f" .appup)
            case $v:$app in B:*-2.0.0 | C:*-3.0.0 | C:e2e_util-1.1.0) ;; *) continue ;; esac
            out=$(escript "$E2E/otp_rels.escript" appup_equal "$f" \
                "$P/$v/e2e/lib/$app/ebin/${app%%-*}.appup" 2>&1) &&
                ok "$app: generated appup equals tests/e2e/expected" ||
                fail "$app: generated appup differs (expected, then knit's)" "$out"
        done
    fi
    if [ "$v" = A ]; then
        [ -e "$P/upgrades/e2e-1.0.0.tar.gz" ] && fail "A: an upgrade tarball with no earlier release"
        printf '%s\n' "$OUT" | grep -qi warning && fail "A: warnings in the first release's build" "$OUT"
    fi
done

UP2=$P/upgrades/e2e-2.0.0.tar.gz
UP3=$P/upgrades/e2e-3.0.0.tar.gz
slim_files() {
    local vsn=$1
    shift
    printf '%s\n' "$@" "releases/e2e-$vsn.rel" "releases/$vsn/e2e.rel" "releases/$vsn/relup" \
        "releases/$vsn/e2e.boot" "releases/$vsn/start.boot" "releases/$vsn/start_clean.boot" \
        "releases/$vsn/sys.config" "releases/$vsn/vm.args" | sort
}
for up in "$UP2:2.0.0:lib/e2e_core-2.0.0/" \
    "$UP3:3.0.0:lib/e2e_core-3.0.0/ lib/e2e_extra-1.0.0/ lib/e2e_util-1.1.0/"; do
    IFS=: read -r f vsn libs <<<"$up"
    if [ ! -f "$f" ]; then
        fail "no upgrade tarball $(basename "$f") for $vsn"
        FLOW=
        continue
    fi
    # slim: only the application versions some from-release lacks, no ERTS, no bin/
    # shellcheck disable=SC2086
    d=$(diff <(slim_files "$vsn" $libs) <(tar_files "$f"))
    [ -z "$d" ] && ok "$vsn: slim upgrade tarball content" ||
        fail "$vsn: upgrade tarball content (< expected, > tarball)" "$d"
    mkdir -p "$T/knit-$vsn"
    tar -xzf "$f" -C "$T/knit-$vsn" "releases/$vsn/relup" "releases/$vsn/vm.args" 2>/dev/null
    grep -q -- "-sname $NODE\$" "$T/knit-$vsn/releases/$vsn/vm.args" 2>/dev/null &&
        ok "$vsn: vm.args from the overlay" || fail "$vsn: vm.args does not name $NODE"
done

# --- the relups equal systools' for the appups knit must generate (tests/e2e/expected);
# otp_rels.escript makes those with systools from a second compile of the same sources
W=$T/otp
for v in A B C; do "$E2E/build.sh" "$E2E/$v" "$W/$v/lib" >/dev/null || fail "compile $v (OTP side)"; done
cp "$E2E/expected/e2e_core-2.0.0.appup" "$W/B/lib/e2e_core-2.0.0/ebin/e2e_core.appup"
cp "$E2E/expected/e2e_core-3.0.0.appup" "$W/C/lib/e2e_core-3.0.0/ebin/e2e_core.appup"
cp "$E2E/expected/e2e_util-1.1.0.appup" "$W/C/lib/e2e_util-1.1.0/ebin/e2e_util.appup"
if out=$(escript "$E2E/otp_rels.escript" build "$W" "$E2E" 2>&1); then
    for vsn in 2.0.0 3.0.0; do
        [ -f "$T/knit-$vsn/releases/$vsn/relup" ] || continue
        out=$(escript "$E2E/otp_rels.escript" relup_equal "$W/rels/$vsn/relup" \
            "$T/knit-$vsn/releases/$vsn/relup" "$E2E"/expected/*-"$vsn".appup 2>&1) &&
            ok "$vsn: relup equals systools' from the expected appups" ||
            fail "$vsn: relup differs from systools' from tests/e2e/expected (systools, then knit)" "$out"
    done
else
    fail "OTP side: systools from the expected appups" "$out"
fi

# --- knit appup in B once C is built: only releases older than 2.0.0 are from-versions
if [ -n "$FLOW" ]; then
    knit_in B appup || fail "knit appup in B" "$OUT"
    ap=$P/B/e2e/lib/e2e_core-2.0.0/ebin/e2e_core.appup
    if [ ! -f "$ap" ]; then
        fail "knit appup in B wrote no lib/e2e_core-2.0.0/ebin/e2e_core.appup" "$OUT"
    elif grep -q '"3.0.0"' "$ap" || [ -f "$P/B/e2e/lib/e2e_util-1.0.0/ebin/e2e_util.appup" ]; then
        fail "knit appup in B takes the later release 3.0.0 as a from-version" "$OUT"
    else
        ok "knit appup in B: 1.0.0 only"
    fi
fi

# --- the two refusals' tarballs: a C upgrade built from 2.0.0 only, a corrupted B upgrade
mkdir -p "$T/bad"
if [ -n "$FLOW" ]; then
    knit_in C relup --from 2.0.0 "upgrade_dir=$T/fromB"
    rc=$?
    [ $rc = 0 ] && [ -f "$T/fromB/e2e-3.0.0.tar.gz" ] && ok "knit relup --from 2.0.0" ||
        fail "knit relup --from 2.0.0 (exit $rc)" "$OUT"
    cp "$UP2" "$T/bad/e2e-2.0.0.tar.gz"
    size=$(stat -c %s "$UP2")
    head -c 512 /dev/urandom | dd of="$T/bad/e2e-2.0.0.tar.gz" bs=1 seek=$((size / 2)) \
        conv=notrunc status=none
fi

# --- nodes. start ROOT: bin/e2e start, remember the OS pid
start_node() {
    local out
    if out=$(timeout 900 "$1/bin/e2e" start 2>&1) && wait_up 60; then
        ok "$NODE: bin/e2e start"
        BOOTED_PID=$(node_os_pid)
        remember_pid "$BOOTED_PID"
        return 0
    fi
    fail "$NODE: bin/e2e start" "$out
$(tail -20 "$1"/log/erlang.log.* 2>/dev/null)"
    return 1
}
stop_node() {
    local out
    out=$(timeout 900 "$1/bin/e2e" stop 2>&1)
    if [ $? = 0 ] && wait_pid_gone "$BOOTED_PID" 60; then ok "$NODE: bin/e2e stop"; else
        fail "$NODE: bin/e2e stop" "$out"
        node_cleanup
    fi
}
# script ROOT DESC ARGS... - bin/e2e ARGS must succeed; its output in $OUT
script() {
    local root=$1 desc=$2
    shift 2
    OUT=$(timeout 900 "$root/bin/e2e" "$@" 2>&1)
    local rc=$?
    [ $rc = 0 ] && ok "$desc" || fail "$desc (exit $rc)" "$OUT"
    return $rc
}
# refused ROOT DESC MUST_MENTION ARGS... - bin/e2e ARGS must fail, naming MUST_MENTION
refused() {
    local root=$1 desc=$2 words=$3 w
    shift 3
    OUT=$(timeout 900 "$root/bin/e2e" "$@" 2>&1)
    local rc=$?
    [ $rc != 0 ] && ok "$desc: refused" || fail "$desc: not refused" "$OUT"
    for w in $words; do
        printf '%s' "$OUT" | grep -qF -- "$w" && ok "$desc: the message names $w" ||
            fail "$desc: the message does not name $w" "$OUT"
    done
}

A0='[{count, 0}]'
B0='[{count, 0}, {label, "fresh-b"}]'
C0='[{count, 0}, {hits, 0}, {label, "fresh-c"}]'

boot_root() {
    mkdir -p "$1"
    tar -xzf "$P/releases/e2e-1.0.0.tar.gz" -C "$1" || { fail "extract e2e-1.0.0.tar.gz"; return 1; }
    ERL_CALL=$1/erts-$EVSN/bin/erl_call
    [ -x "$ERL_CALL" ] || { fail "no erts-$EVSN/bin/erl_call in the release"; return 1; }
    start_node "$1"
}

# --- root 1
R=$T/root1
if boot_root "$R"; then
    check_release "1.0.0" 1.0.0 fresh "$A0" 1.0.0:permanent
    bump 3
    if [ -n "$FLOW" ]; then
        S3='[{count, 3}]'
        refused "$R" "corrupted upgrade tarball" "2.0.0" upgrade "$T/bad/e2e-2.0.0.tar.gz"
        check_release "1.0.0 after the corrupted tarball" 1.0.0 kept "$S3" 1.0.0:permanent
        refused "$R" "3.0.0 built from 2.0.0 only, on 1.0.0" "1.0.0 3.0.0" \
            upgrade "$T/fromB/e2e-3.0.0.tar.gz"
        # left unpacked, the refused 3.0.0 would shadow the real 3.0.0 tarball
        # (unpack_release answers existing_release and its relup is the refused one):
        # remove it then, so that the steps below test the real tarball
        if rpc "$X_RELEASES" | grep -q '"3.0.0"'; then
            fail "the refused 3.0.0 is left unpacked on the node" "$(rpc "$X_RELEASES")"
            rpc 'release_handler:remove_release("3.0.0").' >/dev/null
        fi
        check_release "1.0.0 after the from-2.0.0-only tarball" 1.0.0 kept "$S3" 1.0.0:permanent

        cp "$UP2" "$R/releases/e2e-2.0.0.tar.gz"
        script "$R" "bin/e2e upgrade 2.0.0" upgrade 2.0.0
        check_release "1.0.0->2.0.0" 2.0.0 kept '[{count, 3}, {label, "set-by-extra-b"}]' \
            1.0.0:old 2.0.0:permanent
        bump 2
        script "$R" "bin/e2e upgrade TARBALL (3.0.0)" upgrade "$UP3"
        check_release "2.0.0->3.0.0" 3.0.0 kept '[{count, 5}, {hits, 7}, {label, "set-by-extra-b"}]' \
            1.0.0:old 2.0.0:old 3.0.0:permanent
        script "$R" "bin/e2e versions" versions &&
            { printf '%s' "$OUT" | grep -q '"3.0.0", \[[^]]*\], permanent' && ok "versions: 3.0.0 permanent" ||
                fail "versions does not show 3.0.0 permanent" "$OUT"; }
        bump 1
        script "$R" "bin/e2e downgrade 2.0.0" downgrade 2.0.0
        check_release "3.0.0->2.0.0 (down)" 2.0.0 kept '[{count, 6}, {label, "set-by-extra-b"}]' \
            1.0.0:old 2.0.0:permanent 3.0.0:old
        stop_node "$R"
        if start_node "$R"; then
            check_release "2.0.0 restarted" 2.0.0 fresh "$B0" 1.0.0:old 2.0.0:permanent 3.0.0:old
            script "$R" "bin/e2e upgrade 3.0.0 (unpacked already)" upgrade 3.0.0
            check_release "2.0.0->3.0.0 again" 3.0.0 kept '[{count, 0}, {hits, 7}, {label, "fresh-b"}]' \
                1.0.0:old 2.0.0:old 3.0.0:permanent
            stop_node "$R"
            start_node "$R" &&
                check_release "3.0.0 restarted" 3.0.0 fresh "$C0" 1.0.0:old 2.0.0:old 3.0.0:permanent
        fi
    else
        fail "upgrade steps not run: knit made no upgrade tarballs"
    fi
    stop_node "$R"
fi

# --- root 2: 1.0.0 -> 3.0.0 with release_handler's own calls over erl_call
R=$T/root2
if [ -n "$FLOW" ] && boot_root "$R"; then
    check_release "root 2: 1.0.0" 1.0.0 fresh "$A0" 1.0.0:permanent
    bump 6
    cp "$UP3" "$R/releases/e2e-3.0.0.tar.gz"
    expect_rpc "root 2: unpack_release, install_release, make_permanent 3.0.0" '
        {ok, V} = release_handler:unpack_release("e2e-3.0.0"),
        {ok, From, _} = release_handler:install_release(V),
        ok = release_handler:make_permanent(V),
        {V, From}.' '{"3.0.0", "1.0.0"}'
    check_release "root 2: 1.0.0->3.0.0" 3.0.0 kept '[{count, 6}, {hits, 7}, {label, "set-by-extra-c"}]' \
        1.0.0:old 3.0.0:permanent
    stop_node "$R"
    start_node "$R" &&
        check_release "root 2: 3.0.0 restarted" 3.0.0 fresh "$C0" 1.0.0:old 3.0.0:permanent
    stop_node "$R"
fi

finish
