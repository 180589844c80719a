#!/usr/bin/env bash
# bench/node_status.sh - `knit status` of a node with >= 1,000 loaded modules against
# erl_call-based scripts doing the same work: (a) one `erl_call -e` evaluating the same
# questions (the best an erl_call script can do), (b) the usual shell way, one erl_call per
# question and per module (module_info(md5) and beam_lib:md5 of its beam). Prints the
# timings, knit's rpc call count and the ratios. Not a test.
set -u
cd "$(dirname "$0")/.."
: "${KNIT_BUILD:=build}"
KNIT=$KNIT_BUILD/knit
TOOL=$KNIT_BUILD/tests/tool_node
MODS=${BENCH_MODULES:-1000}
for tool in hyperfine jq erl_call; do
    command -v "$tool" >/dev/null || { echo "bench/node_status.sh: '$tool' is missing" >&2; exit 1; }
done
[ -x "$TOOL" ] || make --no-print-directory "$TOOL" >/dev/null
N=knit_bench_$$
CK=bench_$RANDOM$RANDOM
T=$(mktemp -d)
erl -sname "$N" -setcookie "$CK" -noshell -noinput >/dev/null 2>&1 &
EPID=$!
trap 'kill $EPID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 60); do "$TOOL" "$N" --cookie "$CK" eval ok >/dev/null 2>&1 && break; sleep 0.5; done
# load modules from the OTP code path until MODS are loaded
loaded=$("$TOOL" "$N" --cookie "$CK" eval "
    Fs = lists:sort([F || D <- code:get_path(), F <- filelib:wildcard(filename:join(D, \"*.beam\"))]),
    lists:foldl(fun(F, Acc) ->
        case length(code:all_loaded()) >= $MODS of
            true -> Acc;
            false -> catch code:ensure_loaded(list_to_atom(filename:basename(F, \".beam\"))), Acc
        end end, ok, Fs),
    length(code:all_loaded())")
echo "node $N: $loaded modules loaded"
calls=$("$KNIT" status "$N" --cookie "$CK" --json | jq '.nodes[0].rpc_calls')
echo "knit status: $calls rpc call(s)"
# (a) the same questions in one erl_call -e (the status expression of knit/nodeinfo.c)
python3 - knit/nodeinfo.c >"$T/status.erl" <<'PY'
import ast, re, sys
c = open(sys.argv[1]).read()
lits = lambda body: "".join(ast.literal_eval(x) for x in re.findall(r'"(?:[^"\\]|\\.)*"', body))
pi = lits(re.search(r'#define PI_SRC(.*?)\n(?!\s*")', c, re.S).group(1))
body = re.search(r'static const char status_src\[\] =(.*?);\n', c, re.S).group(1)
pre, _, post = body.partition("PI_SRC")
print(lits(pre) + pi + lits(post))
PY
echo "." >>"$T/status.erl"
erl_call -sname "$N" -c "$CK" -e <"$T/status.erl" | grep -q '^{ok,' ||
    { echo "erl_call -e of the status expression failed" >&2; erl_call -sname "$N" -c "$CK" -e <"$T/status.erl" | head -5; exit 1; }
hyperfine --warmup 1 --runs "${BENCH_RUNS:-10}" --export-json "$T/h.json" \
    -n "knit status" "$KNIT status $N --cookie $CK >/dev/null" \
    -n "erl_call -e (same expression)" "erl_call -sname $N -c $CK -e <$T/status.erl >/dev/null"
k_ms=$(jq '.results[0].mean * 1000' "$T/h.json")
e_ms=$(jq '.results[1].mean * 1000' "$T/h.json")
# (b) one erl_call per question and per module
cat >"$T/per_module.sh" <<SH
ec() { erl_call -sname $N -c $CK "\$@"; }
ec -a 'erlang system_info [otp_release]' >/dev/null
ec -a 'application which_applications' >/dev/null
ec -a 'release_handler which_releases' >/dev/null 2>&1
for m in \$(ec -e <<<'[M || {M, F} <- code:all_loaded(), is_list(F)].' | tr -d '{}[]' | sed 's/^ok, *//' | tr ',' ' '); do
    ec -a "\$m module_info [md5]" >/dev/null
    ec -a "beam_lib md5 [\"\$(ec -a "code which [\$m]" | tr -d '"')\"]" >/dev/null
    ec -a "erlang check_old_code [\$m]" >/dev/null
done
SH
if [ "${BENCH_PER_MODULE:-1}" = 0 ]; then p_ms=0; else
start=$(date +%s.%N)
bash "$T/per_module.sh"
end=$(date +%s.%N)
p_ms=$(echo "($end - $start) * 1000" | bc)
fi
printf 'knit status:                 %9.1f ms (%s rpc call)\n' "$k_ms" "$calls"
printf 'erl_call -e, same expression: %9.1f ms (1 call, a new C node each run)\n' "$e_ms"
printf 'erl_call per module:          %9.1f ms (4 calls per module, 1 run)\n' "$p_ms"
awk -v k="$k_ms" -v e="$e_ms" -v p="$p_ms" 'BEGIN {
    printf "ratio: erl_call -e / knit = %.2f", e / k
    if (p > 0) printf "; erl_call per module / knit = %.0f", p / k
    printf "\n" }'
