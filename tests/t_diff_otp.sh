#!/usr/bin/env bash
# t_diff_otp.sh - differential test against real OTP: every beam under the OTP tree (beam_lib
# facts), every term file under it and under the external corpus when present (KNIT_CORPUS;
# skipped by name when absent) (file:consult, term_to_binary,
# ~tp, ~tw), every .boot (binary_to_term = its .script). OTP's side is computed live by
# tests/otp/otp_side.escript in one VM start; tests/tool_diff.c compares knit's side and
# prints the first differences with both sides.
. "$(dirname "$0")/lib.sh"

TOOL="$TOP/$KNIT_BUILD/tests/tool_diff"
ESCRIPT="$TOP/tests/otp/otp_side.escript"
CORPUS=$CORPUS_ROOT
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT

if ! command -v escript >/dev/null || [ ! -x "$TOOL" ]; then
    fail "escript or $TOOL missing"
    finish
    exit
fi
OTP_ROOT=$(erl -noshell -eval 'io:format("~s", [code:root_dir()]), halt().')

# Two modules compiled here (with and without debug info, gzip-compressed, deterministic,
# encrypted debug info) cover what the OTP tree's beams lack.
cat >"$T/knit_diff_a.erl" <<'ERL'
-module(knit_diff_a).
-vsn("1.0").
-behaviour(gen_server).
-behavior(supervisor).
-knit_priority(5).
-knit_extra([[x]]).
-knit_depends([a, b]).
-custom({a, #{k => v, "s" => <<"bin">>}, 1.5, -12345678901234567890123, <<1:3>>}).
-'ünï'(['ä', "ö", <<"ü"/utf8>>, 'hello world']).
-export(['fün'/1, init/1, f/0]).
'fün'(X) -> fun(Y) -> X + Y end.
init(_) -> {ok, #{a => 1, b => [1.0e300, 123456789012345678901234567890]}}.
f() -> {lists:seq(1, 3), erlang:md5(<<"x">>), <<1:3>>, "ü", fun lists:map/2}.
ERL
cat >"$T/knit_diff_b.erl" <<'ERL'
-module(knit_diff_b).
-compile(export_all).
-compile(nowarn_export_all).
-a(1).
-a([2, 3]).
-a(1).
-b([]).
g(X) when is_map(X) -> maps:get(k, X, 'Quoted Atom');
g(_) -> $\n.
ERL

# The file list: beams, every term-like file (the .src and .conf ones too: whatever
# file:consult rejects knit must reject), the .boot files. README/INDEX .md are skipped.
{
    find "$OTP_ROOT/lib" -name '*.beam' | sort | sed 's/^/beam /'
    find "$OTP_ROOT" -type f \( -name '*.app' -o -name '*.appup' -o -name '*.rel' \
        -o -name '*.script' -o -name '*.config' -o -name '*.src' -o -name '*.conf' \
        -o -name 'RELEASES' -o -name 'installed_application_versions' \) \
        ! -path '*/erts-*/bin/*' | sort | sed 's/^/term /'
    # the project's own term files (fixtures, example, config/) always
    find "$TOP/tests" "$TOP/example" "$TOP/config" -type f \( -name '*.app' -o -name '*.appup' \
        -o -name '*.rel' -o -name '*.script' -o -name '*.config' -o -name '*.src' \
        -o -name '*.terms' \) ! -path '*/fuzz/*' 2>/dev/null | sort | sed 's/^/term /'
    if [ -d "$CORPUS" ]; then
        find "$CORPUS" -type f ! -name '*.md' ! -name 'README*' ! -name '*.erl' \
            ! -name '*.hrl' ! -name '*.beam' | sort | sed 's/^/term /'
    fi
    find "$OTP_ROOT" -name '*.boot' | sort | sed 's/^/boot /'
    echo "compile $T/knit_diff_a.erl $T"
    echo "compile $T/knit_diff_b.erl $T"
} >"$T/list"

if ! escript "$ESCRIPT" "$T/list" "$T/otp" 2>"$T/otp.err"; then
    fail "otp_side.escript failed" "$(cat "$T/otp.err")"
    finish
    exit
fi
[ -d "$CORPUS" ] || skip "t_diff_otp corpus term files" "no corpus at $CORPUS (set KNIT_CORPUS)"

"$TOOL" "$T/otp" 10 >"$T/out" 2>&1
rc=$?
[ -n "${VERBOSE:-}" ] && cat "$T/out"
sed -n '/^beams:/,$p' "$T/out" | sed 's/^/  /'
grep '^note:' "$T/out" | grep -v 'error line differs' | head -5 | sed 's/^/  /'

# the numbers of a summary line, in order ("beams: 1046 compared, 1046 equal ...")
nums() { sed -n "s/^$1: //p" "$T/out" | tr -cs '0-9' ' '; }
read -r nb eb _ <<<"$(nums beams)"
read -r nf ef _ <<<"$(nums 'term files')"
read -r nboot eboot _ <<<"$(nums 'boot files')"
read -r nt ttb tp tw _ <<<"$(nums terms)"
diffs=$(grep -v '^note:' "$T/out")

check() { # DESC COMPARED EQUAL MIN
    if [ -z "$2" ] || [ "$2" -lt "$4" ]; then
        fail "$1: only ${2:-0} compared (expected at least $4)" "$(head -20 "$T/out")"
    elif [ "$2" != "$3" ]; then
        fail "$1: $3 of $2 equal" "$diffs"
    else
        ok "$1: $2 equal"
    fi
}
check "beams (module, md5, vsn, exports, imports, locals, attributes, ...)" "$nb" "$eb" 1000
min_files=60
[ -d "$CORPUS" ] && min_files=250
check "term files (accepted/rejected as file:consult does)" "$nf" "$ef" "$min_files"
check "terms: term_to_binary" "$nt" "$ttb" 500
check "terms: ~tp" "$nt" "$tp" 500
check "terms: ~tw" "$nt" "$tw" 500
check "boot files = their .script" "$nboot" "$eboot" 4
if [ "$rc" = 0 ]; then ok "tool_diff: no differences"; else
    fail "tool_diff: exit $rc" "$(grep -v '^note:' "$T/out" | head -40)"; fi

# the harness itself must see a difference: OTP's side with one md5 and one encoding changed
sed -e '0,/^md5 [0-9A-F]/s//md5 X/' -e '0,/^t 83/s//t 84/' "$T/otp" >"$T/otp.bad"
"$TOOL" "$T/otp.bad" 10 >"$T/out.bad" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q '^DIFF .*: md5 differs' "$T/out.bad" &&
    grep -q '^DIFF .*: term 1 term_to_binary: first difference at byte 0' "$T/out.bad"; then
    ok "tool_diff reports planted differences"
else
    fail "tool_diff missed planted differences (exit $rc)" "$(head -20 "$T/out.bad")"
fi

finish
