#!/usr/bin/env bash
# t_flow.sh - knit's flow (plain `knit`, `knit appup`, `knit relup`) at its edges, from the
# command line: a first release, a second version with its slim upgrade tarball and --json
# report, existing tarballs and --force, reproducible tarballs, --from errors, the filters
# that choose earlier releases, a hand-written appup that lacks a from-version, untrusted
# earlier release tarballs, the tmp dir, -q/-l logging, a broken sys.config overlay.
# Works on copies of example/ in a temp dir; no Erlang node is started.
source "$(dirname "$0")/lib.sh"
export KNIT_TEMPLATES=${KNIT_TEMPLATES:-$TOP/templates}
unset SOURCE_DATE_EPOCH
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT

if [ ! -x "$KNIT" ]; then
    fail "no knit binary at $KNIT (build it first)"
    finish
    exit
fi
for tool in jq erlc erl tar sha256sum; do
    command -v "$tool" >/dev/null || fail "t_flow.sh needs '$tool' on PATH"
done
[ "$T_FAIL" = 0 ] || { finish; exit; }

# --- helpers
# kn DIR ARGS... - run knit in DIR; stdout in $OUT, stderr in $ERR, exit code in $RC
kn() {
    local d=$1
    shift
    (cd "$d" && "$KNIT" "$@") >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
}
# rc_is DESC WANT - the last kn's exit code
rc_is() {
    if [ "$RC" = "$2" ]; then ok "$1"; else fail "$1: exit $RC, expected $2" "stderr: $ERR"; fi
}
# eq DESC GOT WANT
eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:      $2
expected: $3"; fi
}
# jeq DESC JQ-FILTER WANT - the last kn's stdout (JSON) through jq -c
jeq() {
    local got
    got=$(printf '%s' "$OUT" | jq -c "$2" 2>&1)
    eq "$1 ($2)" "$got" "$3"
}
# has DESC TEXT NEEDLE - TEXT contains NEEDLE (fixed string)
has() {
    if printf '%s' "$2" | grep -qF -- "$3"; then ok "$1"; else fail "$1: no '$3' in" "$2"; fi
}
hasnt() {
    if printf '%s' "$2" | grep -qiF -- "$3"; then fail "$1: '$3' in" "$2"; else ok "$1"; fi
}
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
absent() { if [ -e "$2" ] || [ -L "$2" ]; then fail "$1: $2 exists"; else ok "$1"; fi; }
present() { if [ -f "$2" ]; then ok "$1"; else fail "$1: no file $2"; fi; }
# artifact_ok DESC KIND PATH - the last JSON report lists PATH as KIND with its size and sha256
artifact_ok() {
    local kind=$2 path=$3 got want
    got=$(printf '%s' "$OUT" | jq -c --arg k "$kind" '[.artifacts[] | select(.kind == $k)]')
    want=$(jq -cn --arg k "$kind" --arg p "$path" --argjson s "$(stat -c %s "$path" 2>/dev/null || echo -1)" \
        --arg h "$(sha "$path")" '[{kind: $k, path: $p, size: $s, sha256: $h}]')
    eq "$1: $kind artifact (path, size, sha256)" "$got" "$want"
}
# set_rel_vsn DIR VSN - the boot release's version in DIR/rel/reltool.config
set_rel_vsn() { sed -i -E "s/\{rel, \"hello\", \"[^\"]*\"/{rel, \"hello\", \"$2\"/" "$1/rel/reltool.config"; }
# set_app_vsn DIR VSN - hello's version in its .app.src
set_app_vsn() { sed -i -E "s/\{vsn, \"[^\"]*\"\}/{vsn, \"$2\"}/" "$1/apps/hello/src/hello.app.src"; }
compile() { rm -rf "$1/_build" && "$1/build.sh" >/dev/null 2>"$T/.cerr" || fail "compile $1" "$(cat "$T/.cerr")"; }
new_project() { cp -R "$TOP/example" "$1" && rm -rf "$1/_build" "$1/hello" "$1/releases" "$1/upgrades"; }

