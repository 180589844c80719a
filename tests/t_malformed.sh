#!/usr/bin/env bash
# t_malformed.sh - `knit inspect` on broken beams, ETF (.boot) files and term text: each gives
# exit 2 and exactly one stderr line naming the file, never a crash or a sanitizer report.
# The inputs are made by tests/tool_mkbad.c from real OTP files; OTP itself must reject the
# broken ETF and text files too (except the "deep"/"strict" ones knit refuses by contract).
. "$(dirname "$0")/lib.sh"

MKBAD="$TOP/$KNIT_BUILD/tests/tool_mkbad"
OTP_LIB=$(dirname "$(dirname "$(dirname "$(command -v erl)")")")/lib
[ -d "$OTP_LIB/stdlib-4.2" ] || OTP_LIB=/usr/lib/erlang/lib
GOOD_BEAM=$(ls "$OTP_LIB"/stdlib-*/ebin/lists.beam | head -1)
GOOD_BOOT=$(ls "$OTP_LIB"/../releases/*/start_sasl.boot | head -1)
GOOD_APP=$(ls "$OTP_LIB"/stdlib-*/ebin/stdlib.app | head -1)
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT

# sane FILE - exit status and stderr of `knit inspect FILE` into RC / ERRTXT / NLINES
sane() {
    "$KNIT" inspect "$1" >/dev/null 2>"$T/stderr"
    RC=$?
    ERRTXT=$(cat "$T/stderr")
    NLINES=$(wc -l <"$T/stderr")
}

no_sanitizer() {
    case $ERRTXT in
    *Sanitizer* | *"runtime error"* | *"Segmentation"* | *"Aborted"*) return 1 ;;
    esac
    [ "$RC" -lt 128 ]
}

# must_reject FILE: exit 2, one line, the line names FILE
must_reject() {
    local f=$1 name
    name=$(basename "$f")
    sane "$f"
    if ! no_sanitizer; then
        fail "$name: crash or sanitizer report" "exit $RC: $ERRTXT"
    elif [ "$RC" != 2 ]; then
        fail "$name: exit $RC, expected 2" "$ERRTXT"
    elif [ "$NLINES" != 1 ]; then
        fail "$name: $NLINES stderr lines, expected 1" "$ERRTXT"
    elif [[ $ERRTXT != *"$f"* ]]; then
        fail "$name: the error does not name the file" "$ERRTXT"
    else
        ok "$name rejected"
    fi
}

# may_accept FILE: exit 0, or exit 2 with one line naming FILE; never a crash
may_accept() {
    local f=$1 name
    name=$(basename "$f")
    sane "$f"
    if ! no_sanitizer; then
        fail "$name: crash or sanitizer report" "exit $RC: $ERRTXT"
    elif [ "$RC" = 0 ]; then
        ok "$name accepted"
    elif [ "$RC" = 2 ] && [ "$NLINES" = 1 ] && [[ $ERRTXT == *"$f"* ]]; then
        ok "$name rejected"
    else
        fail "$name: exit $RC with $NLINES stderr lines" "$ERRTXT"
    fi
}

if [ ! -x "$MKBAD" ] || [ ! -x "$KNIT" ]; then
    fail "tool_mkbad or knit not built" "$MKBAD $KNIT"
    finish
    exit
fi
if ! "$MKBAD" "$T" "$GOOD_BEAM" "$GOOD_BOOT" "$GOOD_APP"; then
    fail "tool_mkbad could not write the inputs"
    finish
    exit
fi

# the good inputs themselves are accepted (so a rejection below is about the damage)
for f in "$GOOD_BEAM" "$GOOD_BOOT" "$GOOD_APP"; do
    sane "$f"
    if [ "$RC" = 0 ] && [ "$NLINES" = 0 ]; then ok "good $(basename "$f")"; else
        fail "good input $f: exit $RC" "$ERRTXT"; fi
done

# OTP must reject what we call broken, or the test data is wrong
if command -v erl >/dev/null; then
    otp=$(cd "$T" && erl -noshell -noinput -eval '
        Skip = fun(F) -> string:find(F, "deep") =/= nomatch orelse
                         string:find(F, "strict") =/= nomatch end,
        Etf = [F || F <- filelib:wildcard("bad_*.boot"), not Skip(F)],
        Txt = [F || F <- filelib:wildcard("bad_*.config"), not Skip(F)],
        Decodes = fun(B) -> try binary_to_term(B) of _ -> true catch _:_ -> false end end,
        A1 = [F || F <- Etf, {ok, B} <- [file:read_file(F)], Decodes(B)],
        A2 = [F || F <- Txt, element(1, file:consult(F)) =:= ok],
        io:format("~b ~b ~ts~n", [length(Etf), length(Txt), lists:join(" ", A1 ++ A2)]),
        halt().' 2>&1)
    read -r n_etf n_txt accepted <<<"$otp"
    if [ "${n_etf:-0}" -gt 10 ] && [ "${n_txt:-0}" -gt 10 ] && [ -z "$accepted" ]; then
        ok "OTP rejects all $n_etf broken ETF and $n_txt broken text files"
    else
        fail "OTP accepts some of the 'broken' inputs (or did not run)" "$otp"
    fi
else
    fail "erl not found: cannot check the inputs against OTP"
fi

n=0
for f in "$T"/bad_*; do
    must_reject "$f"
    n=$((n + 1))
done
for f in "$T"/flip_* "$T"/odd_*; do
    may_accept "$f"
    n=$((n + 1))
done
[ "$n" -gt 100 ] && ok "$n malformed inputs tried" || fail "only $n inputs were made"

# a gzip-compressed beam cut short is not a beam either
gzip -c "$GOOD_BEAM" >"$T/good_gz.beam"
may_accept "$T/good_gz.beam"
[ "$RC" = 0 ] && ok "gzip beam accepted" || fail "gzip-compressed beam rejected" "$ERRTXT"
sz=$(stat -c %s "$T/good_gz.beam")
for cut in 10 $((sz / 2)) $((sz - 4)); do
    head -c "$cut" "$T/good_gz.beam" >"$T/bad_gz_cut_$cut.beam"
    must_reject "$T/bad_gz_cut_$cut.beam"
done

# a missing file is an I/O error (exit 3), also one line
"$KNIT" inspect "$T/no-such-file.beam" >/dev/null 2>"$T/stderr"
rc=$?
if [ "$rc" = 3 ] && [ "$(wc -l <"$T/stderr")" = 1 ] && grep -q 'no-such-file' "$T/stderr"; then
    ok "missing file: exit 3"
else
    fail "missing file: exit $rc, expected 3 and one line" "$(cat "$T/stderr")"
fi

finish
