# tests/e2e/node.sh - helpers shared by tests/e2e/otp_flow.sh and tests/t_live_upgrade.sh:
# talk to an e2e node with erl_call, record every OS pid started so that node_cleanup
# stops exactly those, and the checks of what each release of the e2e fixture must run.
# Source after tests/lib.sh (ok/fail). The caller sets ERL_CALL (an erl_call binary),
# NODE (short name) and COOKIE before using rpc & co.

# generous: a loaded 2-core machine may take long to boot a node or install a release
: "${E2E_BOOT_WAIT:=120}"
: "${E2E_CALL_TIMEOUT:=300}"
E2E_PIDS=()    # "pid node erl_call cookie" of every node this script started

# rpc EXPR - evaluate EXPR (Erlang expressions, ending with '.') on $NODE; prints what
# erl_call prints ({ok, Term} or {error, ...}, terms in ei's format: `{a, "s"}`)
rpc() {
    local out i=0
    while :; do
        out=$(printf '%s\n' "$1" | "$ERL_CALL" -sname "$NODE" -c "$COOKIE" \
            -timeout "$E2E_CALL_TIMEOUT" -e 2>&1)
        # a loaded machine sometimes fails the connection itself: try again, a few times
        case $out in "erl_call: failed to connect"*) ;; *) break ;; esac
        i=$((i + 1))
        [ "$i" -ge 5 ] && break
        sleep 2
    done
    printf '%s' "$out"
}

# node_up - does $NODE answer?
node_up() {
    "$ERL_CALL" -sname "$NODE" -c "$COOKIE" -timeout 20 -a 'erlang node' >/dev/null 2>&1
}

# wait_up SECONDS - poll until $NODE answers; 1 if it does not within SECONDS
wait_up() {
    local i=0
    while [ "$i" -lt "$1" ]; do
        node_up && return 0
        sleep 1
        i=$((i + 1))
    done
    return 1
}

# node_os_pid - the OS pid of $NODE (empty if it does not answer)
node_os_pid() {
    "$ERL_CALL" -sname "$NODE" -c "$COOKIE" -timeout 30 -a 'os getpid' 2>/dev/null | tr -d '"'
}

# remember_pid PID - record PID as ours, for node_cleanup
remember_pid() {
    [ -n "$1" ] && E2E_PIDS+=("$1 $NODE $ERL_CALL $COOKIE")
    return 0
}

# wait_pid_gone PID SECONDS - 0 once PID has exited
wait_pid_gone() {
    local i=0
    while kill -0 "$1" 2>/dev/null; do
        [ "$i" -ge "$2" ] && return 1
        sleep 1
        i=$((i + 1))
    done
    return 0
}

# node_cleanup - stop every node this script started: init:stop through erl_call, then
# SIGKILL for the recorded OS pid if it is still alive after a while. For trap EXIT.
node_cleanup() {
    local e pid node ec ck
    for e in "${E2E_PIDS[@]+"${E2E_PIDS[@]}"}"; do
        read -r pid node ec ck <<<"$e"
        kill -0 "$pid" 2>/dev/null || continue
        "$ec" -sname "$node" -c "$ck" -timeout 20 -a 'init stop' >/dev/null 2>&1
        wait_pid_gone "$pid" 30 || kill -9 "$pid" 2>/dev/null
    done
    return 0
}

# expect_rpc DESC EXPR WANT [BRACED] - EXPR evaluated on the node must give {ok, WANT}
# (BRACED: WANT is already {ok, ...} minus its "{ok, ")
expect_rpc() {
    local out want="{ok, $3}"
    [ -n "${4:-}" ] && want="{ok, $3"
    out=$(rpc "$2")
    if [ "$out" = "$want" ]; then ok "$1"; else fail "$1" "expected $want
got      $out"; fi
}

# --- what the node runs, as the checks below see it (each prints one term)
X_RUNNING='R = release_handler:which_releases(), hd([V || {_, V, _, current} <- R] ++ [V || {_, V, _, permanent} <- R]).'
X_RELEASES='lists:sort([{V, S} || {_, V, _, S} <- release_handler:which_releases()]).'
X_COUNTER_PID='pid_to_list(whereis(e2e_counter)).'
X_CACHE_PID='case whereis(e2e_cache) of undefined -> none; P -> pid_to_list(P) end.'
X_STATE='lists:sort(maps:to_list(sys:get_state(e2e_counter))).'
X_CHILDREN='lists:sort([{Id, is_pid(P)} || {Id, P, _, _} <- supervisor:which_children(e2e_core_sup)]).'
X_APPS='lists:sort([{A, V} || {A, _, V} <- application:which_applications(), lists:prefix("e2e", atom_to_list(A))]).'
# loaded or not; for the modules every step reloads, the application directory they came from
X_MODS='[{M, code:is_loaded(M) =/= false} || M <- [e2e_old, e2e_new, e2e_cache, e2e_extra_srv]] ++ [{M, case code:is_loaded(M) of {file, F} -> filename:basename(filename:dirname(filename:dirname(F))); false -> no end} || M <- [e2e_fmt, e2e_counter, e2e_util]].'
X_CALLS='[e2e_fmt:tag(), e2e_calc:show(5), application:get_env(e2e_core, greeting)].'

