#!/usr/bin/env bash
# t_node_conn.sh - knit's node connection layer (knit/node.c) against a live plain node,
# through tests/tool_node: eval in one call, each connect failure told apart (no node,
# no host, wrong cookie, a stopped node timing out), upload checked by size and hash,
# the node lock refusing a second knit and freed when the first disconnects.
source "$(dirname "$0")/lib.sh"
TOOL=$TOP/$KNIT_BUILD/tests/tool_node
[ -x "$TOOL" ] || { fail "no $TOOL (run make unit-bins)"; finish; exit; }
T=$(tmpdir)
N=knit_tc$$_$RANDOM
CK=ck$RANDOM$RANDOM
NPID=
cleanup() {
    [ -n "$NPID" ] && kill -CONT "$NPID" 2>/dev/null
    [ -n "$NPID" ] && kill "$NPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
erl -sname "$N" -setcookie "$CK" -noshell -noinput >/dev/null 2>&1 &
NPID=$!
up=
for _ in $(seq 1 60); do
    out=$("$TOOL" "$N" --cookie "$CK" --timeout 5 eval 'ok' 2>/dev/null) && { up=1; break; }
    sleep 0.5
done
[ -n "$up" ] || { fail "node $N did not come up"; finish; exit; }

out=$("$TOOL" "$N" --cookie "$CK" eval 'X = 6 * 7, {X, lists:seq(1, 3), <<"b">>}' 2>&1)
[ "$out" = '{42,[1,2,3],<<"b">>}' ] && ok "eval: value decoded" || fail "eval" "$out"
out=$("$TOOL" "$N" --cookie "$CK" calls '[M || {M, _} <- code:all_loaded()]' 2>&1)
[ "$out" = 1 ] && ok "eval is one rpc call" || fail "eval call count" "$out"
out=$("$TOOL" "$N@$(hostname -s)" --cookie "$CK" eval 'node()' 2>&1)
[ "$out" = "$N@$(hostname -s)" ] && ok "name@host and bare name reach the same node" ||
    fail "name@host" "$out"

expect_exit "eval: an exception is exit 5" 5 "$TOOL" "$N" --cookie "$CK" eval 'erlang:error(boom)'
case $ERR in *"evaluation failed"*boom*) ok "eval: the exception is named" ;; *) fail "exception text" "$ERR" ;; esac
expect_exit "unknown node: exit 4" 4 "$TOOL" nosuch_$$ --cookie "$CK" eval ok
case $ERR in *"no node 'nosuch_$$' at host"*) ok "unknown node: named" ;; *) fail "unknown node text" "$ERR" ;; esac
expect_exit "unknown host: exit 4" 4 "$TOOL" "$N@no-such-host.invalid" --cookie "$CK" eval ok
case $ERR in *"cannot resolve host 'no-such-host.invalid'"*) ok "unknown host: named" ;; *) fail "unknown host text" "$ERR" ;; esac
expect_exit "wrong cookie: exit 5" 5 "$TOOL" "$N" --cookie wrong eval ok
case $ERR in *"cookie rejected by $N@"*) ok "wrong cookie: named" ;; *) fail "wrong cookie text" "$ERR" ;; esac
printf '%s\n' "$CK" >"$T/cookie"
out=$("$TOOL" "$N" --cookie-file "$T/cookie" eval 'ok' 2>&1)
[ "$out" = ok ] && ok "--cookie-file" || fail "--cookie-file" "$out"
out=$(HOME=$T && cp "$T/cookie" "$T/.erlang.cookie" && HOME=$T "$TOOL" "$N" eval 'ok' 2>&1)
[ "$out" = ok ] && ok "cookie from \$HOME/.erlang.cookie" || fail "default cookie file" "$out"

# upload: 2.5 MB in chunks, the same bytes on the node
head -c 2600000 /dev/urandom >"$T/big.bin"
out=$("$TOOL" "$N" --cookie "$CK" upload "$T/big.bin" "$T/up.bin" 2>&1)
cmp -s "$T/big.bin" "$T/up.bin" && ok "upload: same bytes" || fail "upload" "$out"
[ -e "$T/up.bin.knit-upload" ] && fail "upload left its .knit-upload file"
expect_exit "upload into a missing directory: exit 5" 5 "$TOOL" "$N" --cookie "$CK" upload "$T/big.bin" "$T/no/dir/x"

# lock: a second knit is refused while the first holds it, and gets it once it is gone
"$TOOL" "$N" --cookie "$CK" lock install 5 >"$T/lock1" 2>&1 &
LPID=$!
for _ in $(seq 1 40); do grep -q locked "$T/lock1" && break; sleep 0.25; done
expect_exit "second lock refused: exit 5" 5 "$TOOL" "$N" --cookie "$CK" lock install 0
case $ERR in *"locked by another knit (knit@"*install*) ok "lock: holder named" ;; *) fail "lock text" "$ERR" ;; esac
wait "$LPID"
out=$("$TOOL" "$N" --cookie "$CK" lock install 0 2>&1)
[ "$out" = locked ] && ok "lock free after the holder disconnected" || fail "lock after release" "$out"

# a stopped node: connect times out (exit 4), the node is fine after SIGCONT
kill -STOP "$NPID"
start=$(date +%s)
expect_exit "stopped node: exit 4" 4 timeout 30 "$TOOL" "$N" --cookie "$CK" --timeout 2 eval ok
case $ERR in *"timed out after 2 s"*) ok "stopped node: timed out after 2 s" ;; *) fail "timeout text" "$ERR" ;; esac
[ $(($(date +%s) - start)) -le 10 ] && ok "timeout bounded" || fail "timeout took $(($(date +%s) - start)) s"
kill -CONT "$NPID"
out=$("$TOOL" "$N" --cookie "$CK" eval 'ok' 2>&1)
[ "$out" = ok ] && ok "node answers again after SIGCONT" || fail "after SIGCONT" "$out"
finish
