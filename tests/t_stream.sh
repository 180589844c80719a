#!/usr/bin/env bash
# t_stream.sh - `--tarball-only` and `{build_dir, false}`: no build dir is written, and the
# release and upgrade tarballs are the same bytes as the build dir's path makes
# (SOURCE_DATE_EPOCH fixes the times of both). Each pair of runs works on one project, so the
# compiled beams are the same files: the normal run's tarballs are set aside, then the
# streamed run makes them again. Cases: the bundled example (1.0.0, then an upgrade to 1.1.0
# with a changed and an added module), config/multi-app.reltool.config (debug_info strip on
# one application, OTP's crypto, overlays: a template, a copy, a mkdir, and a file an
# overlay writes into an application's directory), the option in the config, the commands
# that cannot go without a build dir, a failed streamed run, and a rebar3 project (relx's
# layout). No Erlang node is started.
source "$(dirname "$0")/lib.sh"
export KNIT_TEMPLATES=${KNIT_TEMPLATES:-$TOP/templates}
export SOURCE_DATE_EPOCH=1700000000
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT

if [ ! -x "$KNIT" ]; then
    fail "no knit binary at $KNIT (build it first)"
    finish
    exit
fi
for tool in jq erlc cmp tar; do
    command -v "$tool" >/dev/null || fail "t_stream.sh needs '$tool' on PATH"
done
[ "$T_FAIL" = 0 ] || { finish; exit; }

eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:      $2
expected: $3"; fi; }
# kn DIR ARGS... - knit in DIR: exit code in $RC, stdout in $OUT, stderr in $ERR
kn() {
    local d=$1
    shift
    (cd "$d" && "$KNIT" "$@") >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
}
rc_is() { if [ "$RC" = "$2" ]; then ok "$1"; else fail "$1: exit $RC, expected $2" "stderr: $ERR"; fi; }
absent() { if [ -e "$2" ]; then fail "$1: $2 exists"; else ok "$1"; fi; }
# same DESC A B - the two files are the same bytes (the first differing entry when not)
same() {
    if [ ! -f "$2" ] || [ ! -f "$3" ]; then
        fail "$1: missing $( [ -f "$2" ] || echo "$2") $( [ -f "$3" ] || echo "$3")"
    elif cmp -s "$2" "$3"; then
        ok "$1"
    else
        fail "$1: $2 and $3 differ" "$(diff <(tar tvzf "$2" 2>&1) <(tar tvzf "$3" 2>&1) | head -10)
$(cmp "$2" "$3" 2>&1)"
    fi
}
# no_staging DESC DIR - no build dir for the release NAME and no staging dir left in DIR
no_staging() {
    local left
    left=$(cd "$2" && ls -a | grep -E '^\..*\.knit-(new|old)-' | tr '\n' ' ')
    eq "$1: no staging dir left in $2" "$left" ""
}
# aside DIR NAME VSN - move the run's tarballs to DIR/normal/
aside() {
    mkdir -p "$1/normal"
    mv "$1/releases/$2-$3.tar.gz" "$1/normal/rel.tar.gz"
    [ -f "$1/upgrades/$2-$3.tar.gz" ] && mv "$1/upgrades/$2-$3.tar.gz" "$1/normal/up.tar.gz"
    return 0
}
set_vsn() {
    sed -i -E "s/\{vsn, \"[^\"]*\"\}/{vsn, \"$2\"}/" "$1/apps/hello/src/hello.app.src"
    sed -i -E "s/\{rel, \"hello\", \"[^\"]*\"/{rel, \"hello\", \"$2\"/" "$1/rel/reltool.config"
}
compile() { rm -rf "$1/_build" && "$1/build.sh" >/dev/null 2>"$T/.cerr" || fail "setup: compile $1" "$(cat "$T/.cerr")"; }

# ---- 1. the example's first release: the same tarball, and no build dir
A=$T/a
cp -R "$TOP/example" "$A" && rm -rf "$A/_build" "$A/hello" "$A/releases" "$A/upgrades"
compile "$A"
kn "$A" --tarball-only --json
rc_is "1.0.0 --tarball-only" 0
absent "1.0.0 --tarball-only: no build dir" "$A/hello"
no_staging "1.0.0 --tarball-only" "$A"
eq "1.0.0 --tarball-only --json: build_dir null, the release tarball only" \
    "$(printf '%s' "$OUT" | jq -c '[.release.build_dir, [.artifacts[].kind]]')" '[null,["release_tarball"]]'
