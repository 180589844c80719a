#!/usr/bin/env bash
# t_never.sh - SPEC "Never silent" and "Module attributes: additions", from the command line:
# every earlier release skipped, git describe versions, changed code under an unchanged
# application version, knit_defaults, all missing applications at once, messages that name
# the files a user edits, progress only on a terminal. Works on copies of example/ in a temp
# dir; no Erlang node is started (the live cases are in t_live_upgrade.sh).
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
for tool in jq erlc erl git; do
    command -v "$tool" >/dev/null || fail "t_never.sh needs '$tool' on PATH"
done
[ "$T_FAIL" = 0 ] || { finish; exit; }

# --- helpers (as t_flow.sh)
kn() {
    local d=$1
    shift
    (cd "$d" && "$KNIT" "$@") >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
}
rc_is() {
    if [ "$RC" = "$2" ]; then ok "$1"; else fail "$1: exit $RC, expected $2" "stderr: $ERR"; fi
}
eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:      $2
expected: $3"; fi
}
jeq() {
    local got
    got=$(printf '%s' "$OUT" | jq -c "$2" 2>&1)
    eq "$1 ($2)" "$got" "$3"
}
has() {
    if printf '%s' "$2" | grep -qF -- "$3"; then ok "$1"; else fail "$1: no '$3' in" "$2"; fi
}
hasnt() {
    if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: unexpected '$3' in" "$2"; else ok "$1"; fi
}
present() { [ -e "$2" ] && ok "$1" || fail "$1: missing $2"; }
absent() { [ ! -e "$2" ] && ok "$1" || fail "$1: $2 should not exist"; }
set_rel_vsn() { sed -i -E "s/\{rel, \"hello\", (\"[^\"]*\"|git)/{rel, \"hello\", $2/" "$1/rel/reltool.config"; }
set_app_vsn() { sed -i -E "s/\{vsn, \"[^\"]*\"\}/{vsn, \"$2\"}/" "$1/apps/hello/src/hello.app.src"; }
compile() { rm -rf "$1/_build" && "$1/build.sh" >/dev/null 2>"$T/.cerr" || fail "compile $1" "$(cat "$T/.cerr")"; }
new_project() { cp -R "$TOP/example" "$1" && rm -rf "$1/_build" "$1/hello" "$1/releases" "$1/upgrades"; }
# touch_text DIR WORD - change hello_text's code (its greeting suffix)
touch_text() { sed -i -E "s/Name \+\+ \"[^\"]*\"/Name ++ \"$2\"/" "$1/apps/hello/src/hello_text.erl"; }

# ============ 1. every earlier release skipped
A=$T/a
new_project "$A"
compile "$A"
kn "$A"
rc_is "A 1.0.0: a first release is fine" 0
set_app_vsn "$A" 1.1.0
set_rel_vsn "$A" '"1.1.0"'
touch_text "$A" "!!"
compile "$A"
kn "$A" --json 'version_regex=^0\.'
rc_is "A 1.1.0, every earlier release filtered out: knit" 2
has "A every release skipped: the message names 1.0.0 and why" "$ERR" "1.0.0 does not match version_regex '^0\\.'"
has "A every release skipped: the message says what to do" "$ERR" "allow_no_upgrade"
absent "A every release skipped: no release tarball renamed into place" "$A/releases/hello-1.1.0.tar.gz"
jeq "A every release skipped --json: error and skipped" '[.error.exit_code, [.skipped[].from]]' '[2,["1.0.0"]]'
kn "$A" 'version_regex=^0\.' allow_no_upgrade=true
rc_is "A every release skipped, {allow_no_upgrade, true}: knit" 0
present "A allow_no_upgrade: the release tarball" "$A/releases/hello-1.1.0.tar.gz"
absent "A allow_no_upgrade: no upgrade tarball" "$A/upgrades/hello-1.1.0.tar.gz"
kn "$A" relup -f 'version_regex=^0\.' --from 1.0.0
rc_is "A narrowed on purpose (--from 1.0.0): knit relup" 0
present "A --from 1.0.0: the upgrade tarball" "$A/upgrades/hello-1.1.0.tar.gz"

