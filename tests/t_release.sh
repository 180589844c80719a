#!/usr/bin/env bash
# t_release.sh - `knit release` against OTP: the lib/ tree reltool:create_target/2 makes for the
# same config, boot scripts equal to systools:make_script/2, a tarball that boots with its own
# ERTS, reproducibility, overwrite refusal and error cases; the project's own configs
# (example/, tests/release/*, config/); five configs of the external corpus with stub apps
# and every corpus config's load result when the corpus is present (else skipped by name).
# OTP runs twice (one escript per batch) plus the booted release itself.
source "$(dirname "$0")/lib.sh"
T=$(tmpdir)
ORACLE="escript $TOP/tests/otp/release_oracle.escript"
NODE_PID=
X=
cleanup() {
    if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
        [ -n "$X" ] && "$X/bin/hello" stop >/dev/null 2>&1
        kill -0 "$NODE_PID" 2>/dev/null && kill "$NODE_PID" 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000

# --- inputs: the bundled example, tests/release/*, four corpus configs with stub apps
mkdir -p "$T/example"
cp -R "$TOP/example/apps" "$TOP/example/rel" "$TOP/example/build.sh" "$T/example/"
bash "$T/example/build.sh" >/dev/null || fail "example/build.sh"
for c in derived noerts; do
    cp -R "$TOP/tests/release/$c" "$T/$c"
    "$TOP/tests/release/build_apps.sh" "$T/$c/apps" "$T/$c/lib" || fail "build $c apps"
done
CORPUS="$CORPUS_ROOT/reltool"
CORPUS_PICK="chef__erchef__rel_reltool.config rebar__rebar__test_upgrade_project_rel_reltool.config
basho__riak_cs__rel_reltool.config OpenACD__OpenACD__rel_reltool.config
cloudant__bigcouch__rel_reltool.config"
# name:config:build-dir-name:boot-vsn
CONFIGS="example:$T/example/rel/reltool.config:hello:1.0.0
derived:$T/derived/reltool.config:drv:0.3.0
noerts:$T/noerts/reltool.config:tau:2.1.0"
jobs=()
if have_corpus reltool; then
    i=0
    for f in $CORPUS_PICK; do
        i=$((i + 1))
        mkdir -p "$T/c$i/rel"
        cp "$CORPUS/$f" "$T/c$i/rel/reltool.config"
        jobs+=("stubs:$T/c$i/rel/reltool.config")
    done
    CONFIGS="$CONFIGS
c1:$T/c1/rel/reltool.config:erchef:1.4.1
c2:$T/c2/rel/reltool.config:dummy:0.1
c3:$T/c3/rel/reltool.config:riak-cs:2.1.2
c4:$T/c4/rel/reltool.config:openacd:1
c5:$T/c5/rel/reltool.config:bigcouch:0.4.2"
else
    skip "t_release corpus configs (5 with stub apps, against reltool)" "no corpus at $CORPUS (set KNIT_CORPUS)"
fi
while IFS=: read -r name cfg _ _; do
    jobs+=("reltool:$cfg:$T/$name/reltool_target")
done <<<"$CONFIGS"
out=$($ORACLE "${jobs[@]}" 2>&1)
[ $? = 0 ] || fail "setup: OTP side (stubs, reltool)" "$out"

# --- knit release for every config
archived=
while IFS=: read -r name cfg bname vsn; do
    extra=()
    case $name in c*) extra=('overlay=!![]' 'overlay_vars=!![]') ;; esac
    if ERR=$("$KNIT" -q -r "$cfg" release "target_dir=$T/$name/out" "${extra[@]}" 2>&1); then
        ok "knit release $name"
    else
        fail "knit release $name" "$ERR"
        continue
    fi
    B=$T/$name/out/$bname
    [ -f "$T/$name/out/releases/$bname-$vsn.tar.gz" ] && ok "$name: tarball" ||
        fail "$name: no tarball $bname-$vsn.tar.gz"
    # 1. lib/ equals reltool's, dirs and files. Differences knit makes on purpose, none of
    # which shows here: no .ez archives (every config sets excl_archive_filters [".*"] or
    # knit warns), no bin/ and usr/ copied from ROOT, releases/ written by knit itself.
    # When a config lets reltool pack APP-VSN.ez (OpenACD sets no excl_archive_filters), the
    # archived applications are left out of the comparison (knit must have them as dirs).
    rt=$(cd "$T/$name/reltool_target/lib" && find . | sort)
    kn=$(cd "$B/lib" && find . | sort)
    for ez in $(grep '\.ez$' <<<"$rt"); do
        app=${ez%.ez}
        grep -qxF "$app" <<<"$kn" || fail "$name: reltool archived $app, knit has no such dir"
        rt=$(grep -v "^${app//./\\.}\(\.ez\)\?\(/\|\$\)" <<<"$rt")
        kn=$(grep -v "^${app//./\\.}\(/\|\$\)" <<<"$kn")
        archived="$archived ${app#./}"
    done
    d=$(diff <(echo "$rt") <(echo "$kn"))
    [ -z "$d" ] && ok "$name: lib/ tree equals reltool's${archived:+ (reltool archived:$archived)}" ||
        fail "$name: lib/ differs from reltool's (< reltool, > knit)" "$d"
    archived=
    # the .rel files equal reltool's where reltool writes releases/ (not standalone)
    for rel in "$T/$name/reltool_target/releases/$vsn"/*.rel; do
        [ -f "$rel" ] || continue
        if cmp -s "$rel" "$B/releases/$vsn/$(basename "$rel")"; then
            ok "$name: $(basename "$rel") equals reltool's"
        else
            fail "$name: $(basename "$rel") differs from reltool's" \
                "$(diff "$rel" "$B/releases/$vsn/$(basename "$rel")")"
        fi
    done
    for f in RELEASES start_erl.data "$vsn/start.boot" "$vsn/start_clean.boot" \
        "$vsn/sys.config" "$vsn/vm.args" "$vsn/$bname.rel" "$vsn/$bname.boot"; do
        [ -f "$B/releases/$f" ] || fail "$name: missing releases/$f"
    done
    [ -x "$B/bin/$bname" ] || fail "$name: bin/$bname missing or not executable"
    cmp -s "$B/releases/$vsn/start.boot" "$B/releases/$vsn/$bname.boot" ||
        fail "$name: start.boot is not a copy of $bname.boot"
    erts=$(ls -d "$B"/erts-* 2>/dev/null)
    if [ "$name" = noerts ]; then
        [ -z "$erts" ] && ok "noerts: no erts dir" || fail "noerts: has $erts"
    else
        [ -n "$erts" ] && ! grep -q /usr/lib/erlang "$erts/bin/erl" && [ ! -e "$erts/bin/dyn_erl" ] &&
            ok "$name: relocatable erts bin/erl" || fail "$name: erts/bin/erl not relocatable"
    fi
done <<<"$CONFIGS"

# --- 2. boot scripts equal systools:make_script for the build dir's .rel files
jobs=()
while IFS=: read -r name _ bname vsn; do
    for rel in "$T/$name/out/$bname/releases/$vsn"/*.rel; do
        mkdir -p "$T/$name/systools"
        jobs+=("script:${rel%.rel}:$T/$name/out/$bname/lib:$T/$name/systools")
    done
done <<<"$CONFIGS"
out=$($ORACLE "${jobs[@]}" 2>&1)
[ $? = 0 ] || fail "setup: OTP side: systools:make_script" "$out"
while IFS=: read -r name _ bname vsn; do
    for s in "$T/$name/systools"/*.script "$T/$name/systools"/*.boot; do
        [ -f "$s" ] || continue
        mine="$T/$name/out/$bname/releases/$vsn/$(basename "$s")"
        cmp -s "$s" "$mine" && ok "$name: $(basename "$s") equals systools'" ||
            fail "$name: $(basename "$s") differs from systools'" "$(cmp "$s" "$mine" 2>&1)"
    done
done <<<"$CONFIGS"

# derived: what derived, mod_cond derived, app_file strip and debug_info strip give
D=$T/derived/out/drv/lib
[ -d "$D/beta-1.2.0" ] && [ ! -e "$D/gamma-0.0.1" ] && ok "derived: beta in, gamma out" ||
    fail "derived: beta/gamma selection" "$(ls "$D")"
[ -f "$D/beta-1.2.0/ebin/beta_util.beam" ] && [ ! -e "$D/beta-1.2.0/ebin/beta_unused.beam" ] &&
    ok "derived: mod_cond derived leaves beta_unused out" || fail "derived: beta modules" "$(ls "$D/beta-1.2.0/ebin")"
grep -q '{modules,\[beta_deep,beta_util\]}' "$D/beta-1.2.0/ebin/beta.app" &&
    ok "derived: app_file strip" || fail "derived: beta.app" "$(cat "$D/beta-1.2.0/ebin/beta.app")"
cmp -s "$D/beta-1.2.0/ebin/beta_util.beam" "$T/derived/reltool_target/lib/beta-1.2.0/ebin/beta_util.beam" &&
    ok "derived: stripped beam equals reltool's (beam_lib:strip)" || fail "derived: stripped beam differs"
grep -q tau_node "$T/noerts/out/tau/releases/2.1.0/vm.args" && [ -f "$T/noerts/out/tau/etc/extra.txt" ] &&
    ok "noerts: overlays ran (vm.args replaced, file added)" || fail "noerts: overlays"
grep -q '"1.0.0"' "$T/noerts/out/tau/lib/tau-1.0.0/ebin/tau.app" && [ ! -e "$T/noerts/out/tau/lib/tau-2.0.0" ] &&
    ok "noerts: {vsn, \"1.0.0\"} pin" || fail "noerts: version pin" "$(ls "$T/noerts/out/tau/lib")"

# --- 3. the example's tarball boots with its own ERTS from anywhere
X=$T/extracted/hello
mkdir -p "$X"
tar xzf "$T/example/out/releases/hello-1.0.0.tar.gz" -C "$X"
SNAME=knit_t_release_$$
sed -i "s/^-sname .*/-sname $SNAME/" "$X/releases/1.0.0/vm.args"
COOKIE=$(awk '/^-setcookie/ {print $2}' "$X/releases/1.0.0/vm.args")
if out=$("$X/bin/hello" start 2>&1); then ok "example: bin/hello start"; else fail "example: start" "$out"; fi
NODE_PID=$("$X/bin/hello" pid 2>/dev/null | tr -d '[:space:]')
[ "$("$X/bin/hello" ping 2>&1)" = pong ] && ok "example: ping answers pong" || fail "example: ping"
ERTS_BIN=$(ls -d "$X"/erts-*/bin)
got=$("$ERTS_BIN/erl_call" -sname "$SNAME" -c "$COOKIE" -a 'hello_server greet ["knit"]' 2>&1)
[ "$got" = '"Hello, knit!"' ] && ok "example: rpc hello_server:greet/1" || fail "example: rpc" "$got"
got=$("$X/bin/hello" versions 2>&1)
case $got in *'"hello", "1.0.0"'*permanent*) ok "example: release_handler:which_releases with relative RELEASES" ;;
*) fail "example: which_releases" "$got" ;; esac
grep -q "$X/erts-" /proc/"$NODE_PID"/cmdline 2>/dev/null && ok "example: runs the bundled ERTS" ||
    fail "example: node $NODE_PID does not run from $X" "$(tr '\0' ' ' </proc/"$NODE_PID"/cmdline 2>&1)"
