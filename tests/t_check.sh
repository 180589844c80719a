#!/usr/bin/env bash
# t_check.sh - `knit check`: the Code-chunk decoder against beam_disasm, every rule on a
# module (or release) that triggers it and on its corrected version, locations, silencing
# (module attribute and config), exit codes, --json, and the checks inside `knit`.
# Fixtures: tests/check/single/*.erl (single-version rules), tests/check/proj (releases 1
# and 2 of a two-application project: bad, good and warn variants of version 2).
source "$(dirname "$0")/lib.sh"
export KNIT_TEMPLATES=${KNIT_TEMPLATES:-$TOP/templates}
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
FX=$TOP/tests/check
TOOL=$TOP/$KNIT_BUILD/tests/tool_beam_code

for tool in jq erlc erl escript; do
    command -v "$tool" >/dev/null || fail "t_check.sh needs '$tool' on PATH"
done
[ -x "$KNIT" ] || fail "no knit binary at $KNIT (build it first)"
[ "$T_FAIL" = 0 ] || { finish; exit; }

# kn ARGS... - run knit in $PWD; stdout in $OUT, stderr in $ERR, exit code in $RC
kn() {
    "$KNIT" "$@" >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
}
eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:      $2
expected: $3
stderr:   $ERR"; fi; }
rc_is() { if [ "$RC" = "$2" ]; then ok "$1"; else fail "$1: exit $RC, expected $2" "stdout: $OUT
stderr: $ERR"; fi; }
has() { if printf '%s' "$2" | grep -qF -- "$3"; then ok "$1"; else fail "$1: no '$3' in" "$2"; fi; }
hasnt() { if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: '$3' in" "$2"; else ok "$1"; fi; }
# jq_out FILTER - the last kn's stdout through jq -c
jq_out() { printf '%s' "$OUT" | jq -c "$1" 2>&1; }
# marker FILE TAG - the line numbers of FILE holding "HERE TAG", comma-separated
marker() { grep -n "HERE $2\$" "$1" | cut -d: -f1 | paste -sd, -; }

# ============ 1. the decoder agrees with beam_disasm (every function's counts and entry)
mkdir -p "$T/single"
(cd "$FX/single" && erlc +debug_info -o "$T/single" ./*.erl) || fail "compiling tests/check/single"
if [ -x "$TOOL" ]; then
    # every 8th beam of the installed OTP (sorted), plus the fixtures
    otp=$(ls /usr/lib/erlang/lib/*/ebin/*.beam 2>/dev/null | sort | awk 'NR % 8 == 1')
    beams="$otp $(ls "$T"/single/*.beam)"
    "$TOOL" $beams >"$T/mine.txt" 2>"$T/mine.err" || fail "tool_beam_code failed" "$(cat "$T/mine.err")"
    escript "$FX/disasm_counts.escript" $beams >"$T/otp.txt" 2>"$T/otp.err" ||
        fail "disasm_counts.escript failed" "$(head -5 "$T/otp.err")"
    n=$(wc -l <"$T/otp.txt")
    if [ "$n" -gt 1000 ] && cmp -s "$T/mine.txt" "$T/otp.txt"; then
        ok "Code chunk decoded as beam_disasm decodes it ($n functions)"
    else
        fail "Code chunk decoding differs from beam_disasm ($n functions)" \
            "$(diff "$T/mine.txt" "$T/otp.txt" | head -20)"
    fi
else
    fail "no $TOOL (run 'make unit-bins')"
fi

# ============ 2. single-version rules: each bad module triggers its rule, its fix does not
cd "$T/single" || exit 1
for pair in loop:local_loop spawn:local_loop recv:receive_no_after funstate:fun_in_state \
    stored:stored_fun; do
    base=${pair%%:*} rule=${pair#*:}
    kn --json check "${base}_bad.beam"
    rc_is "$base: a warning exits 0" 0
    eq "$base: the bad module has one finding, $rule" "$(jq_out '[.findings[] | .rule]')" "[\"$rule\"]"
    eq "$base: severity" "$(jq_out '[.findings[] | .severity]')" '["warning"]'
    want=$(marker "$FX/single/${base}_bad.erl" "$rule")
    eq "$base: location is the marked source line" \
        "$(jq_out '.findings[0] | "\(.file):\(.line)"')" "\"single/${base}_bad.erl:$want\""
    eq "$base: module and function" "$(jq_out '.findings[0] | [.module, (.function | type)]')" \
        "[\"${base}_bad\",\"string\"]"
    msg=$(jq_out '.findings[0] | (.message | length > 40) and (.fix | length > 40)')
    eq "$base: what goes wrong and the fix are said" "$msg" "true"
    kn --json check "${base}_good.beam"
    rc_is "$base: the corrected module exits 0" 0
    eq "$base: the corrected module has no finding" "$(jq_out '.findings')" "[]"
done

kn check loop_bad.beam
has "text output: location, severity and rule" "$OUT" "single/loop_bad.erl:9: warning [local_loop] loop_bad:loop/1"
has "text output: the fix" "$OUT" "    fix: recurse with a fully qualified call"
has "text output: summary" "$OUT" "knit check: 1 module, 0 errors, 1 warning, 0 notes"
kn check --strict loop_bad.beam
rc_is "--strict: a warning exits 2" 2
has "--strict: the reason" "$ERR" "check failed: 0 errors, 1 warning (--strict)"
kn check --strict loop_good.beam
rc_is "--strict: no finding exits 0" 0
kn --json check --strict loop_bad.beam
rc_is "--strict --json: exits 2" 2
eq "--strict --json: the findings are still printed" "$(jq_out '[.command, .strict, .summary.warnings]')" '["check",true,1]'

# silencing in the module
kn --json check ignored.beam
eq "-knit_check_ignore([local_loop]) silences the rule" "$(jq_out '[.findings, .summary.silenced]')" '[[],1]'
kn check ignored.beam
has "the summary counts what was silenced" "$OUT" "(1 silenced)"

# without debug info the bytecode still finds it; without line info the function names it
mkdir -p "$T/nodebug" "$T/noline"
erlc -o "$T/nodebug" "$FX/single/loop_bad.erl" && erlc +no_line_info -o "$T/noline" "$FX/single/loop_bad.erl"
kn --json check "$T/nodebug/loop_bad.beam"
eq "no debug info: local_loop found from the bytecode" "$(jq_out '[.findings[] | .rule]')" '["local_loop"]'
line=$(jq_out '.findings[0].line')
if [ "$line" -ge 7 ] && [ "$line" -le 13 ]; then ok "no debug info: a line of loop/1 from the Line chunk ($line)"; else fail "no debug info: line $line is not in loop/1 (7-13)"; fi
kn --json check "$T/noline/loop_bad.beam"
eq "no line info: module and function name the place" "$(jq_out '.findings[0] | [.file, .line, .location]')" \
    '[null,null,"loop_bad:loop/1"]'

# errors
printf 'not a beam' >"$T/junk.beam"
kn check "$T/junk.beam"
rc_is "a file that is no beam exits 2" 2
has "... naming it" "$ERR" "junk.beam"
kn check "$T/missing.beam"
rc_is "a missing file exits 3" 3
kn check --bogus
rc_is "an unknown option exits 1" 1
kn check --from 1 loop_bad.beam
rc_is "--from with beam files exits 1" 1
kn check --from
rc_is "--from without a version exits 1" 1
cd "$TOP" || exit 1

# ============ 3. version rules: release 1, then version 2 bad / good
P=$T/proj
build_app() { # build_app APP [ERLC OPTION]: apps/APP/src into _build/lib/APP-VSN/ebin
    local app=$1 src=$P/apps/$1/src vsn ebin mods
    vsn=$(sed -n 's/.*{vsn, *"\([^"]*\)"}.*/\1/p' "$src/$app.app.src")
    ebin=$P/_build/lib/$app-$vsn/ebin
    rm -rf "$P/_build/lib/$app-"*
    mkdir -p "$ebin"
    (cd "$src" && erlc "${2:-+debug_info}" -o "$ebin" ./*.erl) || fail "compiling $app"
    mods=$(cd "$ebin" && ls ./*.beam | sed 's/^..//; s/\.beam$//' | paste -sd, -)
    sed "s/{modules, *\[\]}/{modules, [$mods]}/" "$src/$app.app.src" >"$ebin/$app.app"
}
# version2 VARIANT [ERLC OPTION] - app_a as release 2 has it (app_b stays as built for 1)
version2() {
    rm -rf "$P/apps/app_a" "$P/releases/chk-2.tar.gz" "$P/upgrades"
    cp -R "$FX/proj/v1/app_a" "$P/apps/" && cp -R "$FX/proj/$1/app_a/." "$P/apps/app_a/"
    [ "$1" != bad ] || rm "$P/apps/app_a/src/a_old.erl"
    sed -i -E 's/\{rel, "chk", "[^"]*"/{rel, "chk", "2"/' "$P/rel/reltool.config"
    build_app app_a "${2:-}"
}
mkdir -p "$P/apps" && cp -R "$FX/proj/rel" "$P/" && cp -R "$FX/proj/v1/app_a" "$FX/proj/app_b" "$P/apps/"
build_app app_a && build_app app_b
cd "$P" || exit 1
kn release
[ "$RC" = 0 ] || fail "setup: knit release of version 1" "$ERR"

kn --json check
rc_is "release 1 alone: exits 0" 0
eq "release 1 alone: single-version rules on its own applications" "$(jq_out '[.from, .summary.modules, .findings]')" '[[],7,[]]'

version2 bad
kn --json check
rc_is "bad version 2: errors exit 2" 2
eq "bad version 2: compared with release 1" "$(jq_out '.from')" '["1"]'
eq "bad version 2: the findings (rule, severity, location, module)" \
    "$(jq_out '[.findings[] | [.rule, .severity, .location, .module]] | sort')" \
    "$(jq -c 'sort' <<'EOF'
[["shared_record_changed","warning","include/shared.hrl:2","a_rec"],
 ["state_record_changed","error","src/a_srv.erl:5","a_srv"],
 ["sup_child_no_down","error","src/a_sup.erl:7","a_sup"],
 ["sup_children_changed","warning","src/a_sup.erl:7","a_sup"],
 ["removed_export_called","error","src/b_user.erl:5","b_user"],
 ["removed_export_called","error","src/b_user.erl:6","b_user"],
 ["deleted_module_called","error","src/b_user.erl:7","b_user"]]
EOF
)"
want=$(marker "$FX/proj/app_b/src/b_user.erl" removed_export_called)
eq "removed_export_called: at the call" "$(jq_out '[.findings[] | select(.rule == "removed_export_called") | .line][0]')" "$want"
want=$(marker "$FX/proj/app_b/src/b_user.erl" rpc)
has "removed_export_called: an rpc:call to it too" "$(jq_out '[.findings[] | select(.line == '"$want"') | .message]')" "a_lib:g/1 (by rpc:call)"
has "sup_child_no_down: names the child" "$(jq_out '[.findings[] | select(.rule == "sup_child_no_down") | .message]')" "adds the child a_two"
has "shared_record_changed: names both applications" "$(jq_out '[.findings[] | select(.rule == "shared_record_changed") | .message]')" "app_a (a_rec), app_b (b_user)"
has "state_record_changed: names the fields" "$(jq_out '[.findings[] | select(.rule == "state_record_changed") | .message]')" "fields n -> n,seen"
kn check
has "bad version 2, text: the summary" "$OUT" "knit check: 4 modules, 5 errors, 2 warnings, 0 notes"
has "bad version 2, text: the fix of the supervisor rule" "$OUT" "fix: add -knit_apply({down, first, {M, F, A}})"
has "bad version 2: the reason on stderr" "$ERR" "check failed: 5 errors, 2 warnings"

kn --json check --from 1
eq "--from 1: compared with 1 only" "$(jq_out '[.from, .summary.errors]')" '[["1"],5]'
kn check --from 9
rc_is "--from a version with no release tarball exits 2" 2
has "... naming it" "$ERR" "9"

# a hand-written appup is used as it is: its apply instructions start and stop the child
printf '{"2", [{"1", [{apply, {a_sup, start_two, []}}]}],\n      [{"1", [{apply, {a_sup, stop_two, []}}]}]}.\n' \
    >"$P/_build/lib/app_a-2/ebin/app_a.appup"
kn --json check
eq "hand-written appup with up and down applies: no supervisor finding" \
    "$(jq_out '[.findings[] | select(.module == "a_sup")]')" '[]'
printf '{"2", [{"1", [{apply, {a_sup, start_two, []}}]}], [{"1", []}]}.\n' \
    >"$P/_build/lib/app_a-2/ebin/app_a.appup"
kn --json check
eq "hand-written appup without a down apply: sup_child_no_down" \
    "$(jq_out '[.findings[] | select(.module == "a_sup") | .rule]')" '["sup_child_no_down"]'
rm "$P/_build/lib/app_a-2/ebin/app_a.appup"

# silencing in the config: a rule, and a rule for one module
cp rel/reltool.config "$T/reltool.saved"
printf '{check_ignore, [sup_child_no_down, {removed_export_called, b_user}, {state_record_changed, other}]}.\n' >>rel/reltool.config
kn --json check
eq "check_ignore: Rule and {Rule, Module} silence, another module's entry does not" \
    "$(jq_out '[([.findings[] | .rule] | unique), .summary.silenced]')" \
    '[["deleted_module_called","shared_record_changed","state_record_changed","sup_children_changed"],3]'
cp "$T/reltool.saved" rel/reltool.config
printf '{check_ignore, [local_lop]}.\n' >>rel/reltool.config
kn check
has "check_ignore naming no rule: a warning" "$ERR" "check_ignore: 'local_lop' is no rule of knit check"
cp "$T/reltool.saved" rel/reltool.config
printf '{check_ignore, [42]}.\n' >>rel/reltool.config
kn check
rc_is "check_ignore with a bad entry exits 2" 2
has "... naming the option" "$ERR" "check_ignore"
cp "$T/reltool.saved" rel/reltool.config

# silencing in a module of a release
sed -i 's/^-behaviour(gen_server)\./-behaviour(gen_server).\n-knit_check_ignore([state_record_changed])./' apps/app_a/src/a_srv.erl
build_app app_a
kn --json check
eq "-knit_check_ignore in a changed module silences its version rule" \
    "$(jq_out '[([.findings[] | select(.module == "a_srv")] | length), .summary.silenced]')" '[0,1]'

# the changed modules without debug info: the rules that need it say so once per module
version2 bad +no_debug_info
kn --json check
eq "no debug info: the abstract-code rules say they could not check, once per module" \
    "$(jq_out '[.findings[] | select(.rule == "no_debug_info") | [.module, .severity]] | sort')" \
    '[["a_lib","info"],["a_rec","info"],["a_srv","info"],["a_sup","info"]]'
eq "no debug info: the bytecode rules still run" \
    "$(jq_out '[.findings[] | select(.severity == "error") | .rule] | sort')" \
    '["deleted_module_called","removed_export_called","removed_export_called"]'

# an application that may include the changed header but has no debug info: said, not passed
cp -R "$P/_build/lib/app_b-1" "$T/app_b-1.saved"
build_app app_b +no_debug_info
version2 bad
kn --json check
eq "an includer without debug info: noted, and the record is not called shared" \
    "$(jq_out '[.findings[] | select(.module == "b_user" and .severity == "info") | .rule], [.findings[] | select(.rule == "shared_record_changed")]' | paste -sd' ')" \
    '["no_debug_info"] []'
# app_b as release 1 has it (recompiling it against the changed header would change it)
rm -rf "$P/_build/lib/app_b-1" && cp -R "$T/app_b-1.saved" "$P/_build/lib/app_b-1"

version2 good
kn --json check
rc_is "good version 2: exits 0" 0
eq "good version 2: no finding" "$(jq_out '[.findings, .summary.errors, .summary.warnings]')" '[[],0,0]'

version2 flags
kn --json check
eq "a supervisor whose flags changed (same children): no finding" "$(jq_out '[.findings, .summary.modules]')" '[[],1]'

# ============ 4. knit runs the checks on the upgrades it builds
version2 warn
kn
rc_is "knit with a warning: the upgrade is built" 0
has "knit with a warning: printed" "$ERR" "warning: src/a_loop.erl:9: [local_loop]"
[ -f upgrades/chk-2.tar.gz ] && ok "knit with a warning: upgrade tarball written" || fail "no upgrades/chk-2.tar.gz"
rm -f releases/chk-2.tar.gz upgrades/chk-2.tar.gz
kn --json
eq "knit --json: the warning is in the report" \
    "$(jq_out '[.warnings[] | select(test("\\[local_loop\\]"))] | length')" "1"
version2 bad
kn
rc_is "knit with check errors: exits 2" 2
has "knit with check errors: each error printed" "$ERR" "error: src/a_sup.erl:7: [sup_child_no_down]"
has "knit with check errors: the reason" "$ERR" "knit check found 5 errors in the upgrade"
[ -f upgrades/chk-2.tar.gz ] && fail "knit with check errors: an upgrade tarball was written" || ok "knit with check errors: no upgrade tarball"

# ============ 5. the downgrade that killed a node: tests/e2e's 2.0.0 adds e2e_cache to
# e2e_core_sup; going back to 1.0.0 keeps it. An error until a down apply removes it.
E=$T/e2e
mkdir -p "$E"
cp -R "$TOP/tests/e2e/A" "$TOP/tests/e2e/B" "$E/"
rm -rf "$E/A/lib" "$E/B/lib"
sed -i '/^-knit_check_ignore(\[sup_child_no_down\])\./d' "$E/B/apps/e2e_core/src/e2e_core_sup.erl"
"$TOP/tests/e2e/build.sh" "$E/A" >/dev/null && "$TOP/tests/e2e/build.sh" "$E/B" >/dev/null ||
    fail "compiling tests/e2e A and B"
cd "$E/A" && kn release
[ "$RC" = 0 ] || fail "setup: knit release of tests/e2e/A" "$ERR"
cd "$E/B" || exit 1
kn --json check
rc_is "e2e 1.0.0 -> 2.0.0: the added child without a down apply exits 2" 2
eq "e2e 1.0.0 -> 2.0.0: sup_child_no_down names e2e_cache" \
    "$(jq_out '[.findings[] | select(.rule == "sup_child_no_down") | [.module, .from, (.message | test("adds the child e2e_cache"))]]')" \
    '[["e2e_core_sup","1.0.0",true]]'
sed -i 's/^-knit_apply({last, {e2e_core_sup, start_new_child, \[e2e_cache\]}})\./&\n-knit_apply({down, first, {e2e_core_sup, stop_child, [e2e_cache]}}).\n-export([stop_child\/1])./' \
    "$E/B/apps/e2e_core/src/e2e_core_sup.erl"
printf 'stop_child(Id) ->\n    _ = supervisor:terminate_child(?MODULE, Id),\n    supervisor:delete_child(?MODULE, Id).\n' \
    >>"$E/B/apps/e2e_core/src/e2e_core_sup.erl"
"$TOP/tests/e2e/build.sh" "$E/B" >/dev/null || fail "compiling tests/e2e B with the down apply"
kn --json check
rc_is "e2e 1.0.0 -> 2.0.0 with a down apply: exits 0" 0
eq "e2e 1.0.0 -> 2.0.0 with a down apply: no supervisor finding" \
    "$(jq_out '[.findings[] | select(.module == "e2e_core_sup")]')" '[]'
cd "$TOP" || exit 1
finish