# the installed OTP's kernel, sasl and stdlib versions: "kernel=V","sasl=V","stdlib=V"
OTPV=$(erl -noshell -eval '[application:load(A) || A <- [kernel, stdlib, sasl]],
    V = fun(A) -> {ok, X} = application:get_key(A, vsn), X end,
    io:format("\"kernel=~s\",\"sasl=~s\",\"stdlib=~s\"", [V(kernel), V(sasl), V(stdlib)]),
    halt().')

# ============ 1. the first release: nothing earlier
A=$T/a
new_project "$A"
compile "$A"
kn "$A" --json
rc_is "1.0.0: knit --json" 0
REL1=$A/releases/hello-1.0.0.tar.gz
present "1.0.0: release tarball" "$REL1"
absent "1.0.0: no upgrade dir for a first release" "$A/upgrades"
hasnt "1.0.0: no warning on stderr" "$ERR" "warning"
jeq "1.0.0 json" .command '"all"'
jeq "1.0.0 json" '.release | [.name, .vsn]' '["hello","1.0.0"]'
# every application of the release, with its version (sorted by name)
APPS='.release.apps | to_entries | map("\(.key)=\(.value)") | sort'
jeq "1.0.0 json: release.apps" "$APPS" "[\"hello=1.0.0\",$OTPV]"
jeq "1.0.0 json" '.artifacts | length' 1
artifact_ok "1.0.0" release_tarball "$REL1"
jeq "1.0.0 json" '[.upgrades, .skipped, .warnings]' '[[],[],[]]'
SHA_REL1=$(sha "$REL1")
kn "$A" relup
rc_is "1.0.0: knit relup with no earlier release" 0
has "1.0.0: knit relup says there is no earlier release" "$ERR" "no earlier release of hello in $A/releases"
absent "1.0.0: knit relup builds no upgrade" "$A/upgrades"

# ============ 2. a second version: hello 1.1.0 in release 1.1.0
# hello_text changes (it calls no other changed module); hello_punct is new, and the
# changed hello_server calls it: knit infers hello_server's dependency on it
set_app_vsn "$A" 1.1.0
set_rel_vsn "$A" 1.1.0
cat >"$A/apps/hello/src/hello_text.erl" <<'ERL'
-module(hello_text).
-export([format/1]).

format(Name) ->
    {ok, Greeting} = application:get_env(hello, greeting),
    Greeting ++ ", " ++ Name ++ "!!".
ERL
cat >"$A/apps/hello/src/hello_punct.erl" <<'ERL'
-module(hello_punct).
-export([tidy/1]).

tidy(S) -> string:trim(S).
ERL
sed -i 's/{reply, hello_text:format(Name), /{reply, hello_punct:tidy(hello_text:format(Name)), /' \
    "$A/apps/hello/src/hello_server.erl"
grep -q hello_punct "$A/apps/hello/src/hello_server.erl" || fail "fixture: hello_server.erl does not call hello_punct"
compile "$A"
kn "$A" --json -v
rc_is "1.1.0: knit --json -v" 0
REL2=$A/releases/hello-1.1.0.tar.gz
UP2=$A/upgrades/hello-1.1.0.tar.gz
present "1.1.0: release tarball" "$REL2"
present "1.1.0: upgrade tarball" "$UP2"
artifact_ok "1.1.0" release_tarball "$REL2"
artifact_ok "1.1.0" upgrade_tarball "$UP2"
artifact_ok "1.1.0" relup "$A/hello/releases/1.1.0/relup"
jeq "1.1.0 json" '.release | [.name, .vsn]' '["hello","1.1.0"]'
jeq "1.1.0 json: release.apps" "$APPS" "[\"hello=1.1.0\",$OTPV]"
jeq "1.1.0 json" '[.upgrades[] | [.from, .skipped]]' '[["1.0.0",false]]'
jeq "1.1.0 json" '[.skipped, .warnings]' '[[],[]]'
HELLO='.upgrades[0].apps[] | select(.app == "hello")'
jeq "1.1.0 json: only hello changed" '[.upgrades[0].apps[].app]' '["hello"]'
jeq "1.1.0 json: hello" "$HELLO | [.from_vsn, .to_vsn, .appup]" '["1.0.0","1.1.0","generated"]'
jeq "1.1.0 json: hello" "$HELLO | [.added, .deleted, (.changed | sort)]" \
    '[["hello_punct"],[],["hello_server","hello_text"]]'
jeq "1.1.0 json: hello_text" "$HELLO | .modules[] | select(.module == \"hello_text\") | [.kind, .up, .inferred_depends]" \
    '["load_module","{load_module,hello_text,brutal_purge,brutal_purge,[]}",[]]'
jeq "1.1.0 json: hello_server's inferred dependency" \
    "$HELLO | .modules[] | select(.module == \"hello_server\") | .inferred_depends | index(\"hello_punct\") != null" true
jeq "1.1.0 json: hello_server's up names hello_punct in its Deps" \
    "$HELLO | .modules[] | select(.module == \"hello_server\") | .up | test(\"^\\\\{update,hello_server,.*hello_punct.*\\\\]\\\\}$\")" true
has "1.1.0: -v shows the inferred dependency" "$ERR" \
    "hello 1.0.0 -> 1.1.0: hello_server depends on hello_punct (inferred from its calls)"
# the slim upgrade tarball: hello 1.1.0 and the release files, no OTP app, no ERTS
tar tzf "$UP2" >"$T/up2.list" 2>&1 || fail "tar tzf $UP2" "$(cat "$T/up2.list")"
got=$(grep -v '^lib/hello-1\.1\.0/.' "$T/up2.list" | sort)
want=$(printf '%s\n' lib/ lib/hello-1.1.0/ releases/ releases/1.1.0/ releases/hello-1.1.0.rel \
    releases/1.1.0/hello.rel releases/1.1.0/relup releases/1.1.0/hello.boot releases/1.1.0/start.boot \
    releases/1.1.0/start_clean.boot releases/1.1.0/sys.config releases/1.1.0/vm.args | sort)
eq "1.1.0: upgrade tarball entries outside lib/hello-1.1.0/" "$got" "$want"
got=$(grep '^lib/hello-1\.1\.0/ebin/[^/]*\.beam$' "$T/up2.list" | sort | paste -sd' ' -)
eq "1.1.0: upgrade tarball has hello 1.1.0's beams" "$got" \
    "$(printf 'lib/hello-1.1.0/ebin/%s.beam\n' hello_app hello_punct hello_server hello_sup hello_text | sort | paste -sd' ' -)"
grep -q '^lib/hello-1\.1\.0/ebin/hello\.app$' "$T/up2.list" && ok "1.1.0: upgrade tarball has hello.app" ||
    fail "1.1.0: no lib/hello-1.1.0/ebin/hello.app in the upgrade tarball" "$(cat "$T/up2.list")"
bad=$(grep -E '^(\./)?(lib/(kernel|stdlib|sasl)-|erts-|bin/)' "$T/up2.list")
[ -z "$bad" ] && ok "1.1.0: no OTP application, ERTS or bin/ in the upgrade tarball" ||
    fail "1.1.0: the slim upgrade tarball holds unchanged parts" "$bad"
SHA_REL2=$(sha "$REL2")
SHA_UP2=$(sha "$UP2")

# ============ 3. tarballs that exist: exit 3 without force, untouched; -f / force=true
kn "$A"
rc_is "1.1.0 again: knit refuses to replace the release tarball" 3
has "1.1.0 again: the message names the tarball" "$ERR" "$REL2"
has "1.1.0 again: the message says to use --force" "$ERR" "--force"
absent "1.1.0 again: tmp dir removed after the failure" "$A/.knit_tmp"
kn "$A" relup
rc_is "1.1.0 again: knit relup refuses to replace the upgrade tarball" 3
has "1.1.0 again: relup's message names the upgrade tarball" "$ERR" "$UP2"
has "1.1.0 again: relup's message says to use --force" "$ERR" "--force"
eq "1.1.0 again: release tarball untouched" "$(sha "$REL2")" "$SHA_REL2"
eq "1.1.0 again: upgrade tarball untouched" "$(sha "$UP2")" "$SHA_UP2"
eq "1.1.0 again: 1.0.0's release tarball untouched" "$(sha "$REL1")" "$SHA_REL1"
# the rest in A needs no ERTS in the build: smaller tarballs, faster runs
echo '{include_erts, false}.' >>"$A/rel/reltool.config"
# -f and force=true each replace both tarballs; with SOURCE_DATE_EPOCH, two builds in
# different seconds give byte-identical tarballs
export SOURCE_DATE_EPOCH=1700000000
# (a replaced tarball is a new file renamed into place: a new inode)
ino() { stat -c %i "$1" 2>/dev/null; }
i1=$(ino "$REL2") i2=$(ino "$UP2")
kn "$A" -f
rc_is "1.1.0: knit -f (SOURCE_DATE_EPOCH set)" 0
[ "$(ino "$REL2")" != "$i1" ] && ok "1.1.0: knit -f replaced the release tarball" ||
    fail "1.1.0: knit -f did not replace $REL2 (same inode $i1)" "$ERR"
[ "$(ino "$UP2")" != "$i2" ] && ok "1.1.0: knit -f replaced the upgrade tarball" ||
    fail "1.1.0: knit -f did not replace $UP2 (same inode $i2)" "$ERR"
r1=$(sha "$REL2") u1=$(sha "$UP2")
sleep 1.1
touch "$A"/_build/lib/hello-1.1.0/ebin/*
i1=$(ino "$REL2") i2=$(ino "$UP2")
kn "$A" force=true
rc_is "1.1.0: knit force=true (SOURCE_DATE_EPOCH set)" 0
[ "$(ino "$REL2")" != "$i1" ] && [ "$(ino "$UP2")" != "$i2" ] && ok "1.1.0: force=true replaced both tarballs" ||
    fail "1.1.0: force=true did not replace both tarballs (inodes $i1 $i2 -> $(ino "$REL2") $(ino "$UP2"))" "$ERR"
eq "SOURCE_DATE_EPOCH: byte-identical release tarballs" "$(sha "$REL2")" "$r1"
eq "SOURCE_DATE_EPOCH: byte-identical upgrade tarballs" "$(sha "$UP2")" "$u1"
bad=$(tar --utc -tzvf "$UP2" | grep -v ' 2023-11-14 22:13 ')
[ -z "$bad" ] && ok "SOURCE_DATE_EPOCH: every entry's mtime is 1700000000" ||
    fail "SOURCE_DATE_EPOCH: entries with another mtime than 2023-11-14 22:13:20 UTC" "$bad"
unset SOURCE_DATE_EPOCH
SHA_REL2=$(sha "$REL2")

# ============ 4. --from: a version with no tarball; a good one; knit appup
kn "$A" relup --from 0.9.9
rc_is "relup --from 0.9.9 (no such release)" 2
has "relup --from 0.9.9: the message names the version" "$ERR" "'0.9.9'"
has "relup --from 0.9.9: the message names the path looked for" "$ERR" "$A/releases/hello-0.9.9.tar.gz"
absent "relup --from 0.9.9: tmp dir removed after the failure" "$A/.knit_tmp"
# (--force, long form; and a tmp_dir elsewhere, removed afterwards as the default one is)
kn "$A" relup --from 1.0.0 --json --force "tmp_dir=$T/elsewhere_tmp"
rc_is "relup --from 1.0.0 --force" 0
artifact_ok "relup --from 1.0.0" upgrade_tarball "$UP2"
jeq "relup --from 1.0.0 json" '[.command, [.upgrades[].from], [.artifacts[].kind]]' \
    '["relup",["1.0.0"],["relup","upgrade_tarball"]]'
eq "relup does not touch the release tarball" "$(sha "$REL2")" "$SHA_REL2"
absent "relup tmp_dir=...: that tmp dir is removed" "$T/elsewhere_tmp"
absent "relup tmp_dir=...: the default tmp dir is not used" "$A/.knit_tmp"
kn "$A" relup --from
rc_is "relup --from with no version: a command-line error" 1
# (remove_tmp=false: the tmp dir stays, see 8.)
kn "$A" appup remove_tmp=false
rc_is "knit appup remove_tmp=false" 0
APPUP=$A/hello/lib/hello-1.1.0/ebin/hello.appup
eq "knit appup: its first line is a %% comment naming the appup" "$(printf '%s\n' "$OUT" | head -1)" "%% $APPUP"
has "knit appup: prints hello's appup" "$OUT" '{"1.1.0",'
printf '%s\n' "$OUT" >"$T/appup.out"
got=$(erl -noshell -eval '
    {ok, [{"1.1.0", [{"1.0.0", Up}], [{"1.0.0", Down}]} = Printed]} = file:consult(hd(init:get_plain_arguments())),
    {ok, [Written]} = file:consult(lists:nth(2, init:get_plain_arguments())),
    Printed =:= Written orelse exit({printed_differs_from_written, Printed, Written}),
    true = lists:member({add_module, hello_punct}, Up),
    true = lists:member({load_module, hello_text, brutal_purge, brutal_purge, []}, Up),
    true = lists:member({delete_module, hello_punct}, Down),
    io:put_chars("consulted"), halt().' -extra "$T/appup.out" "$APPUP" 2>&1)
eq "knit appup: file:consult reads stdout back, equal to the written appup" "$got" consulted

# ============ 8. the tmp dir: gone after success and failure (checked above), kept with
# remove_tmp=false, wiped by the next run
[ -d "$A/.knit_tmp/from/1.0.0/releases/1.0.0" ] && ok "remove_tmp=false: the tmp dir stays, with 1.0.0 extracted" ||
    fail "remove_tmp=false: no $A/.knit_tmp/from/1.0.0/releases/1.0.0" "$(ls -la "$A/.knit_tmp" 2>&1)"
# only what appups and relups read is written: releases/ and the ebin .app files; the
# changed application's beams are read in memory, ERTS and the rest stay in the archive
FROM=$A/.knit_tmp/from/1.0.0
present "extracted: the .rel of 1.0.0" "$FROM/releases/1.0.0/hello.rel"
present "extracted: hello 1.0.0's .app" "$FROM/lib/hello-1.0.0/ebin/hello.app"
present "extracted: kernel's .app" "$(ls -d "$FROM"/lib/kernel-*/ebin 2>/dev/null | head -1)/kernel.app"
eq "not extracted: no .beam file" "$(find "$FROM" -name '*.beam' | head -3)" ""
eq "not extracted: no ERTS file" "$(find "$FROM" -path '*/erts-*' -type f | head -3)" ""
eq "not extracted: no bin/ file" "$(find "$FROM/bin" -type f 2>/dev/null | head -3)" ""

