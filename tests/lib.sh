# tests/lib.sh - shared helpers for the shell tests run by tests/run.sh
# Each test script sources this, calls ok/fail per check, and ends with `finish`.
set -u
: "${KNIT_BUILD:=build}"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KNIT="$TOP/$KNIT_BUILD/knit"
# the external corpora (never part of the project): used when present, else the suites
# that need them report themselves skipped
SHARED="$TOP/../shared"
CORPUS_ROOT=${KNIT_CORPUS:-$SHARED/corpus}
T_PASS=0
T_FAIL=0
T_SKIP=0
ok() { T_PASS=$((T_PASS + 1)); [ -n "${VERBOSE:-}" ] && echo "  ok: $1"; return 0; }
fail() {
    T_FAIL=$((T_FAIL + 1))
    echo "  FAIL: $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | head -40 | sed 's/^/    /'
    return 0
}
# skip NAME REASON - a part of the suite that could not run here: counted and named, never
# a pass
skip() {
    T_SKIP=$((T_SKIP + 1))
    echo "  SKIPPED: $1: $2"
    return 0
}
# have_corpus SUBDIR - whether the external corpus has SUBDIR (e.g. reltool)
have_corpus() { [ -d "$CORPUS_ROOT/$1" ]; }
# expect_exit DESC CODE CMD... : CMD must exit with CODE; its stderr is kept in $ERR
expect_exit() {
    local desc=$1 want=$2
    shift 2
    ERR=$("$@" 2>&1 >/dev/null)
    local got=$?
    if [ "$got" = "$want" ]; then ok "$desc"; else fail "$desc" "exit $got, expected $want: $ERR"; fi
}
finish() {
    echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped" >"${T_RESULT:-/dev/null}"
    [ "$T_FAIL" = 0 ]
}
tmpdir() { mktemp -d "${TMPDIR:-/tmp}/knit-test.XXXXXX"; }
