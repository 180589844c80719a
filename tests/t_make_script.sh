#!/usr/bin/env bash
# tests/t_make_script.sh - `knit make-script` against systools:make_script/2, byte for byte
#
# The .rel/.app fixtures are in tests/script/ (the .rel files name the installed OTP's
# kernel/stdlib/sasl/erts versions as @KERNEL@ etc.). One escript run
# (tests/otp/script_make.escript) makes OTP's .script/.boot for every case; knit must write
# the same bytes, or fail with the same systools reason and write nothing.
. "$(dirname "$0")/lib.sh"

if ! command -v erl >/dev/null || ! command -v escript >/dev/null || [ ! -x "$KNIT" ]; then
    fail "make-script: erl and escript on PATH and a built $KNIT are needed"
    finish
    exit
fi
ROOT=$(cd "$(dirname "$(readlink -f "$(command -v erl)")")/.." && pwd)
vsn_of() { ls -d "$ROOT/$1"-* 2>/dev/null | sed "s|.*/$1-||" | sort -V | tail -1; }
KERNEL=$(vsn_of lib/kernel)
STDLIB=$(vsn_of lib/stdlib)
SASL=$(vsn_of lib/sasl)
ERTS=$(vsn_of erts)
OTPREL=$(ls -d "$ROOT"/releases/*/start_clean.rel | head -1)
OTPREL=$(dirname "$OTPREL")

W=$(tmpdir)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
cp -r "$TOP/tests/script/apps/lib" "$TOP/tests/script/apps/other" "$W/"
mkdir -p "$W/rels" "$W/otp" "$W/knit"
for f in "$TOP"/tests/script/rels/*.rel; do
    sed -e "s/@KERNEL@/$KERNEL/g" -e "s/@STDLIB@/$STDLIB/g" -e "s/@SASL@/$SASL/g" \
        -e "s/@ERTS@/$ERTS/g" "$f" >"$W/rels/$(basename "$f")"
done
cp "$W/rels/basic.rel" "$W/rels/abs.rel"
for f in start_clean start_sasl no_dot_erlang; do cp "$OTPREL/$f.rel" "$W/rels/"; done

# CASE|PATHS (space-separated)|FLAGS (systools flag names)|EXPECTED (ok or knit's exit code)
CASES=(
    "basic|lib/*/ebin||ok"
    "abs|$W/lib/alpha-1.0/ebin||ok"
    "sasl|lib/*/ebin||ok"
    "types|lib/*/ebin||ok"
    "included|lib/*/ebin||ok"
    "incl_override|lib/*/ebin||ok"
    "incl_override_type|lib/*/ebin||ok"
    "optional_present|lib/*/ebin||ok"
    "optional_absent|lib/*/ebin||ok"
    "library|lib/delta-1.0/ebin lib/xi-1.0/ebin||ok"
    "order|lib/*/ebin||ok"
    "wildcard|lib/n*/ebin other/*/*/ebin||ok"
    "nodot|lib/*/ebin|no_dot_erlang|ok"
    "big|lib/*/ebin other/*/*/ebin||ok"
    "misc|lib/*/ebin||ok"
    "latin1|other/*/*/ebin||ok"
    "start_clean|||ok"
    "start_sasl|||ok"
    "no_dot_erlang||no_dot_erlang|ok"
    "err_missing|lib/*/ebin||127"
    "err_vsn|lib/*/ebin||127"
    "err_circular|lib/*/ebin||127"
    "err_dupmod|lib/*/ebin||127"
    "err_undefined|lib/*/ebin||127"
    "err_param|lib/*/ebin||127"
    "err_incl|lib/*/ebin||127"
    "err_badname|lib/*/ebin||127"
    "err_dupreg|lib/*/ebin||127"
    "err_kernel|lib/*/ebin||2"
    "err_syntax|lib/*/ebin||2"
)

# OTP's side, one VM for all cases
: >"$W/cases.txt"
for c in "${CASES[@]}"; do
    IFS='|' read -r name paths flags _ <<<"$c"
    plist=$(for p in $paths; do printf '"%s",' "$p"; done)
    flist=$(for f in $flags; do printf '%s,' "$f"; done)
    printf '{"%s", "rels/%s", [%s], "otp", [%s]}.\n' "$name" "$name" "${plist%,}" "${flist%,}" \
        >>"$W/cases.txt"