# ============ 9. logging: -q, -l FILE
kn "$A" -q -f -l "$T/knit.log"
rc_is "knit -q -f -l FILE" 0
eq "knit -q -l: nothing on stderr for a successful run" "$ERR" ""
eq "knit -q -l: nothing on stdout" "$OUT" ""
absent "the next run removes the kept tmp dir" "$A/.knit_tmp"
left=$(ls -A "$A" | grep -E '\.knit-(old|new)-')
[ -z "$left" ] && ok "the full run removed the earlier build dir it replaced" || fail "left behind in $A" "$left"
has "knit -q -l: FILE has the messages" "$(cat "$T/knit.log" 2>&1)" "packed $REL2"
has "knit -q -l: FILE has the upgrade message" "$(cat "$T/knit.log" 2>&1)" "$UP2"
# the same inputs give the same tarballs: an identical existing one is accepted as it is
# (file mtimes go into the tarballs: SOURCE_DATE_EPOCH makes two runs' tarballs equal)
export SOURCE_DATE_EPOCH=1700000000
kn "$A" -q -f
rc_is "knit -q -f with SOURCE_DATE_EPOCH" 0
touch -d @1000 "$REL2"
kn "$A" -q
rc_is "knit -q (identical tarballs exist): accepted" 0
eq "identical tarball kept as it was (mtime)" "$(stat -c %Y "$REL2")" 1000
eq "no staged tarball left beside it" "$(find "$A/releases" "$A/upgrades" -name '.*knit-*' | wc -l)" 0
# a tarball that differs from this build is refused, and nothing is renamed into place
cp "$REL2" "$T/rel2.keep"
printf 'different' >>"$REL2"
cp "$REL2" "$T/rel2.changed"
kn "$A" -q
rc_is "knit -q (a different tarball exists)" 3
eq "knit -q failing: exactly one line on stderr" "$(printf '%s\n' "$ERR" | wc -l)" 1
has "knit -q failing: that line is the error" "$ERR" "already exists"
cmp -s "$REL2" "$T/rel2.changed" && ok "the refused run left the existing tarball alone" ||
    fail "the refused run changed $REL2"
