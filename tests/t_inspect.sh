#!/usr/bin/env bash
# tests/t_inspect.sh - `knit inspect` against OTP: beam facts against beam_lib (fixtures
# compiled here with and without debug info and gzip-compressed, plus a sample of OTP's own
# beams), other files' terms against io_lib:format("~tp.~n"), ordering, errors, exit codes.
. "$(dirname "$0")/lib.sh"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
FX=$TOP/tests/fixtures/beam
OTP=$TOP/tests/otp

# The facts of `knit inspect --json` as lines, in the layout tests/otp/beam_facts.escript uses.
FACTS='.files[] | .path as $p | "module \($p) \(.module)", "md5 \($p) \(.md5)",
  "vsn \($p) \(.vsn)", "beh \($p) \(.behaviours | join(","))",
  (.attributes | to_entries[] | .key as $k | "attrkey \($p) \($k)",
     (.value[] | "attr \($p) \($k) \(.)")),
  (.exports[] | "exp \($p) \(.)"), (.imports[] | "imp \($p) \(.)"),
  "dbg \($p) \(.has_debug_info)"'

mkdir -p "$T/d" "$T/n" "$T/z"
# setup: a failure counts, a success is not a check
erlc +debug_info -o "$T/d" "$FX"/*.erl && erlc -o "$T/n" "$FX"/*.erl &&
    erlc +compressed +debug_info -o "$T/z" "$FX"/*.erl || fail "setup: fixtures compile"
cp "$T/d/knit_fx_sup.beam" "$T/renamed.dat" # a beam by content, not by name

# --- beam facts: fixtures and every beam of the OTP tree, against beam_lib ---
beams=("$T"/d/*.beam "$T"/n/*.beam "$T"/z/*.beam "$T/renamed.dat")
mapfile -t otp < <(find "$(erl -noshell -eval 'io:format("~s", [code:root_dir()]), halt().')/lib" -name '*.beam' | sort)
beams+=("${otp[@]}")
"$OTP/beam_facts.escript" "${beams[@]}" >"$T/want.txt" 2>"$T/want.err"
"$KNIT" inspect --json "${beams[@]}" >"$T/got.json" 2>"$T/got.err"
rc=$?
if [ $rc = 0 ] && jq -r "$FACTS" "$T/got.json" >"$T/got.txt" 2>>"$T/got.err"; then
    ok "inspect --json exits 0 with valid JSON"
else
    fail "inspect --json exits 0 with valid JSON" "exit $rc: $(cat "$T/got.err")"
fi
if [ -s "$T/want.txt" ] && diff "$T/want.txt" "$T/got.txt" >"$T/diff.txt"; then
    ok "beam facts of ${#beams[@]} beams equal beam_lib's ($(wc -l <"$T/want.txt") facts)"
else
    fail "beam facts equal beam_lib's" "$(cat "$T/want.err" "$T/diff.txt")"
fi
for key in knit_priority knit_depends knit_apply 'ünïcødé'; do
    if grep -q "^attr $T/d/knit_fx_server.beam $key " "$T/want.txt"; then
        ok "fixture has attribute $key"
    else
        fail "fixture has attribute $key"
    fi
done
# a string-valued attribute is its string, as written, not a list of character codes
inets=$(printf '%s\n' "${otp[@]}" | grep '/inets-[^/]*/ebin/inets.beam$' | head -1)
got=$(jq -r --arg p "$inets" '.files[] | select(.path == $p) | .attributes.app_vsn | join(" ")' "$T/got.json")
case $got in '"inets-'*'"') ok "inets.beam: app_vsn is one string text ($got)" ;;
*) fail "inets.beam: app_vsn is one string text" "got: $got" ;; esac
n_dbg=$(grep -c '^dbg .* true$' "$T/got.txt")
n_nodbg=$(grep -c "^dbg $T/n/.* false$" "$T/got.txt")
if [ "$n_nodbg" = 4 ] && [ "$n_dbg" -gt 8 ]; then
    ok "has_debug_info both ways"
else
    fail "has_debug_info both ways" "true: $n_dbg, false under n/: $n_nodbg"
fi

# --- the JSON document: shape and order ---
rev=("$T/z/knit_fx_sup.beam" "$T/d/knit_fx_latin.beam" "$T/n/knit_fx_server.beam")
"$KNIT" inspect --json "${rev[@]}" >"$T/rev.json"
got=$(jq -r '.files[].path' "$T/rev.json" | tr '\n' ' ')
if [ "$got" = "${rev[*]} " ]; then ok "JSON files in argument order"; else
    fail "JSON files in argument order" "$got"; fi
got=$(jq -r '.files[0] | [.type, (.md5 | length), (.has_debug_info | type),
    (.vsn | type), (.attributes | type)] | join(",")' "$T/rev.json")
if [ "$got" = "beam,32,boolean,string,object" ]; then ok "JSON beam object shape"; else
    fail "JSON beam object shape" "$got"; fi
"$KNIT" inspect --json "${beams[@]}" >"$T/again.json"
if cmp -s "$T/got.json" "$T/again.json"; then ok "parallel output is deterministic"; else
    fail "parallel output is deterministic"; fi

# --- the text report ---
"$KNIT" inspect "$T/d/knit_fx_server.beam" >"$T/one.txt"
md5=$(awk -v p="$T/d/knit_fx_server.beam" '$1 == "md5" && $2 == p {print $3}' "$T/want.txt")
if grep -qx "  md5           $md5" "$T/one.txt" && grep -qx "  module        knit_fx_server" \
    "$T/one.txt" && grep -qx "  debug info    yes" "$T/one.txt" &&
    grep -qx "  behaviours    gen_server" "$T/one.txt"; then
    ok "text report: module, md5, behaviours, debug info"
