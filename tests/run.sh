#!/usr/bin/env bash
# tests/run.sh - run every test: Check unit suites, then the shell/differential tests
# (tests/t_*.sh). Prints one summary line "N passed, N failed, N skipped" at the end (CI
# parses it). A skipped part is one that needs the external corpus (KNIT_CORPUS, default
# ../shared/corpus; KNIT_MUSTACHE_SPEC, default ../shared/mustache-spec) when it is absent:
# it is named with its reason ("SKIPPED: NAME: REASON") and never counted as passed.
set -u
cd "$(dirname "$0")/.."
: "${KNIT_BUILD:=build}"
export KNIT_BUILD
pass=0
failn=0
skipn=0
res=$(mktemp)
trap 'rm -f "$res"' EXIT

for bin in "$KNIT_BUILD"/tests/check_*; do
    [ -x "$bin" ] || continue
    echo "== $(basename "$bin")"
    out=$("$bin" 2>&1)
    rc=$?
    echo "$out" | grep -v '^Running suite' | grep -v '^SKIPPED: ' | tail -20
    echo "$out" | grep '^SKIPPED: ' | sed 's/^/  /'
    skipn=$((skipn + $(echo "$out" | grep -c '^SKIPPED: ')))
    line=$(echo "$out" | grep -E '^[0-9]+%: Checks: ' | tail -1)
    if [ -n "$line" ]; then
        checks=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
        f1=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
        f2=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
        fails=$((f1 + f2))
        pass=$((pass + checks - fails))
        failn=$((failn + fails))
    fi
    if [ $rc -ne 0 ] && { [ -z "$line" ] || [ "$fails" = 0 ]; }; then
        echo "  FAIL: $(basename "$bin") exited $rc"
        failn=$((failn + 1))
    fi
done

for t in tests/t_*.sh; do
    [ -f "$t" ] || continue
    echo "== $(basename "$t")"
    : >"$res"
    T_RESULT=$res bash "$t"
    rc=$?
    line=$(cat "$res")
    if [ -z "$line" ]; then
        echo "  FAIL: $(basename "$t") ended early (exit $rc)"
        failn=$((failn + 1))
        continue
    fi
    echo "  $line"
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed*}
    s=0
    case $line in *skipped*) s=${line#*failed, } && s=${s%% skipped*} ;; esac
    skipn=$((skipn + s))
    pass=$((pass + p))
    failn=$((failn + f))
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then failn=$((failn + 1)); fi
done

echo
echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" = 0 ] && [ "$pass" -gt 0 ]