# ============ 3. changed code under an unchanged application version
kn "$A" -f
rc_is "A 1.1.0 rebuilt with its tarballs: knit -f" 0
set_rel_vsn "$A" '"1.2.0"'
touch_text "$A" "!!!"
printf '%s\n' '-module(hello_extra).' '-export([x/0]).' 'x() -> 1.' >"$A/apps/hello/src/hello_extra.erl"
compile "$A"
kn "$A" --json
rc_is "A release 1.2.0 with hello's code changed but still 1.1.0: knit" 2
has "A same version: the message names the application and its version" "$ERR" "'hello' 1.1.0"
has "A same version: the message names the changed module" "$ERR" "hello_text changed"
has "A same version: the message names the added module" "$ERR" "hello_extra added"
has "A same version: the message names the .app the user edits" "$ERR" "knit: $A/_build/lib/hello-1.1.0/ebin/hello.app:"
hasnt "A same version: the unchanged modules are not named" "$ERR" "hello_server"
absent "A same version: no release tarball" "$A/releases/hello-1.2.0.tar.gz"
jeq "A same version --json: the error" '[.error.exit_code, (.error.message | test("hello_text changed"))]' '[2,true]'
set_app_vsn "$A" 1.2.0
compile "$A"
kn "$A"
rc_is "A hello at 1.2.0: knit" 0
present "A hello at 1.2.0: the upgrade tarball" "$A/upgrades/hello-1.2.0.tar.gz"

# ============ 4. knit_apply with a direction, and knit_defaults for code you don't own
set_app_vsn "$A" 1.3.0
set_rel_vsn "$A" '"1.3.0"'
touch_text "$A" "?"
sed -i 's/^-knit_priority(10)\./-knit_priority(10).\n-knit_purge(brutal_purge).\n-knit_apply({up, first, {io, format, ["hi~n"]}}).\n-knit_apply({down, last, {io, format, ["bye~n"]}}).\n-knit_apply({down, {first, 1}, {io, format, ["first~n"]}})./' \
    "$A/apps/hello/src/hello_server.erl"
sed -i 's/{ok, #{count => 0}}/{ok, #{count => 0, since => 13}}/' "$A/apps/hello/src/hello_server.erl"
grep -q 'since => 13' "$A/apps/hello/src/hello_server.erl" || fail "fixture: hello_server.erl not changed"
compile "$A"
cp "$A/rel/reltool.config" "$T/plain.config"
echo '{knit_defaults, [{hello, [{knit_purge, soft_purge}, {knit_timeout, 3000}]},
                  {{hello, hello_text}, [{knit_purge, {soft_purge, brutal_purge}}]}]}.' >>"$A/rel/reltool.config"
kn "$A" appup --json
rc_is "A 1.3.0 with knit_defaults: knit appup" 0
MODS='.upgrades[0].apps[] | select(.app == "hello") | .modules[]'
jeq "knit_defaults: {App, Module} wins over App (hello_text)" "[$MODS | select(.module == \"hello_text\") | .up]" \
    '["{load_module,hello_text,soft_purge,brutal_purge,[]}"]'
jeq "knit_defaults: the module's own knit_purge wins, the App default timeout applies (hello_server)" \
    "[$MODS | select(.module == \"hello_server\") | .up]" \
    '["{update,hello_server,dynamic,3000,{advanced,{greeting,\"Hello\"}},brutal_purge,brutal_purge,[hello_text]}"]'
HUP='.upgrades[0].apps[] | select(.app == "hello")'
jeq "knit_apply up: the first instruction of the upgrade" "$HUP | .up | startswith(\"[{apply,{io,format,[\\\"hi~n\\\"]}}\")" true
jeq "knit_apply down: first phase opens the downgrade" "$HUP | .down | startswith(\"[{apply,{io,format,[\\\"first~n\\\"]}}\")" true
jeq "knit_apply down: last phase closes the downgrade" "$HUP | .down | endswith(\"{apply,{io,format,[\\\"bye~n\\\"]}}]\")" true
jeq "knit_apply down: not in the upgrade" "$HUP | .up | test(\"bye\")" false
jeq "knit_apply up: not in the downgrade" "$HUP | .down | test(\"hi~n\")" false
cp "$T/plain.config" "$A/rel/reltool.config"
kn "$A" appup --json
jeq "without knit_defaults: hello_text is brutal_purge" "[$MODS | select(.module == \"hello_text\") | .up]" \
    '["{load_module,hello_text,brutal_purge,brutal_purge,[]}"]'
