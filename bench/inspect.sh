#!/usr/bin/env bash
# bench/inspect.sh - `knit inspect --json` over every beam of the installed OTP against
# beam_lib (bench/beam_lib_bench.escript: beam_lib:md5/1 + beam_lib:chunks/2 per beam).
# Prints hyperfine's timings, the time ratio and both peak RSS figures. Not a test.
set -u
cd "$(dirname "$0")/.."
: "${KNIT_BUILD:=build}"
KNIT=$KNIT_BUILD/knit
ROOT=${OTP_LIB:-$(dirname "$(dirname "$(readlink -f "$(command -v erl)")")")/lib}
[ -d "$ROOT" ] || ROOT=/usr/lib/erlang/lib
for tool in hyperfine jq /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench/inspect.sh: '$tool' is missing" >&2; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
find -L "$ROOT" -name '*.beam' | sort >"$T/beams"
n=$(wc -l <"$T/beams")
echo "beams: $n under $ROOT ($(du -ch $(cat "$T/beams") | tail -1 | cut -f1))"

knit_cmd="$KNIT inspect --json \$(cat $T/beams) >/dev/null"
otp_cmd="bench/beam_lib_bench.escript \$(cat $T/beams) >/dev/null"
# both must succeed before they are timed
eval "$knit_cmd" || { echo "knit inspect failed" >&2; exit 1; }
eval "$otp_cmd" || { echo "beam_lib_bench.escript failed" >&2; exit 1; }

hyperfine --warmup 2 --runs "${BENCH_RUNS:-10}" --export-json "$T/h.json" \
    -n "knit inspect --json" "$knit_cmd" -n "beam_lib escript" "$otp_cmd"

# peak RSS (KB) of the largest process COMMAND runs
rss() {
    /usr/bin/time -v bash -c "$1" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'
}
k_ms=$(jq '.results[0].mean * 1000' "$T/h.json")
o_ms=$(jq '.results[1].mean * 1000' "$T/h.json")
# CPU time (user + system, mean per run): on a loaded machine it says more than the wall time
k_cpu=$(jq '(.results[0].user + .results[0].system) * 1000' "$T/h.json")
o_cpu=$(jq '(.results[1].user + .results[1].system) * 1000' "$T/h.json")
printf 'knit:     %8.1f ms  (CPU %.1f ms)  peak RSS %s KB\n' "$k_ms" "$k_cpu" "$(rss "$knit_cmd")"
printf 'beam_lib: %8.1f ms  (CPU %.1f ms)  peak RSS %s KB\n' "$o_ms" "$o_cpu" "$(rss "$otp_cmd")"
awk -v k="$k_ms" -v o="$o_ms" -v kc="$k_cpu" -v oc="$o_cpu" \
    'BEGIN { printf "ratio:    knit is %.1fx faster (target >= 20x); CPU time %.1fx less\n", o / k, oc / kc }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
