#!/usr/bin/env bash
# t_make_relup.sh - `knit make-relup` against OTP's systools:make_relup/4 (one VM for all):
# the scenario matrix in tests/relup/ and every appup under tests/ through systools_rc; OTP's
# own systools test data, the LYSE release and the corpus appups when the external corpus is
# present (else skipped, by name); then the command line itself.
source "$(dirname "$0")/lib.sh"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
TOOL="$TOP/$KNIT_BUILD/tests/tool_rc"
CORPUS=$CORPUS_ROOT

if ! command -v escript >/dev/null; then
    fail "make-relup differential test needs escript"
    finish
    exit
fi

# 1-3: differential cases; each output line is "ok ..." or "FAIL ..." (details indented)
escript "$TOP/tests/otp/relup_diff.escript" "$KNIT" "$TOOL" "$TOP/tests/relup/cases.terms" \
    "$CORPUS" "$T/diff" >"$T/diff.out" 2>&1
rc=$?
[ $rc = 0 ] || fail "relup_diff.escript exited $rc" "$(tail -20 "$T/diff.out")"
while IFS= read -r line; do
    case $line in
    ok\ *) ok "${line#ok }" ;;
    "skipped corpus: "*) skip "t_make_relup corpus cases" "${line#skipped corpus: }" ;;
    FAIL\ *)
        details=$(awk -v l="$line" 'f && /^(ok|FAIL|summary)/ {exit} f {print} $0 == l {f=1}' \
            "$T/diff.out")
        fail "${line#FAIL }" "$details"
        ;;
    esac
done <"$T/diff.out"
summary=$(grep '^summary:' "$T/diff.out")
[ -n "$summary" ] || fail "no summary from relup_diff"
[ -n "${VERBOSE:-}" ] && echo "  $summary"
n=$(grep -c '^ok' "$T/diff.out")
want=120
have_corpus otp-systools && want=200
if [ "$n" -ge $want ]; then ok "at least $want differential checks ran ($n)"; else
    fail "only $n differential checks passed (expected at least $want)"; fi

# 4: the command line
S="$TOP/tests/relup/main"
mkdir -p "$T/out"
(cd "$S" && "$KNIT" make-relup rel/lm_1.rel --up rel/lm_0.rel --down rel/lm_0 \
    --path 'lib/*/ebin' --outdir "$T/out" 2>"$T/err")
if [ $? = 0 ] && head -1 "$T/out/relup" | grep -qx '%% coding: utf-8'; then
    ok "release files given with .rel are accepted; relup starts with the coding line"
else
    fail "make-relup with .rel suffixes" "$(cat "$T/err")"
fi
(cd "$S" && "$KNIT" make-relup rel/lm_1 --up rel/lm_0 --path 'lib/*/ebin' --outdir "$T/out" \
    --up rel/lm_0 >/dev/null 2>&1)
if [ $? = 0 ] && grep -c '{"0",\[\],' "$T/out/relup" | grep -qx 2; then
    ok "--up may be repeated"
else
    fail "--up repeated" "$(cat "$T/out/relup")"
fi
cp "$T/out/relup" "$T/relup.before"
expect_exit "a relup error exits 127" 127 \
    bash -c "cd '$S' && '$KNIT' make-relup rel/e_undef_module --up rel/e_0 --path 'lib/*/ebin' --outdir '$T/out'"
case $ERR in
*"'e2'"*"'e1'"*"(systools_rc: undef_module)"*) ok "undef_module names both modules" ;;
*) fail "undef_module message" "$ERR" ;;
esac
if cmp -s "$T/out/relup" "$T/relup.before"; then ok "a failed run leaves the old relup alone"; else
    fail "a failed run changed the relup"; fi
expect_exit "an appup parse error exits 2" 2 \
    bash -c "cd '$S' && '$KNIT' make-relup rel/e_parse --up rel/e_0 --path 'lib/*/ebin' --outdir '$T/out'"
case $ERR in
*"fe.appup"* | *"e.appup:1:"*) ok "appup parse error has file:line" ;;
*) fail "appup parse error location" "$ERR" ;;
esac
expect_exit "a missing appup exits 127" 127 \
    bash -c "cd '$S' && '$KNIT' make-relup rel/e_no_appup --up rel/e_0 --path 'lib/*/ebin' --outdir '$T/out'"