echo '{knit_defaults, [{hello, [{knit_purge, gentle}]}]}.' >>"$A/rel/reltool.config"
kn "$A" appup
rc_is "knit_defaults with a bad value: exit 2" 2
has "knit_defaults bad value: the message names the value" "$ERR" "gentle"
cp "$T/plain.config" "$A/rel/reltool.config"
echo '{knit_defaults, [{hello, [{knit_purrge, soft_purge}]}]}.' >>"$A/rel/reltool.config"
kn "$A" appup
rc_is "knit_defaults with an unknown attribute: exit 2" 2
has "knit_defaults unknown attribute: the message names the config" "$ERR" "reltool.config:"
cp "$T/plain.config" "$A/rel/reltool.config"
kn "$A" relup
rc_is "A 1.3.0: knit relup (the relup compiles with the down applies)" 0

# ============ 5. every missing or excluded application at once, each with what needs it
M=$T/m
new_project "$M"
compile "$M"
sed -i 's/\[kernel, stdlib, sasl, hello\]/[kernel, stdlib, sasl, ssl, hello]/; s/{app, hello, \[{incl_cond, include}\]}/{app, hello, [{incl_cond, include}]}, {app, ssl, [{incl_cond, include}]}/' \
    "$M/rel/reltool.config"
kn "$M" release
rc_is "M: ssl included, its dependencies excluded: knit release" 2
for need in "'asn1' (needed by 'public_key')" "'public_key' (needed by 'ssl')" "'crypto' (needed by"; do
    has "M: one run names $need" "$ERR" "$need"
done
sed -i 's/sasl, ssl, hello\]/sasl, hello, nosuch_a, nosuch_b]/' "$M/rel/reltool.config"
sed -i -E 's/\{applications, *\[/{applications, [nosuch_c, /' "$M/_build/lib/hello-1.0.0/ebin/hello.app"
kn "$M" release
rc_is "M: applications found nowhere: knit release" 2
for need in "'nosuch_a' (needed by release 'hello')" "'nosuch_b' (needed by release 'hello')" \
    "'nosuch_c' (needed by 'hello')"; do
    has "M: one run names $need" "$ERR" "$need"
done

# ============ 6. messages name the file the user edits, not the copy in the build dir
S=$T/s
new_project "$S"
compile "$S"
mkdir -p "$S/files"
printf '%s\n' '[{hello, [{greeting, "Hi"}]},' '  oops].' >"$S/files/sys.config"
echo '{overlay, [{copy, "../files/sys.config", "releases/{{rel_vsn}}/sys.config"}]}.' >>"$S/rel/reltool.config"
kn "$S" release
rc_is "S: a sys.config overlay that is not a list of {App, Env}: knit release" 2
has "S: the message names the source sys.config" "$ERR" "knit: $S/rel/../files/sys.config"
hasnt "S: not the build dir copy" "$ERR" "knit-new"
printf '%s\n' '[{hello, [{greeting, "Hi"}]}' >"$S/files/sys.config"
kn "$S" release
rc_is "S: a sys.config overlay that does not parse: knit release" 2
has "S: the parse error names the source sys.config and its line" "$ERR" "knit: $S/rel/../files/sys.config:1:"
printf '%s\n' '[{hello, [{greeting, "Hi"}]}].' >"$S/files/sys.config"
sed -i 's/{description, "[^"]*"},//' "$S/_build/lib/hello-1.0.0/ebin/hello.app"
grep -q description "$S/_build/lib/hello-1.0.0/ebin/hello.app" && fail "fixture: description still in hello.app"
kn "$S" release
rc_is "S: a .app without description: knit release" 127
has "S: the message names the application's own .app" "$ERR" "knit: $S/_build/lib/hello-1.0.0/ebin/hello.app: missing parameter 'description'"
hasnt "S: .app: not the build dir copy" "$ERR" "knit-new"

# ============ 7. progress per application and file count, on a terminal only
Q=$T/q
new_project "$Q"
compile "$Q"
if command -v script >/dev/null; then
    # script(1) gives knit a terminal; its output is what the terminal showed
    tty_out=$(cd "$Q" && script -qec "'$KNIT' release" /dev/null 2>&1)
    has "terminal: progress per application" "$tty_out" "lib: application 1/4"
    has "terminal: progress per file count when packing" "$tty_out" "packing: file 1/"
    tty_q=$(cd "$Q" && script -qec "'$KNIT' -q -f release" /dev/null 2>&1)
    hasnt "terminal with -q: no progress" "$tty_q" "application 1/"
    tty_j=$(cd "$Q" && script -qec "'$KNIT' --json -f release" /dev/null 2>&1)
    hasnt "terminal with --json: no progress" "$tty_j" "application 1/"
    has "terminal with --json: the document" "$tty_j" '"command": "release"'