mkdir -p "$A/streamed" && mv "$A/releases/hello-1.0.0.tar.gz" "$A/streamed/rel.tar.gz"
kn "$A"
rc_is "1.0.0 with a build dir" 0
same "1.0.0: the streamed release tarball is the build dir's, byte for byte" \
    "$A/streamed/rel.tar.gz" "$A/releases/hello-1.0.0.tar.gz"
# the whole tree: every entry of the tarball is the file in the build dir
(cd "$A/hello" && find . -path ./.knit-build -prune -o -print | sed 's#^\./##; /^\.$/d' | sort) >"$T/tree"
tar tzf "$A/streamed/rel.tar.gz" | sed 's#/$##' | sort >"$T/entries"
eq "1.0.0: the streamed tarball's entries are the build dir's files" "$(diff "$T/tree" "$T/entries")" ""

# ---- 2. an upgrade 1.0.0 -> 1.1.0: a changed module and an added one
set_vsn "$A" 1.1.0
sed -i -E 's/Name \+\+ "[^"]*"/Name ++ "!!"/' "$A/apps/hello/src/hello_text.erl"
cat >"$A/apps/hello/src/hello_punct.erl" <<'ERL'
-module(hello_punct).
-export([tidy/1]).
tidy(S) -> string:trim(S).
ERL
compile "$A"
kn "$A"
rc_is "1.1.0 with a build dir" 0
aside "$A" hello 1.1.0
kn "$A" --tarball-only --json
rc_is "1.1.0 --tarball-only" 0
same "1.1.0: the streamed release tarball" "$A/normal/rel.tar.gz" "$A/releases/hello-1.1.0.tar.gz"
same "1.1.0: the upgrade tarball from a streamed build" "$A/normal/up.tar.gz" "$A/upgrades/hello-1.1.0.tar.gz"
eq "1.1.0 --tarball-only --json: no relup artifact (it is in the upgrade tarball only)" \
    "$(printf '%s' "$OUT" | jq -c '[.release.build_dir, [.artifacts[].kind], [.upgrades[].from]]')" \
    '[null,["release_tarball","upgrade_tarball"],["1.0.0"]]'
no_staging "1.1.0 --tarball-only" "$A"
eq "1.1.0 --tarball-only: the build dir of the normal run is left as it was" \
    "$(cat "$A/hello/releases/start_erl.data" 2>&1)" "$(tar xzOf "$A/normal/rel.tar.gz" releases/start_erl.data 2>&1)"

# ---- 3. {build_dir, false} in the config is --tarball-only
rm -f "$A/releases/hello-1.1.0.tar.gz" "$A/upgrades/hello-1.1.0.tar.gz"
rm -rf "$A/hello"
echo '{build_dir, false}.' >>"$A/rel/reltool.config"
kn "$A"
rc_is "{build_dir, false}" 0
absent "{build_dir, false}: no build dir" "$A/hello"
same "{build_dir, false}: the release tarball" "$A/normal/rel.tar.gz" "$A/releases/hello-1.1.0.tar.gz"
same "{build_dir, false}: the upgrade tarball" "$A/normal/up.tar.gz" "$A/upgrades/hello-1.1.0.tar.gz"
# knit appup / knit relup write into the build dir: the config option does not apply to them
kn "$A" relup
rc_is "{build_dir, false}: knit relup still builds its build dir" 0
[ -f "$A/hello/releases/1.1.0/relup" ] && ok "{build_dir, false}: knit relup wrote the relup" ||
    fail "{build_dir, false}: knit relup wrote no relup" "$ERR"
kn "$A" --tarball-only appup
rc_is "--tarball-only appup: a usage error" 1
printf '%s' "$ERR" | grep -qF -- "--tarball-only" && ok "--tarball-only appup: the message names the option" ||
    fail "--tarball-only appup: message" "$ERR"