out=$("$X/bin/hello" stop 2>&1)
sleep 0.5
if [ -n "$NODE_PID" ] && ! kill -0 "$NODE_PID" 2>/dev/null; then ok "example: stop"; else fail "example: node still runs after stop" "$out"; fi
# epmd may stay: when none ran before, the node started one from its own ERTS (it is
# stopped here, once nothing else can be registered with it)
left=$(for p in $(pgrep -f "$X/" 2>/dev/null); do [ "$(cat /proc/"$p"/comm 2>/dev/null)" = epmd ] || echo "$p"; done)
[ -z "$left" ] && ok "example: no process left behind (epmd may stay)" || fail "example: left behind" "$(ps -o pid,args -p "$left")"
pkill -f "^$X/erts-[^/]*/bin/epmd" 2>/dev/null

# --- 5. reproducibility, overwrite refusal, force
E=$T/example/rel/reltool.config
TB=$T/example/out/releases/hello-1.0.0.tar.gz
cp "$TB" "$T/first.tar.gz"
expect_exit "an identical existing tarball is accepted (exit 0)" 0 "$KNIT" -q -r "$E" release "target_dir=$T/example/out"
cmp -s "$TB" "$T/first.tar.gz" && ok "accepting run leaves the tarball untouched" || fail "tarball changed"
printf 'x' >>"$TB"
cp "$TB" "$T/changed.tar.gz"
expect_exit "a different existing tarball is kept (exit 3)" 3 "$KNIT" -q -r "$E" release "target_dir=$T/example/out"
case $ERR in *hello-1.0.0.tar.gz*exists*) ok "refusal names the tarball" ;; *) fail "refusal message" "$ERR" ;; esac
cmp -s "$TB" "$T/changed.tar.gz" && ok "refused run leaves the tarball untouched" || fail "tarball changed"
touch -d @1000 "$TB"
expect_exit "-f replaces it" 0 "$KNIT" -q -f -r "$E" release "target_dir=$T/example/out"
[ "$(stat -c %Y "$TB")" != 1000 ] && ok "-f wrote a new tarball" || fail "-f did not rewrite"
cmp -s "$TB" "$T/first.tar.gz" && ok "two builds give byte-identical tarballs" || fail "tarballs differ"
expect_exit "force=true replaces it" 0 "$KNIT" -q -r "$E" release "target_dir=$T/example/out" force=true
json=$("$KNIT" -q -f --json -r "$E" release "target_dir=$T/example/out")
sum=$(sha256sum "$TB" | cut -d' ' -f1)
case $json in *"\"sha256\": \"$sum\""*'"hello": "1.0.0"'*) ;; *'"hello": "1.0.0"'*"\"sha256\": \"$sum\""*) ;;
*) false ;; esac && ok "--json reports the tarball's sha256 and app versions" || fail "--json" "$json"
left=$(ls -A "$T/example/out" | grep -E '\.knit-(old|new)-')
[ -z "$left" ] && ok "rebuilds leave no earlier or half-made build dir behind" || fail "left behind in $T/example/out" "$left"
# a failed run leaves the earlier build dir untouched
mkdir -p "$T/bad/rel"
sed 's/{rel, "hello", "1.0.0", \[kernel, stdlib, sasl, hello\]}/{rel, "hello", "1.0.0", [kernel, stdlib, sasl, hello, nosuchapp]}/' \
    "$E" >"$T/example/rel/bad.config"