eq "the refused run left no staged tarball" "$(find "$A/releases" "$A/upgrades" -name '.*knit-*' | wc -l)" 0
kn "$A" -q -l "$T/knit-fail.log"
rc_is "knit -q -l FILE failing" 3
has "knit -q -l failing: FILE has the error" "$(cat "$T/knit-fail.log" 2>&1)" "already exists"
cp "$T/rel2.keep" "$REL2"
unset SOURCE_DATE_EPOCH

# ============ 10. a sys.config overlay that is not a list of {App, Env}: exit 2, nothing packed
# (rel/bad.config: A's config at release 1.2.0, with the overlay)
mkdir -p "$A/files"
sed 's/{rel, "hello", "1.1.0"/{rel, "hello", "1.2.0"/' "$A/rel/reltool.config" >"$A/rel/bad.config"
echo '{overlay, [{copy, "../files/sys.config", "releases/{{rel_vsn}}/sys.config"}]}.' >>"$A/rel/bad.config"
for sys in '[{hello, [{greeting, "Hi"}]}, oops].' '{hello, [{greeting, "Hi"}]}.' '[{hello, [{greeting, "Hi"}]}'; do
    printf '%s\n' "$sys" >"$A/files/sys.config"
    kn "$A" -r rel/bad.config
    rc_is "sys.config '$sys': knit" 2
    has "sys.config '$sys': the message names sys.config" "$ERR" "sys.config"
    absent "sys.config '$sys': no release tarball" "$A/releases/hello-1.2.0.tar.gz"
    absent "sys.config '$sys': no upgrade tarball" "$A/upgrades/hello-1.2.0.tar.gz"