case $ERR in
*"e.appup"*"'e'"*"(systools_relup: file_problem)"*) ok "missing appup names file and app" ;;
*) fail "missing appup message" "$ERR" ;;
esac
expect_exit "no_relup exits 127" 127 \
    bash -c "cd '$S' && '$KNIT' make-relup rel/e_norelup --up rel/e_0 --path 'lib/*/ebin' --outdir '$T/out'"
case $ERR in
*'"1.0"'*"'e'"*"(systools_relup: no_relup)"*) ok "no_relup names version and app" ;;
*) fail "no_relup message" "$ERR" ;;
esac
(cd "$S" && "$KNIT" make-relup rel/bv_1 --up rel/bv_0 --path 'lib/*/ebin' --outdir "$T/out" \
    2>"$T/err")
if grep -q '^knit: warning: .*(bad_vsn)$' "$T/err"; then ok "warnings go to stderr"; else
    fail "bad_vsn warning" "$(cat "$T/err")"; fi
expect_exit "--warnings-as-errors turns warnings into errors" 127 \
    bash -c "cd '$S' && '$KNIT' make-relup rel/bv_1 --up rel/bv_0 --path 'lib/*/ebin' --outdir '$T/out' --warnings-as-errors"
expect_exit "a missing release file exits 2" 2 \
    bash -c "cd '$S' && '$KNIT' make-relup rel/nope --up rel/e_0 --outdir '$T/out'"
expect_exit "a missing outdir is an I/O error" 3 \
    bash -c "cd '$S' && '$KNIT' make-relup rel/lm_1 --up rel/lm_0 --path 'lib/*/ebin' --outdir '$T/none'"
expect_exit "no release file is a usage error" 1 "$KNIT" make-relup --up x
expect_exit "--up without files is a usage error" 1 "$KNIT" make-relup a --up --down b
expect_exit "an unknown option is a usage error" 1 "$KNIT" make-relup a --frobnicate
case $ERR in *"try 'knit --help'"*) ok "usage errors point to --help" ;; *) fail "usage hint" "$ERR" ;; esac

# 5: memory grows linearly with the changed modules of one application (it was quadratic:
# 2,500 -> 10,000 modules took 78 -> 865 MB). Peak RSS of 2,000 and 8,000 modules (hand-
# written appups, bench/gen_appups.escript): linear growth keeps the ratio near 2-3 (a fixed
# part of a few MB for the libraries), quadratic growth made it over 10.
if [ -x /usr/bin/time ]; then
    declare -A RSS=()
    for n in 2000 8000; do
        g=$T/onebig$n
        "$TOP/bench/gen_appups.escript" -a 1 -m $n "$g" >/dev/null || fail "gen_appups $n modules"
        mkdir -p "$g/out"
        RSS[$n]=$(/usr/bin/time -f '%M' "$KNIT" make-relup "$g/rel/synth-2.rel" --up "$g/rel/synth-1.rel" \
            --down "$g/rel/synth-1.rel" --path "$g/lib-v1/*/ebin" --path "$g/lib-v2/*/ebin" \
            --outdir "$g/out" 2>&1 >/dev/null | tail -1)
    done
    if [ -n "${KNIT_SANITIZED:-}" ]; then
        # ASan's shadow memory and quarantine swamp the figure: only the plain build is measured
        skip "make-relup memory growth" "peak RSS is not meaningful under AddressSanitizer"
    elif [ -f "$T/onebig8000/out/relup" ] && [ "${RSS[8000]:-0}" -gt 0 ] &&
        [ "${RSS[8000]}" -le $((4 * RSS[2000])) ]; then
        ok "make-relup memory is linear in one application's modules (${RSS[2000]} -> ${RSS[8000]} KB)"
    else
        fail "make-relup memory for 2,000 -> 8,000 modules of one application" \
            "peak RSS ${RSS[2000]:-?} KB -> ${RSS[8000]:-?} KB (more than 4x for 4x the modules)"
    fi
    n=$(grep -c '{load,{app0001_m' "$T/onebig8000/out/relup" 2>/dev/null)
    if [ "${n:-0}" = 15996 ]; then ok "the 8,000-module relup loads every plain module up and down"; else
        fail "8,000-module relup" "expected 15996 load instructions of plain modules, found ${n:-none}"; fi
fi
finish