done
(cd "$W" && escript "$TOP/tests/otp/script_make.escript" cases.txt otp.txt) >"$W/otp.log" 2>&1 ||
    fail "make-script: OTP side failed" "$(cat "$W/otp.log")"

# same_file DESC A B: byte-identical, else say where they first differ
same_file() {
    local how
    if how=$(cmp "$2" "$3" 2>&1); then
        ok "$1"
    else
        fail "$1" "$how
$(diff "$2" "$3" 2>/dev/null | head -8)"
    fi
}

for c in "${CASES[@]}"; do
    IFS='|' read -r name paths flags want <<<"$c"
    args=(make-script "rels/$name.rel" --outdir knit)
    for p in $paths; do args+=(--path "$p"); done
    [ "$flags" = no_dot_erlang ] && args+=(--no-dot-erlang)
    otp=$(grep "^$name " "$W/otp.txt" | cut -d' ' -f2-)
    err=$(cd "$W" && "$KNIT" "${args[@]}" 2>&1 >/dev/null)
    rc=$?
    if [ "$want" = ok ]; then
        if [ "$otp" != ok ]; then
            fail "make-script $name: systools failed ($otp)"
            continue
        fi
        if [ $rc != 0 ]; then
            fail "make-script $name: exit $rc" "$err"
            continue
        fi
        same_file "make-script $name: .script" "$W/otp/$name.script" "$W/knit/$name.script"
        same_file "make-script $name: .boot" "$W/otp/$name.boot" "$W/knit/$name.boot"
    else
        kind=${otp#error }
        if [ "${otp%% *}" != error ]; then
            fail "make-script $name: systools did not fail ($otp)"
        elif [ $rc != "$want" ]; then
            fail "make-script $name: exit $rc, expected $want" "$err"
        elif ! grep -q "(systools_make: $kind)" <<<"$err"; then
            fail "make-script $name: message does not give systools' reason '$kind'" "$err"
        elif [ -e "$W/knit/$name.script" ] || [ -e "$W/knit/$name.boot" ]; then
            fail "make-script $name: wrote output despite the error"
        else
            ok "make-script $name: fails as systools does ($kind, exit $rc)"
        fi
    fi
done

# the missing_sasl warning, as systools gives it
err=$(cd "$W" && "$KNIT" make-script rels/basic.rel --path 'lib/*/ebin' --outdir knit 2>&1)
if grep -q "sasl" <<<"$err"; then ok "make-script: warns about missing sasl"; else
    fail "make-script: no missing sasl warning" "$err"; fi
err=$(cd "$W" && "$KNIT" make-script rels/sasl.rel --path 'lib/*/ebin' --outdir knit 2>&1)
if [ -z "$err" ]; then ok "make-script: no warning with sasl"; else
    fail "make-script: unexpected output with sasl" "$err"; fi

# without --outdir the outputs go beside the name given, which may lack .rel
(cd "$W" && "$KNIT" make-script rels/basic --path=lib/alpha-1.0/ebin) 2>/dev/null
same_file "make-script: no --outdir, name without .rel: .script" "$W/otp/basic.script" \
    "$W/rels/basic.script"
same_file "make-script: no --outdir, name without .rel: .boot" "$W/otp/basic.boot" \
    "$W/rels/basic.boot"

# command line and I/O errors
expect_exit "make-script: no release file" 1 "$KNIT" make-script
expect_exit "make-script: unknown option" 1 "$KNIT" make-script "$W/rels/basic.rel" --bogus
expect_exit "make-script: --path needs a value" 1 "$KNIT" make-script "$W/rels/basic.rel" --path
expect_exit "make-script: two release files" 1 "$KNIT" make-script "$W/rels/basic.rel" x.rel
expect_exit "make-script: missing .rel" 2 "$KNIT" make-script "$W/rels/nope.rel"
expect_exit "make-script: outdir missing" 3 "$KNIT" make-script "$W/rels/basic.rel" \
    --path "$W/lib/alpha-1.0/ebin" --outdir "$W/no/such/dir"
if [ -z "$(ls "$W/no" 2>/dev/null)" ]; then ok "make-script: I/O failure leaves nothing"; else
    fail "make-script: I/O failure left files"; fi

finish