done
# the same overlay with a good sys.config works (the check above is about its content)
printf '%s\n' '[{hello, [{greeting, "Hi"}]}].' >"$A/files/sys.config"
kn "$A" -r rel/bad.config relup
rc_is "a good sys.config overlay: knit relup" 0
present "a good sys.config overlay: upgrade tarball" "$A/upgrades/hello-1.2.0.tar.gz"

# ============ 5. which earlier releases: filters and order
# Project B (no ERTS in its builds): releases 1.0.0, 1.0.1, 1.0.9, 1.0.10 (the same beams
# as A's 1.0.0, under each version), then 1.1.0 with A's 1.1.0 beams. A 2.0.0 tarball is
# there too: later than 1.1.0, never an earlier release (a copy of 1.0.0's, renamed: if knit
# extracted it, it would fail on the version inside)
B=$T/b
new_project "$B"
echo '{include_erts, false}.' >>"$B/rel/reltool.config"
mkdir -p "$B/_build/lib"
mkdir -p "$T/ebin100"
erlc +debug_info -o "$T/ebin100" "$TOP/example/apps/hello/src/"*.erl || fail "compile example's hello 1.0.0"
sed 's/{modules, *\[\]}/{modules, [hello_app,hello_server,hello_sup,hello_text]}/' \
    "$TOP/example/apps/hello/src/hello.app.src" >"$T/ebin100/hello.app"