else
    fail "text report: module, md5, behaviours, debug info" "$(cat "$T/one.txt")"
fi
"$KNIT" inspect "$T/d/knit_fx_server.beam" "$T/n/knit_fx_sup.beam" >"$T/two.txt"
{ cat "$T/one.txt"; echo; "$KNIT" inspect "$T/n/knit_fx_sup.beam"; } >"$T/two_want.txt"
if cmp -s "$T/two_want.txt" "$T/two.txt"; then ok "text reports in argument order"; else
    fail "text reports in argument order" "$(diff "$T/two_want.txt" "$T/two.txt")"; fi

# --- other files: each term as io_lib:format("~tp.~n") prints it ---
cat >"$T/demo.app" <<'EOF'
%% an application resource file with a bit of everything
{application, demo,
 [{description, "Démo — ünïcode text"},
  {vsn, "1.0.0"},
  {modules, [demo_app, demo_sup, demo_server, demo_worker_with_a_long_name_a,
             demo_worker_with_a_long_name_b, demo_worker_with_a_long_name_c]},
  {registered, ['demo sup', demo_server]},
  {applications, [kernel, stdlib, sasl]},
  {mod, {demo_app, []}},
  {env, [{port, 8080}, {ratio, 0.75}, {blob, <<"bytes", 0, 255>>}, {map, #{a => 1}},
         {big, 123456789012345678901234567890}, {chars, [$a, $\n, 1024]}]}]}.
{another, term}.
EOF
terms=("$T/demo.app" /usr/lib/erlang/lib/stdlib-*/ebin/stdlib.app
    /usr/lib/erlang/lib/sasl-*/ebin/sasl.appup /usr/lib/erlang/releases/*/start_sasl.script
    /usr/lib/erlang/releases/*/start_sasl.boot /usr/lib/erlang/bin/start_clean.boot)
"$OTP/beam_print_terms.escript" "${terms[@]}" >"$T/tp_want.txt" 2>&1
"$KNIT" inspect "${terms[@]}" >"$T/tp_got.txt" 2>&1
if [ -s "$T/tp_want.txt" ] && cmp -s "$T/tp_want.txt" "$T/tp_got.txt"; then
    ok "terms of ${#terms[@]} files (.app, .appup, .script, .boot) equal ~tp"
else
    fail "terms of ${#terms[@]} files equal ~tp" "$(diff "$T/tp_want.txt" "$T/tp_got.txt")"
fi
got=$("$KNIT" inspect --json "$T/demo.app" /usr/lib/erlang/bin/start_clean.boot |
    jq -r '.files[] | "\(.type) \(.terms | length)"' | tr '\n' ' ')
if [ "$got" = "terms 2 etf 1 " ]; then ok "JSON for term files"; else
    fail "JSON for term files" "$got"; fi

# --- errors and exit codes ---
head -c 100 "$T/d/knit_fx_server.beam" >"$T/cut.beam"
printf 'FOR1\0\0\0\4BEAM' >"$T/empty.beam"
printf '{unterminated, term\n' >"$T/bad.config"
good="$T/d/knit_fx_latin.beam"
expect_exit "truncated beam: exit 2" 2 "$KNIT" inspect "$T/cut.beam"
case $ERR in "knit: $T/cut.beam: "*) ok "truncated beam: message names the file" ;;
*) fail "truncated beam: message names the file" "$ERR" ;; esac
expect_exit "beam without atoms: exit 2" 2 "$KNIT" inspect "$T/empty.beam"
case $ERR in *"missing atom table"*) ok "beam without atoms: message" ;;
*) fail "beam without atoms: message" "$ERR" ;; esac
expect_exit "bad term file: exit 2" 2 "$KNIT" inspect "$T/bad.config"
case $ERR in "knit: $T/bad.config:"*) ok "bad term file: message names the file" ;;
*) fail "bad term file: message names the file" "$ERR" ;; esac
expect_exit "missing file: exit 3" 3 "$KNIT" inspect "$T/nope.beam"
case $ERR in "knit: $T/nope.beam: "*) ok "missing file: message names it" ;;
*) fail "missing file: message names it" "$ERR" ;; esac
expect_exit "no file: exit 1" 1 "$KNIT" inspect
case $ERR in *"try 'knit --help'") ok "no file: usage hint" ;;
*) fail "no file: usage hint" "$ERR" ;; esac
expect_exit "unknown option: exit 1" 1 "$KNIT" inspect --bogus "$good"
expect_exit "first error wins (input)" 2 "$KNIT" inspect "$good" "$T/cut.beam" "$T/nope.beam"
case $ERR in "knit: $T/cut.beam: "*) ok "first error wins: names the first bad file" ;;
*) fail "first error wins: names the first bad file" "$ERR" ;; esac
expect_exit "first error wins (I/O)" 3 "$KNIT" inspect "$T/nope.beam" "$T/cut.beam" "$good"
out=$("$KNIT" inspect --json "$good" "$T/cut.beam" 2>/dev/null)
if [ -z "$out" ]; then ok "--json prints nothing on error"; else
    fail "--json prints nothing on error" "$out"; fi
out=$("$KNIT" inspect "$good" "$T/cut.beam" 2>/dev/null)
if [ "$out" = "$("$KNIT" inspect "$good")" ]; then ok "text output stops at the error"; else
    fail "text output stops at the error" "$out"; fi

finish