else
    fail "t_never.sh needs script(1) (util-linux) to give knit a terminal"
fi
kn "$Q" -f release
rc_is "not a terminal: knit release" 0
hasnt "not a terminal: no progress on stderr" "$ERR" "application 1/"
hasnt "not a terminal: no packing count" "$ERR" "packing: file"

# ============ 8. reltool parity: a standalone profile that excludes ^bin/.* is refused, as
# reltool refuses it (real reltool is asked the same question)
X=$T/x
new_project "$X"
compile "$X"
sed -i 's/{profile, embedded}/{profile, standalone}, {excl_sys_filters, ["^bin\/.*"]}/' "$X/rel/reltool.config"
kn "$X" release
rc_is "X: standalone without bin/: knit release" 2
has "X: the message says what reltool says" "$ERR" "Mandatory system directory bin is not included"
reltool_says=$(cd "$X/rel" && erl -noshell -eval '
    {ok, [Sys | _]} = file:consult("reltool.config"),
    R = (catch reltool:get_target_spec([{config, Sys}])),
    io:format("~p", [R]), halt().' 2>&1)
has "X: reltool refuses the same config" "$reltool_says" "Mandatory system directory bin is not included"
sed -i 's/{profile, standalone}/{profile, embedded}/' "$X/rel/reltool.config"
kn "$X" release
rc_is "X: embedded with ^bin/.* excluded (reltool keeps an empty bin/): knit release" 0

# {mod_cond, derived} with erts included: lib/erts-*/ebin equals reltool's (a guard: the
# case the issue reports was not reproduced with this project)
D=$T/d
new_project "$D"
compile "$D"
sed -i 's/{incl_cond, exclude},/{incl_cond, exclude}, {mod_cond, derived}, {erts, [{incl_cond, include}]},/' \
    "$D/rel/reltool.config"
kn "$D" release
rc_is "D: mod_cond derived with erts: knit release" 0
rt_out=$(cd "$D/rel" && erl -noshell -eval '
    {ok, [Sys | _]} = file:consult("reltool.config"), ok = file:make_dir("'"$T/d_rt"'"),
    io:format("~p", [reltool:create_target([{config, Sys}], "'"$T/d_rt"'")]), halt().' 2>&1)
eq "D: reltool builds the same config" "$rt_out" ok
eq "D: lib/erts-*/ebin as reltool's" "$(cd "$D/hello/lib" && ls erts-*/ebin 2>&1)" \
    "$(cd "$T/d_rt/lib" && ls erts-*/ebin 2>&1)"

# ============ 2. git describe versions: one commit after tag 2.0.0 upgrades from 2.0.0
G=$T/g
new_project "$G"
set_rel_vsn "$G" git
gitc() { git -C "$G" -c user.email=t@t -c user.name=t "$@" >/dev/null 2>&1; }
gitc init -q && gitc add -A && gitc commit -q -m one && gitc tag 2.0.0 || fail "git setup in $G"
compile "$G"
kn "$G"
rc_is "G at tag 2.0.0: knit" 0
present "G: release 2.0.0" "$G/releases/hello-2.0.0.tar.gz"
set_app_vsn "$G" 1.1.0
touch_text "$G" "??"
gitc commit -q -a -m two || fail "git commit in $G"
DESC=$(git -C "$G" describe --always --tags)
case $DESC in 2.0.0-1-g*) ok "G: git describe one commit after the tag is $DESC" ;; *) fail "G: git describe gave '$DESC'" ;; esac
compile "$G"
kn "$G" --json
rc_is "G one commit after 2.0.0: knit" 0
jeq "G: the release takes its version from git describe" '.release.vsn' "\"$DESC\""
jeq "G: upgraded from 2.0.0" '[.upgrades[].from]' '["2.0.0"]'
present "G: the upgrade tarball from 2.0.0" "$G/upgrades/hello-$DESC.tar.gz"
grep -q '"2.0.0"' "$G/hello/releases/$DESC/relup" 2>/dev/null && ok "G: the relup names 2.0.0" ||
    fail "G: the relup does not name 2.0.0" "$(head -5 "$G/hello/releases/$DESC/relup" 2>&1)"

finish