# use_hello DIR VSN EBIN - DIR's hello is EBIN's beams as version VSN, and so is its release
use_hello() {
    rm -rf "$1"/_build/lib/hello-*
    mkdir -p "$1/_build/lib/hello-$2"
    cp -R "$3" "$1/_build/lib/hello-$2/ebin"
    rm -f "$1/_build/lib/hello-$2/ebin/hello.appup"
    sed -i -E "s/\{vsn, \"[^\"]*\"\}/{vsn, \"$2\"}/" "$1/_build/lib/hello-$2/ebin/hello.app"
    set_rel_vsn "$1" "$2"
}
for v in 1.0.0 1.0.1 1.0.9 1.0.10; do
    use_hello "$B" "$v" "$T/ebin100"
    kn "$B" release
    rc_is "B: knit release $v" 0
    present "B: release tarball $v" "$B/releases/hello-$v.tar.gz"
done
cp "$B/releases/hello-1.0.0.tar.gz" "$B/releases/hello-2.0.0.tar.gz"
use_hello "$B" 1.1.0 "$A/_build/lib/hello-1.1.0/ebin"
FROMS='[.upgrades[].from]'
kn "$B" relup --json -v
rc_is "B 1.1.0: knit relup (every earlier release)" 0
jeq "B 1.1.0: from every earlier release, in semver order" "$FROMS" '["1.0.0","1.0.1","1.0.9","1.0.10"]'
jeq "B 1.1.0: none skipped" '[[.upgrades[].skipped | select(.)], .skipped]' '[[],[]]'
jeq "B 1.1.0: hello's from-versions" '[.upgrades[].apps[] | select(.app == "hello") | .from_vsn]' \
    '["1.0.0","1.0.1","1.0.9","1.0.10"]'
has "B 1.1.0: -v says why 2.0.0 is not upgraded from" "$ERR" "2.0.0 is not older than 1.1.0"
present "B 1.1.0: upgrade tarball" "$B/upgrades/hello-1.1.0.tar.gz"
grep -q '{"1.0.10",' "$B/hello/releases/1.1.0/relup" 2>/dev/null && grep -q '{"1.0.0",' "$B/hello/releases/1.1.0/relup" &&
    ok "B 1.1.0: the relup has up entries for 1.0.0 and 1.0.10" ||
    fail "B 1.1.0: the relup lacks an entry" "$(head -c 1500 "$B/hello/releases/1.1.0/relup" 2>&1)"
# filter DESC WANT ARGS... - knit relup -f --json ARGS in B: the from-versions are WANT
filter() {
    local desc=$1 want=$2
    shift 2
    kn "$B" relup -f --json "$@"
    rc_is "B 1.1.0 $desc: knit relup" 0
    jeq "B 1.1.0 $desc" "$FROMS" "$want"
}
filter "version_min=1.0.1" '["1.0.1","1.0.9","1.0.10"]' version_min=1.0.1
filter "version_regex=^1\\.0\\.1 (plain)" '["1.0.1","1.0.10"]' 'version_regex=^1\.0\.1'
filter 'version_regex=!!"^1\\.0\\.1$"' '["1.0.1"]' 'version_regex=!!"^1\\.0\\.1$"'
filter 'upgrade_versions=!!["1.0.1"]' '["1.0.1"]' 'upgrade_versions=!!["1.0.1"]'
RELUP_101=$(sha "$B/hello/releases/1.1.0/relup")
filter 'upgrade_versions=!!["1.0.9","1.0.0"]' '["1.0.0","1.0.9"]' 'upgrade_versions=!!["1.0.9","1.0.0"]'
filter "semver=false (plain string order)" '["1.0.0","1.0.1","1.0.10","1.0.9"]' semver=false
filter "--from 1.0.10 --from 1.0.1" '["1.0.1","1.0.10"]' --from 1.0.10 --from 1.0.1
kn "$B" relup -f 'version_regex=(1'
rc_is "B 1.1.0: a bad version_regex" 2
has "B 1.1.0: a bad version_regex: the message names the option" "$ERR" "version_regex"
# the original knit's spelling, version_regexp, also as {Regex, Options} (re:run's options)
filter "version_regexp=^1\\.0\\.1 (plain)" '["1.0.1","1.0.10"]' 'version_regexp=^1\.0\.1'
filter 'version_regexp {Binary, [caseless]}' '["1.0.1","1.0.9"]' 'version_regexp=!!{<<"^1\\.0\\.[19]$">>, [caseless]}'
filter 'version_regexp {Regex, [extended]}' '["1.0.9"]' 'version_regexp=!!{"^1 \\. 0 \\. 9 $", [extended]}'
filter 'version_regex {Regex, [{capture, none}]}' '["1.0.0"]' 'version_regex=!!{"^1\\.0\\.0$", [{capture, none}]}'
kn "$B" relup -f 'version_regexp=!!{"^1 \\. 0 \\. 9 $", []}'
rc_is "B 1.1.0: version_regexp without extended matches nothing: every release skipped" 2
has "B 1.1.0: version_regexp without extended: each release and why" "$ERR" "1.0.9 does not match version_regexp"
kn "$B" relup -f 'version_regexp=!!{"x", [bogus]}'
rc_is "B 1.1.0: version_regexp with an unknown re option" 2
has "B 1.1.0: the message names version_regexp and the option" "$ERR" "option 'version_regexp': re option bogus is not supported"
kn "$B" relup -f 'version_regexp=!!{"x", y}'
rc_is "B 1.1.0: version_regexp {Regex, NotAList}" 2

