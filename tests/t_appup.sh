#!/usr/bin/env bash
# t_appup.sh - generated appups against OTP (one VM, tests/appup/relup_check.escript): each
# reads back by file:consult to knit's term, systools:make_relup/4 accepts them, and
# `knit make-relup` builds the same relup from them; then the generator's exit codes.
source "$(dirname "$0")/lib.sh"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
TOOL="$TOP/$KNIT_BUILD/tests/tool_appup"

if ! command -v escript >/dev/null || [ ! -x "$TOOL" ] || [ ! -x "$KNIT" ]; then
    fail "t_appup needs escript, $TOOL and $KNIT"
    finish
    exit
fi

escript "$TOP/tests/appup/relup_check.escript" "$TOOL" "$KNIT" "$TOP/tests/appup" "$T" \
    >"$T/out" 2>&1
rc=$?
[ $rc = 0 ] || fail "relup_check.escript exited $rc" "$(tail -20 "$T/out")"
while IFS= read -r line; do
    case $line in
    ok\ *) ok "${line#ok }" ;;
    FAIL\ *)
        details=$(awk -v l="$line" 'f && /^(ok|FAIL|done)/ {exit} f {print} $0 == l {f=1}' "$T/out")
        fail "${line#FAIL }" "$details"
        ;;
    esac
done <"$T/out"
n=$(grep -c '^ok' "$T/out")
if grep -qx done "$T/out" && [ "$n" -ge 17 ]; then ok "all OTP-side checks ran ($n)"; else
    fail "relup_check.escript stopped early or ran only $n checks" "$(tail -5 "$T/out")"; fi

# exit codes of generation errors (the class appup_generate records)
mkdir -p "$T/empty"
expect_exit "an invalid knit_depends value exits 2" 2 \
    "$TOOL" ka 1 "$T/bad/bad_depends" "$T/x.appup" 0 "$T/empty"
case $ERR in
*bad_depends.beam*"'knit_depends'"*"'bad_depends'"*'[a,"b"]'*)
    ok "message names beam, attribute, module, value" ;;
*) fail "invalid knit_depends message" "$ERR" ;;
esac
expect_exit "a second knit_priority exits 2" 2 \
    "$TOOL" ka 1 "$T/bad/bad_prio2" "$T/x.appup" 0 "$T/empty"
case $ERR in
*"duplicate attribute 'knit_priority' in module 'bad_prio2': 1, then 2"*) ok "duplicate message" ;;
*) fail "duplicate knit_priority message" "$ERR" ;;
esac
if [ ! -e "$T/x.appup" ]; then ok "nothing written on error"; else fail "an appup was written"; fi
expect_exit "an unlistable from ebin exits 3" 3 \
    "$TOOL" ka 2 "$T/lib/ka-2.0/ebin" "$T/x.appup" 1 "$T/no-such-dir"
finish
