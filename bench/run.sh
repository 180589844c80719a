#!/usr/bin/env bash
# bench/run.sh - `make bench`: every benchmark, knit against the OTP tools on the same work.
# Benchmarks report ratios; they are never assertions. Results go to stdout.
set -u
cd "$(dirname "$0")/.."
: "${KNIT_BUILD:=build}"
export KNIT_BUILD
status=0
for b in bench/[a-z]*.sh; do
    [ "$b" = bench/run.sh ] && continue
    echo "== $b"
    bash "$b" || status=1
done
exit $status