# ============ 6. a hand-written appup without an entry for 1.0.9
cat >"$B/_build/lib/hello-1.1.0/ebin/hello.appup" <<'APPUP'
%% hand-written: no entry for 1.0.9
{"1.1.0",
 [{"1.0.0", [{add_module, hello_punct}, {load_module, hello_text}]},
  {"1.0.1", [{add_module, hello_punct}, {load_module, hello_text}]},
  {"1.0.10", [{add_module, hello_punct}, {load_module, hello_text}]}],
 [{"1.0.0", [{load_module, hello_text}, {delete_module, hello_punct}]},
  {"1.0.1", [{load_module, hello_text}, {delete_module, hello_punct}]},
  {"1.0.10", [{load_module, hello_text}, {delete_module, hello_punct}]}]}.
APPUP
# as systools_relup (no_relup), a from-version without an entry is an error, not a skip
SRC_APPUP=$B/_build/lib/hello-1.1.0/ebin/hello.appup
rm -f "$B/upgrades/hello-1.1.0.tar.gz"
kn "$B" relup -f --json
rc_is "B hand-written appup without 1.0.9: knit relup" 2
has "B hand-written appup: the error names the version" "$ERR" '"1.0.9"'
has "B hand-written appup: the error names the application" "$ERR" "'hello'"
has "B hand-written appup: the error names the appup the user edits, with its line" "$ERR" "knit: $SRC_APPUP:2:"
hasnt "B hand-written appup: not the build dir copy" "$ERR" "$B/hello/lib"
absent "B hand-written appup: no upgrade tarball" "$B/upgrades/hello-1.1.0.tar.gz"
absent "B hand-written appup: tmp dir removed" "$B/.knit_tmp"
# --json on failure: the document with an error object and what was done before it
jeq "B hand-written appup --json: error.exit_code" '.error.exit_code' 2
jeq "B hand-written appup --json: error.file is the source appup" '.error.file' "\"$SRC_APPUP\""
jeq "B hand-written appup --json: error.line" '.error.line' 2
jeq "B hand-written appup --json: error.message names 1.0.9" '.error.message | test("1[.]0[.]9")' true
jeq "B hand-written appup --json: the release built before it" '[.command, .release.vsn]' '["relup","1.1.0"]'
jeq "B hand-written appup --json: the earlier releases found" '[.upgrades[].from]' '["1.0.0","1.0.1","1.0.9","1.0.10"]'
jeq "B hand-written appup --json: no artifact at a final path" '.artifacts' '[]'
# a library's appup with one term per version (as ranch 2.x ships): the first is read, as
# systools reads it, and the others are a warning
cat >"$SRC_APPUP" <<'APPUP'
{"1.1.0",
 [{<<"1\\.0\\..*">>, [{add_module, hello_punct}, {load_module, hello_text}]}],
 [{<<"1\\.0\\..*">>, [{load_module, hello_text}, {delete_module, hello_punct}]}]}.
{"1.0.10", [{"1.0.9", []}], [{"1.0.9", []}]}.
{"1.0.9", [], []}.
APPUP
kn "$B" relup -f
rc_is "B appup with one term per version: knit relup" 0
has "B appup with three terms: a warning says only the first is read" "$ERR" "holds 3 terms; only the first is read"
has "B appup with three terms: the warning names the appup and the second term's line" "$ERR" "$SRC_APPUP:4:"
present "B appup with three terms: upgrade tarball" "$B/upgrades/hello-1.1.0.tar.gz"
rm -f "$B/_build/lib/hello-1.1.0/ebin/hello.appup"

# ============ 7. untrusted earlier releases: hello-0.9.0.tar.gz with an entry that escapes
# (made with GNU tar: -P keeps ../ and / in names; a symlink and a file written through it
# come from two directories). Each has a good releases/0.9.0/hello.rel first.
C=$T/craft
mkdir -p "$C/good/releases/0.9.0" "$C/s1" "$C/s2/lib" "$T/outside"
printf '%s\n' '{release, {"hello", "0.9.0"}, {erts, "13.1.5"}, [{kernel, "8.5.3"}, {stdlib, "4.2"}]}.' \
    >"$C/good/releases/0.9.0/hello.rel"
