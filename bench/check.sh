#!/usr/bin/env bash
# bench/check.sh - `knit check` over every beam of the installed OTP (the single-version
# rules: Code, ImpT, FunT, Line chunks decoded, abstract code read where a finding needs its
# line) against bench/check_otp.escript, the same decoding done with beam_lib + beam_disasm.
# Prints hyperfine's timings, the time ratio and knit's peak RSS. Not a test; the target is
# knit under 1 s for all ~1,250 beams.
set -u
cd "$(dirname "$0")/.."
: "${KNIT_BUILD:=build}"
KNIT=$KNIT_BUILD/knit
ROOT=${OTP_LIB:-$(dirname "$(dirname "$(readlink -f "$(command -v erl)")")")/lib}
[ -d "$ROOT" ] || ROOT=/usr/lib/erlang/lib
for tool in hyperfine jq /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench/check.sh: '$tool' is missing" >&2; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ls "$ROOT"/*/ebin/*.beam | sort >"$T/beams"
n=$(wc -l <"$T/beams")
echo "beams: $n under $ROOT/*/ebin ($(du -ch $(cat "$T/beams") | tail -1 | cut -f1))"

knit_cmd="$KNIT check \$(cat $T/beams) >/dev/null"
otp_cmd="bench/check_otp.escript \$(cat $T/beams) >/dev/null"
eval "$knit_cmd" || { echo "knit check failed" >&2; exit 1; }
eval "$otp_cmd" || { echo "check_otp.escript failed" >&2; exit 1; }

# the escript takes tens of seconds a run: few runs
hyperfine --warmup 1 --runs "${BENCH_RUNS:-3}" --export-json "$T/h.json" \
    -n "knit check" "$knit_cmd" -n "beam_lib + beam_disasm escript" "$otp_cmd"
k_ms=$(jq '.results[0].mean * 1000' "$T/h.json")
o_ms=$(jq '.results[1].mean * 1000' "$T/h.json")
rss=$(/usr/bin/time -v bash -c "$knit_cmd" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}')
printf 'knit check: %8.1f ms  peak RSS %s KB (target < 1000 ms)\n' "$k_ms" "$rss"
printf 'escript:    %8.1f ms\n' "$o_ms"
awk -v k="$k_ms" -v o="$o_ms" 'BEGIN { printf "ratio:      knit is %.0fx faster\n", o / k }'