# ---- 4. config/multi-app.reltool.config: strip, OTP's crypto, overlays
P=$T/multi
"$TOP/tests/multi/mkproj.sh" "$TOP" "$P" >/dev/null 2>"$T/err" || fail "setup: the multi-app project" "$(cat "$T/err")"
for d in "$P"/_build/lib/*; do
    mkdir -p "$d/priv" && echo "$(basename "$d") data" >"$d/priv/data.txt"
done
# an overlay that replaces a file of an application and adds one beside it
echo "replaced by an overlay" >"$P/config/data.txt"
sed -i 's#{copy, "vars.config", "releases/{{rel_vsn}}/vars.config"}#&,\n    {copy, "data.txt", "lib/store_web-1.2.0/priv/data.txt"},\n    {copy, "data.txt", "lib/store_web-1.2.0/priv/more.txt"}#' \
    "$P/config/multi-app.reltool.config"
grep -q more.txt "$P/config/multi-app.reltool.config" || fail "setup: the overlays were not added"
kn "$P" -r config/multi-app.reltool.config
rc_is "multi-app with a build dir" 0
mkdir -p "$P/normal" && mv "$P/releases/store-1.0.0.tar.gz" "$P/normal/rel.tar.gz"
kn "$P" --tarball-only -r config/multi-app.reltool.config
rc_is "multi-app --tarball-only" 0
same "multi-app: the streamed release tarball (strip, crypto, overlays)" \
    "$P/normal/rel.tar.gz" "$P/releases/store-1.0.0.tar.gz"
eq "multi-app: the overlay's file replaced the application's" \
    "$(tar xzOf "$P/releases/store-1.0.0.tar.gz" lib/store_web-1.2.0/priv/data.txt 2>&1)" "replaced by an overlay"
eq "multi-app: store_core's beam is stripped in the streamed tarball" \
    "$(tar xzOf "$P/releases/store-1.0.0.tar.gz" lib/store_core-1.0.0/ebin/store_core_db.beam | grep -c Dbgi)" 0
no_staging "multi-app --tarball-only" "$P"

# ---- 5. a failed streamed run leaves nothing: no tarball, no staging dir
rm -f "$P/releases/store-1.0.0.tar.gz"
echo "this is not a term" >"$P/config/sys.config"
kn "$P" --tarball-only -r config/multi-app.reltool.config
rc_is "--tarball-only with a broken sys.config" 2
absent "broken sys.config: no release tarball" "$P/releases/store-1.0.0.tar.gz"
no_staging "broken sys.config" "$P"

# ---- 6. a beam whose calls cannot be read: one warning naming it (the beams are read side by
# side, the warning is said once, in order), and the release is still made
Q=$T/q
cp -R "$TOP/example" "$Q" && rm -rf "$Q/_build" "$Q/hello" "$Q/releases" "$Q/upgrades"
compile "$Q"
printf 'FOR1junk' >"$Q/_build/lib/hello-1.0.0/ebin/hello_text.beam"
kn "$Q" --tarball-only release
rc_is "an unreadable beam: knit --tarball-only release" 0
eq "an unreadable beam: one warning naming it" \
    "$(printf '%s\n' "$ERR" | grep -c "hello_text.beam: cannot read the calls of module 'hello_text'")" 1

# ---- 7. a rebar3 project (relx's layout): the same tarball streamed
if command -v rebar3 >/dev/null; then
    R=$T/rebar
    mkdir -p "$T/home"
    "$TOP/tests/rebar/mkproj.sh" "$R" 1.0.0 "knit_s$RANDOM@127.0.0.1" "c$RANDOM" ||
        fail "setup: the rebar3 project"
    (cd "$R" && HOME=$T/home timeout 300 rebar3 compile) >"$T/rebar3.log" 2>&1 ||
        fail "setup: rebar3 compile" "$(tail -20 "$T/rebar3.log")"
    RT=$R/_build/default/rel/myrel/myrel-1.0.0.tar.gz
    kn "$R" release
    rc_is "rebar3 project: knit release" 0
    mkdir -p "$R/normal" && mv "$RT" "$R/normal/rel.tar.gz"
    kn "$R" --tarball-only release
    rc_is "rebar3 project: knit --tarball-only release" 0
    same "rebar3 project: the streamed release tarball" "$R/normal/rel.tar.gz" "$RT"
else
    skip "rebar3 project" "rebar3 is not installed (make deps installs it)"
fi

finish