# releases_term VSN:STATUS... - which_releases as X_RELEASES prints it
releases_term() {
    local r s=""
    for r in $(printf '%s\n' "$@" | sort); do
        s="$s, {\"${r%%:*}\", ${r#*:}}"
    done
    echo "[${s#, }]"
}

# check_release TAG VSN HOW STATE RELS... - every check of a node that should run release
# VSN of the fixture (1.0.0, 2.0.0 or 3.0.0). HOW: "fresh" (just booted: remember the
# processes) or "kept" (upgraded or downgraded: e2e_counter, and e2e_cache where it
# existed, must be the processes remembered). STATE: e2e_counter's state as a sorted
# proplist, e.g. '[{count, 3}, {label, "set-by-extra-b"}]'. RELS: which_releases as
# VSN:STATUS. Uses and sets $COUNTER_PID and $CACHE_PID.
check_release() {
    local tag=$1 vsn=$2 how=$3 state=$4 running
    shift 4
    # on another release, every check below would fail too: one failure says it
    running=$(rpc "$X_RUNNING")
    if [ "$running" != "{ok, \"$vsn\"}" ]; then
        fail "$tag: the node does not run $vsn (other checks of this step skipped)" "$running"
        return 0
    fi
    expect_rpc "$tag: which_releases" "$X_RELEASES" "$(releases_term "$@")"
    local mods apps children calls
    case $vsn in
    1.0.0)
        mods='[{e2e_old, true}, {e2e_new, false}, {e2e_cache, false}, {e2e_extra_srv, false}, {e2e_fmt, "e2e_core-1.0.0"}, {e2e_counter, "e2e_core-1.0.0"}, {e2e_util, "e2e_util-1.0.0"}]'
        apps='[{e2e_core, "1.0.0"}, {e2e_util, "1.0.0"}]'
        children='[{e2e_counter, true}]'
        calls='[fmt_a, "5", {ok, "sys-a"}]'
        ;;
    2.0.0)
        mods='[{e2e_old, false}, {e2e_new, false}, {e2e_cache, true}, {e2e_extra_srv, false}, {e2e_fmt, "e2e_core-2.0.0"}, {e2e_counter, "e2e_core-2.0.0"}, {e2e_util, "e2e_util-1.0.0"}]'
        apps='[{e2e_core, "2.0.0"}, {e2e_util, "1.0.0"}]'
        children='[{e2e_cache, true}, {e2e_counter, true}]'
        calls='[fmt_b, "calc:#5", {ok, "sys-b"}]'
        ;;
    3.0.0)
        mods='[{e2e_old, false}, {e2e_new, true}, {e2e_cache, true}, {e2e_extra_srv, true}, {e2e_fmt, "e2e_core-3.0.0"}, {e2e_counter, "e2e_core-3.0.0"}, {e2e_util, "e2e_util-1.1.0"}]'
        apps='[{e2e_core, "3.0.0"}, {e2e_extra, "1.0.0"}, {e2e_util, "1.1.0"}]'
        children='[{e2e_cache, true}, {e2e_counter, true}]'
        calls='[fmt_c, "calc:#5!", {ok, "sys-c"}]'
        ;;
    esac
    expect_rpc "$tag: counter state" "$X_STATE" "$state"
    expect_rpc "$tag: modules loaded, and from where" "$X_MODS" "$mods"
    expect_rpc "$tag: e2e applications running" "$X_APPS" "$apps"
    expect_rpc "$tag: e2e_core_sup children" "$X_CHILDREN" "$children"
    expect_rpc "$tag: new code answers, sys.config applied" "$X_CALLS" "$calls"
    if [ "$how" = fresh ]; then
        expect_rpc "$tag: e2e_counter runs" "is_pid(whereis(e2e_counter))." true
        COUNTER_PID=$(rpc "$X_COUNTER_PID")
    else
        expect_rpc "$tag: e2e_counter kept its process" "$X_COUNTER_PID" "${COUNTER_PID#\{ok, }" 1
    fi
    case $vsn in
    2.0.0 | 3.0.0)
        expect_rpc "$tag: e2e_cache works" 'ok = e2e_cache:store(k, v), e2e_cache:fetch(k).' '{ok, v}'
        if [ -n "${CACHE_PID:-}" ] && [ "$how" != fresh ]; then
            expect_rpc "$tag: e2e_cache kept its process" "$X_CACHE_PID" "${CACHE_PID#\{ok, }" 1
        fi
        CACHE_PID=$(rpc "$X_CACHE_PID")
        ;;
    *) CACHE_PID= ;;
    esac
    [ "$vsn" = 3.0.0 ] && expect_rpc "$tag: e2e_extra_srv answers with e2e_util 1.1.0" \
        'e2e_extra_srv:ping().' '{pong, 42}'
    return 0
}

# bump N - call e2e_counter:bump() N times
bump() {
    rpc "[e2e_counter:bump() || _ <- lists:seq(1, $1)], ok." >/dev/null
}