echo escaped >"$C/esc"
echo pwned >"$C/s2/lib/pwned"
EVIL=$B/releases/hello-0.9.0.tar.gz
# untrusted DESC ENTRY WOULD-BE-PATH - knit relup --from 0.9.0 refuses $EVIL, naming ENTRY
untrusted() {
    local desc=$1 entry=$2 would=$3 listing
    listing=$(tar tzf "$EVIL" 2>/dev/null)
    if ! printf '%s\n' "$listing" | grep -qxF -- "$entry"; then
        fail "fixture $desc: no entry '$entry' in the crafted archive" "$listing"
        return
    fi
    kn "$B" relup -f --from 0.9.0 "${@:4}"
    rc_is "untrusted ($desc): knit relup --from 0.9.0" 2
    has "untrusted ($desc): the message names the archive" "$ERR" "$EVIL"
    has "untrusted ($desc): the message names the entry" "$ERR" "'$entry'"
    absent "untrusted ($desc): nothing written at $would" "$would"
    if [ $# -gt 3 ]; then
        rm -rf "$B/.knit_tmp" # remove_tmp=false: kept to look into; ours to remove
    else
        absent "untrusted ($desc): tmp dir removed after the failure" "$B/.knit_tmp"
    fi
    rm -f "$EVIL"
}
tar -czf "$EVIL" -C "$C/good" releases -C "$C" -P --transform 's,^esc$,../escape,' esc
untrusted "../escape, remove_tmp=false" ../escape "$B/.knit_tmp/from/escape" remove_tmp=false
tar -czf "$EVIL" -C "$C/good" releases -C "$C" -P --transform 's,^esc$,../../../../escape,' esc
untrusted "../../../../escape" ../../../../escape "$T/escape"
tar -czf "$EVIL" -C "$C/good" releases -C "$C" -P --transform "s,^esc\$,$T/abs_escape," esc
untrusted "absolute path" "$T/abs_escape" "$T/abs_escape"
ln -s "$T/outside" "$C/s1/lib"
tar -czf "$EVIL" -C "$C/good" releases -C "$C/s1" lib -C "$C/s2" lib/pwned
untrusted "symlink to an absolute path outside, then a file through it" lib "$T/outside/pwned"
rm -f "$C/s1/lib" && ln -s ../../../../outside "$C/s1/lib"
tar -czf "$EVIL" -C "$C/good" releases -C "$C/s1" lib -C "$C/s2" lib/pwned
untrusted "symlink ../../../../outside, then a file through it" lib "$T/outside/pwned"
# a chain of symlinks, each inside by its text, the last one outside in fact:
# d1/d2/d3/d4/x -> ../../../.. (the root), g -> d1/d2/d3/d4/x/../../../.. (4 levels above
# the root: $T), then g/pwned
mkdir -p "$C/s3/d1/d2/d3/d4" "$C/s4/g"
ln -s ../../../.. "$C/s3/d1/d2/d3/d4/x"
ln -s d1/d2/d3/d4/x/../../../.. "$C/s3/g"
echo pwned >"$C/s4/g/pwned"
tar -czf "$EVIL" -C "$C/good" releases -C "$C/s3" d1 g -C "$C/s4" g/pwned
untrusted "a chain of symlinks, then a file through it" g/pwned "$T/pwned"
# the same beam twice (read in memory, not written: refused as extracting it twice would be)
mkdir -p "$C/s5/lib/x-0.1/ebin" && echo beam >"$C/s5/lib/x-0.1/ebin/x.beam"
tar -czf "$EVIL" --hard-dereference -C "$C/good" releases -C "$C/s5" lib/x-0.1/ebin/x.beam lib/x-0.1/ebin/x.beam
untrusted "the same .beam twice" lib/x-0.1/ebin/x.beam "$T/nothing"
stray=$(find "$T" \( -name escape -o -name abs_escape -o -name pwned \) -not -path "$C/*")
[ -z "$stray" ] && ok "untrusted: no escaped file anywhere in the test dir" || fail "untrusted: escaped files" "$stray"
ls -A "$T/outside" | grep -q . && fail "untrusted: something was written into $T/outside" "$(ls -lA "$T/outside")"

# a release tarball in the nested layout (everything under hello/, as the original knit
# wrote them) is a good earlier release: 1.0.1 repacked so gives the same relup
mkdir -p "$T/nest/hello"
tar -xzf "$B/releases/hello-1.0.1.tar.gz" -C "$T/nest/hello" || fail "extract B's 1.0.1"
tar -czf "$B/releases/hello-1.0.1.tar.gz" -C "$T/nest" hello
tar tzf "$B/releases/hello-1.0.1.tar.gz" | grep -q '^hello/releases/1.0.1/hello.rel$' ||
    fail "fixture: nested 1.0.1 has no hello/releases/1.0.1/hello.rel"
kn "$B" relup -f --json --from 1.0.1
rc_is "nested 1.0.1: knit relup --from 1.0.1" 0
jeq "nested 1.0.1" "$FROMS" '["1.0.1"]'
jeq "nested 1.0.1: hello from 1.0.1" '[.upgrades[0].apps[] | select(.app == "hello") | .from_vsn]' '["1.0.1"]'
eq "nested 1.0.1: the same relup as from the flat 1.0.1" "$(sha "$B/hello/releases/1.1.0/relup")" "$RELUP_101"
absent "nested 1.0.1: tmp dir removed" "$B/.knit_tmp"

finish
