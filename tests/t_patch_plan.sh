#!/usr/bin/env bash
# t_patch_plan.sh - knit's hot-patch planning (no node) against OTP: tests/otp/patch_diff.escript
# compiles the appup fixtures (tests/appup) and the patch fixtures (tests/patch), plans a patch
# for every ordered pair of their versions with tests/tool_patch.c, and checks each plan with
# beam_lib (which modules, which kind of instruction) and systools_rc:translate_scripts/4 (the
# low-level script).
source "$(dirname "$0")/lib.sh"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
TOOL="$TOP/$KNIT_BUILD/tests/tool_patch"

if ! command -v escript >/dev/null || [ ! -x "$TOOL" ]; then
    fail "escript or $TOOL missing (make unit-bins)"
    finish
    exit
fi
timeout 300 escript "$TOP/tests/otp/patch_diff.escript" "$TOOL" "$T/diff" "$TOP/tests/appup" \
    "$TOP/tests/patch" >"$T/diff.out" 2>&1
rc=$?
[ $rc = 0 ] || fail "patch_diff.escript exited $rc" "$(tail -20 "$T/diff.out")"
while IFS= read -r line; do
    case $line in
    ok\ *) ok "${line#ok }" ;;
    FAIL\ *)
        details=$(awk -v l="$line" 'f && /^(ok|FAIL|summary)/ {exit} f {print} $0 == l {f=1}' \
            "$T/diff.out")
        fail "${line#FAIL }" "$details"
        ;;
    esac
done <"$T/diff.out"
n=$(grep -c '^ok' "$T/diff.out")
if [ "$n" -ge 16 ]; then ok "every planned pair checked ($n)"; else
    fail "only $n differential checks passed" "$(cat "$T/diff.out")"; fi
[ -n "${VERBOSE:-}" ] && grep '^summary' "$T/diff.out"
finish
