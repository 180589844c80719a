#!/usr/bin/env bash
# bench/rebar.sh - knit in a rebar3 project (reading rebar.config's relx section) against
# `rebar3 release`, `rebar3 tar` and `rebar3 relup` on the same project (tests/rebar/mkproj.sh:
# two apps, sasl, ERTS included), as ratios. rebar3 relup is given the appups knit generated
# (relx cannot make them). Not a test: nothing here asserts. Env: BENCH_RUNS (default 5).
set -u
cd "$(dirname "$0")/.." || exit 3
: "${KNIT_BUILD:=build}"
command -v rebar3 >/dev/null || { echo "skipped: rebar3 is not installed"; exit 0; }
command -v hyperfine >/dev/null || { echo "skipped: hyperfine is not installed"; exit 0; }
KNIT=$PWD/$KNIT_BUILD/knit
T=$(mktemp -d "${TMPDIR:-/tmp}/knit-bench-rebar.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME=$T/home # rebar3 offline: no global config or plugins
mkdir -p "$HOME"
runs=${BENCH_RUNS:-5}
P=$T/p
tests/rebar/mkproj.sh "$P" 1.0.0 bench@127.0.0.1 c >/dev/null
(cd "$P" && rebar3 tar >"$T/log" 2>&1) || { echo "rebar3 tar failed"; tail "$T/log"; exit 1; }
tests/rebar/mkproj.sh "$P" 1.1.0 bench@127.0.0.1 c >/dev/null
(cd "$P" && rebar3 compile >"$T/log" 2>&1) || { echo "rebar3 compile failed"; exit 1; }
# knit's appups, copied where relx looks for them, for rebar3 relup
(cd "$P" && "$KNIT" -q appup >/dev/null) || { echo "knit appup failed"; exit 1; }
for a in aa bb; do
    cp "$P/_build/default/knit/myrel/lib/$a-1.1.0/ebin/$a.appup" "$P/_build/default/lib/$a/ebin/" 2>/dev/null
done
ratio() { awk -v k="$1" -v r="$2" 'BEGIN { if (k > 0) printf "%.1fx\n", r / k; else print "n/a" }'; }
mean() { jq -r '.results[0].mean' "$1"; }
bench_pair() { # TITLE KNIT_CMD REBAR_CMD
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$T/k.json" "$2" >/dev/null 2>&1 || { echo "$1: knit failed"; return; }
    hyperfine --warmup 1 --runs "$runs" --export-json "$T/r.json" "$3" >/dev/null 2>&1 || { echo "$1: rebar3 failed"; return; }
    k=$(mean "$T/k.json") r=$(mean "$T/r.json")
    printf '%-32s knit %.3fs  rebar3 %.3fs  rebar3/knit %s\n' "$1" "$k" "$r" "$(ratio "$k" "$r")"
}
cd "$P" || exit 3
bench_pair "release (target dir)" "$KNIT -q -f release" "rebar3 release"
bench_pair "release + tarball" "$KNIT -q -f release" "rebar3 tar"
bench_pair "relup from 1.0.0 (+ upgrade tar)" "$KNIT -q -f relup --from 1.0.0" \
    "rebar3 relup --relname myrel --relvsn 1.1.0 --upfrom 1.0.0 && rebar3 tar"