before=$(cd "$T/example/out/hello" && find . | sort | md5sum)
expect_exit "missing application (exit 2)" 2 "$KNIT" -q -f -r "$T/example/rel/bad.config" release "target_dir=$T/example/out"
case $ERR in *"'nosuchapp'"*"/lib'"*_build/lib*) ok "missing app: names the app and the searched dirs" ;;
*) fail "missing app message" "$ERR" ;; esac
[ "$(cd "$T/example/out/hello" && find . | sort | md5sum)" = "$before" ] &&
    ok "failed run leaves the build dir as it was" || fail "build dir changed by a failed run"
printf '{sys, [{lib_dirs, ["x"]}\n  {rel, "a", "1", []}]}.\n' >"$T/bad/rel/syntax.config"
expect_exit "config syntax error (exit 2)" 2 "$KNIT" -r "$T/bad/rel/syntax.config" release
case $ERR in *syntax.config:2:*) ok "syntax error names file:line:col" ;; *) fail "syntax message" "$ERR" ;; esac
printf '{sys, [{lib_dirs, []},\n {rel, "a", "1", [kernel, stdlib]},\n {profile, fancy}]}.\n' >"$T/bad/rel/opt.config"
expect_exit "bad option value (exit 2)" 2 "$KNIT" -r "$T/bad/rel/opt.config" release
case $ERR in *opt.config:3:*"'profile'"*) ok "bad option names the option and line" ;; *) fail "bad option message" "$ERR" ;; esac
mkdir -p "$T/empty"
expect_exit "no config found (exit 2)" 2 sh -c "cd '$T/empty' && '$KNIT' release"
case $ERR in *reltool.config*) ok "no config: says where it looked" ;; *) fail "no config message" "$ERR" ;; esac

# --- 4. every corpus config, alone in an empty project: the exit code and message that
# tests/release/corpus_load.txt expects for it (no crash, no silent success)
EXPECT=$TOP/tests/release/corpus_load.txt
if have_corpus reltool; then
    for f in "$CORPUS"/*.config; do
        b=$(basename "$f")
        grep -q '{sys' "$f" || continue
        read -r _ want frag < <(grep "^$b " "$EXPECT")
        if [ -z "${want:-}" ]; then
            fail "corpus $b: no expectation in tests/release/corpus_load.txt"
            continue
        fi
        mkdir -p "$T/load/$b/rel"
        cp "$f" "$T/load/$b/rel/reltool.config"
        out=$("$KNIT" -q -r "$T/load/$b/rel/reltool.config" release "target_dir=$T/load/$b/out" 2>&1)
        rc=$?
        if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -qF -- "$frag"; then
            ok "corpus $b: exit $want, '$frag'"
        else
            fail "corpus $b: exit $rc, expected $want with '$frag'" "$out"
        fi
        want=
    done
else
    skip "t_release corpus configs load" "no corpus at $CORPUS (set KNIT_CORPUS)"
fi
finish
