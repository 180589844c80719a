#!/usr/bin/env bash
# t_hostile.sh - hostile earlier releases and dangerous options (issue 10): nothing is read
# from outside the extraction dir, nothing is lost, the work is bounded, one run at a time.
# Works on a copy of example/ in a temp dir; no Erlang node is started.
source "$(dirname "$0")/lib.sh"
export KNIT_TEMPLATES=${KNIT_TEMPLATES:-$TOP/templates}
unset SOURCE_DATE_EPOCH
T=$(tmpdir)
BGPIDS=""
trap 'for p in $BGPIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

if [ ! -x "$KNIT" ]; then
    fail "no knit binary at $KNIT (build it first)"
    finish
    exit
fi
for tool in erlc erl tar gzip mkfifo flock timeout python3; do
    command -v "$tool" >/dev/null || fail "t_hostile.sh needs '$tool' on PATH"
done
[ "$T_FAIL" = 0 ] || { finish; exit; }

# kn DIR ARGS... - run knit in DIR (at most 60 s); stderr in $ERR, exit code in $RC
kn() {
    local d=$1
    shift
    (cd "$d" && timeout 60 "$KNIT" "$@") >"$T/.out" 2>"$T/.err"
    RC=$?
    ERR=$(cat "$T/.err")
}
rc_is() { if [ "$RC" = "$2" ]; then ok "$1"; else fail "$1: exit $RC, expected $2" "stderr: $ERR"; fi; }
has() { if printf '%s' "$2" | grep -qF -- "$3"; then ok "$1"; else fail "$1: no '$3' in" "$2"; fi; }
hasnt() { if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: '$3' in" "$2"; else ok "$1"; fi; }
present() { if [ -e "$2" ]; then ok "$1"; else fail "$1: no $2"; fi; }
absent() { if [ -e "$2" ] || [ -L "$2" ]; then fail "$1: $2 exists"; else ok "$1"; fi; }
eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:      $2
expected: $3"; fi; }

A=$T/a
cp -R "$TOP/example" "$A" && rm -rf "$A/_build" "$A/hello" "$A/releases" "$A/upgrades"
"$A/build.sh" >/dev/null 2>"$T/.cerr" || fail "compile the example" "$(cat "$T/.cerr")"
cp -R "$A" "$T/pristine"
kn "$A"
[ "$RC" = 0 ] || fail "setup: the first release 1.0.0" "$ERR"
REL1=$A/releases/hello-1.0.0.tar.gz
[ -f "$REL1" ] || { fail "setup: no $REL1"; finish; exit; }
cp "$REL1" "$T/rel1.tar.gz"
# from here on the release being built is 1.1.0 (the same applications)
sed -i -E 's/\{rel, "hello", "1.0.0"/{rel, "hello", "1.1.0"/' "$A/rel/reltool.config"
EVIL=$A/releases/hello-0.9.0.tar.gz
DEST=$A/.knit_tmp/from/0.9.0

# ============ 1. nothing read outside the extraction dir
# d1/.../d8/up -> .. at each level; releases/0.9.0 -> ../d1/../d8/up x8/../../../../outside:
# inside by its text, $T/outside in fact
S=$T/chain
mkdir -p "$S/d1/d2/d3/d4/d5/d6/d7/d8" "$S/releases" "$T/outside"
p=$S
for i in 1 2 3 4 5 6 7 8; do p=$p/d$i; ln -s .. "$p/up"; done
ln -s ../d1/d2/d3/d4/d5/d6/d7/d8/up/up/up/up/up/up/up/up/../../../../outside "$S/releases/0.9.0"
printf '%s\n' '{release, {"hello", "0.9.0"}, {erts, "13.1.5"}, [{kernel, "8.5.3"}, {stdlib, "4.2"}]}.' \
    >"$T/outside/hello.rel"
tar -czf "$EVIL" -C "$S" d1 releases
kn "$A" relup -f --from 0.9.0
rc_is "symlink chain to a .rel outside: refused" 2
has "symlink chain: the message names the entry" "$ERR" "'releases/0.9.0'"
hasnt "symlink chain: the outside .rel was not read" "$ERR" "$T/outside"
# the same chain to a FIFO: knit must not block on it
rm "$T/outside/hello.rel" && mkfifo "$T/outside/hello.rel"
kn "$A" relup -f --from 0.9.0
rc_is "symlink chain to a FIFO outside: refused, not blocked" 2
rm -f "$T/outside/hello.rel" "$EVIL"
# a FIFO or a device where knit reads a file (here the config) is refused, not read
mkfifo "$T/fifo.config"
kn "$A" -r "$T/fifo.config"
rc_is "a FIFO as the config file: refused, not blocked" 2
has "a FIFO as the config file: the message says why" "$ERR" "not a regular file"
kn "$A" -r /dev/zero
rc_is "/dev/zero as the config file: refused" 2

# ============ 4. integrity: the gzip CRC-32 and length trailer of an earlier release
# damaged NAME HOW - $EVIL is the 1.0.0 release with HOW applied (python3 on the bytes)
damaged() {
    python3 -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); $2; open(sys.argv[2], 'wb').write(b)" \
        "$T/rel1.tar.gz" "$REL1"
    [ "$1" = undamaged ] || ! gzip -t "$REL1" 2>/dev/null || fail "fixture $1: gzip -t accepts it"
    kn "$A" relup -f --from 1.0.0
}
damaged undamaged 'pass'
rc_is "the undamaged 1.0.0: accepted" 0
damaged "CRC flipped" 'b[-8] ^= 1'
rc_is "a wrong CRC-32 in the trailer: refused" 2
has "a wrong CRC-32: the message names the archive" "$ERR" "$REL1"
has "a wrong CRC-32: the message says what" "$ERR" "CRC-32"
damaged "length flipped" 'b[-1] ^= 1'
rc_is "a wrong length in the trailer: refused" 2
has "a wrong length: the message says what" "$ERR" "length"
damaged "trailer cut" 'del b[-4:]'
rc_is "a truncated gzip trailer: refused" 2
has "a truncated gzip trailer: the message says what" "$ERR" "truncated gzip stream"
hasnt "a truncated gzip trailer: no '(null)' in the message" "$ERR" "(null)"
damaged "garbage after" 'b += b"garbage"'
rc_is "data after the gzip stream: refused" 2
cp "$T/rel1.tar.gz" "$REL1"

# ============ 5. options that would destroy data are refused before anything is removed
# refused DESC WANT1 WANT2 ARGS... - knit ARGS exits 2 naming both paths; nothing lost
refused() {
    local desc=$1 p1=$2 p2=$3
    shift 3
    kn "$A" "$@"
    rc_is "$desc: refused" 2
    has "$desc: the message names '$p1'" "$ERR" "'$p1'"
    has "$desc: the message names '$p2'" "$ERR" "'$p2'"
    present "$desc: the release tarball is still there" "$REL1"
    present "$desc: the config is still there" "$A/rel/reltool.config"
    present "$desc: the sources are still there" "$A/apps/hello/src/hello.app.src"
    present "$desc: the compiled applications are still there" "$A/_build/lib/hello-1.0.0/ebin/hello.app"
}
refused "tmp_dir=../releases" "$A/releases" "$A/releases" tmp_dir=../releases
refused "tmp_dir=." "$A/rel" "$A/rel/reltool.config" tmp_dir=.
refused "tmp_dir=.." "$A" "$A/hello" tmp_dir=..
refused "tmp_dir=../_build" "$A/_build" "$A/_build/lib" tmp_dir=../_build
refused "upgrade_dir=../releases, -f" "$A/releases" "$A/releases" -f upgrade_dir=../releases
refused "release_dir=../hello (the build dir)" "$A/hello" "$A/hello" release_dir=../hello
refused "target_dir=../_build/lib" "$A/_build/lib/.knit_tmp" "$A/_build/lib" target_dir=../_build/lib
ln -s "$A/releases" "$T/rlink"
refused "tmp_dir through a symlink to release_dir" "$A/releases" "$A/releases" "tmp_dir=$T/rlink"
# a release named 'releases': its build dir would be the release dir
cp "$A/rel/reltool.config" "$T/named.config"
sed -i -e 's/{rel, "hello"/{rel, "releases"/' -e 's/{boot_rel, "hello"}/{boot_rel, "releases"}/' \
    -e 's|"\.\./_build/lib"|"'"$A"'/_build/lib"|' -e 's|{target_dir, "\.\."}|{target_dir, "'"$A"'"}|' \
    "$T/named.config"
refused "a release named 'releases'" "$A/releases" "$A/releases" -r "$T/named.config"
# a tmp dir or build dir knit did not make is not removed
mkdir -p "$A/mine" && echo precious >"$A/mine/data"
kn "$A" tmp_dir=../mine
rc_is "tmp_dir=../mine (not made by knit): refused" 2
has "tmp_dir=../mine: the message names it" "$ERR" "'$A/mine'"
present "tmp_dir=../mine: its file is still there" "$A/mine/data"
cp -R "$T/pristine" "$T/b"
mkdir -p "$T/b/hello" && echo precious >"$T/b/hello/data"
kn "$T/b" release
rc_is "a build dir knit did not make: refused" 2
has "a build dir knit did not make: the message names it" "$ERR" "'$T/b/hello'"
present "a build dir knit did not make: its file is still there" "$T/b/hello/data"
rm -rf "$T/b/hello"
kn "$T/b" release
rc_is "knit release with no build dir yet" 0
kn "$T/b" release -f
rc_is "knit release again: its own build dir is replaced" 0
tar tzf "$T/b/releases/hello-1.0.0.tar.gz" >"$T/list" 2>&1
if grep -q 'knit' "$T/list"; then fail "the build dir's marker is not packed" "$(grep knit "$T/list")"; else ok "the build dir's marker is not packed"; fi

# ============ 6. temp files are created, never followed
B=$T/b
echo victim >"$T/victim"
# the tarball is staged as .NAME-VSN.tar.gz.knit-PID (renamed into place when the run
# succeeded), written through its own .tmp-PID: plant symlinks at both names
(cd "$B" && bash -c 'ln -s "$1" "releases/.hello-1.0.0.tar.gz.knit-$$" &&
    ln -s "$1" "releases/.hello-1.0.0.tar.gz.knit-$$.tmp-$$" && exec "$2" release -f' _ "$T/victim" "$KNIT") \
    >/dev/null 2>"$T/.err"
RC=$? ERR=$(cat "$T/.err")
rc_is "a symlink planted at the tarball's temp name: the run still succeeds" 0
eq "a symlink planted at the tarball's temp name: the file it points to is unchanged" "$(cat "$T/victim")" victim
if gzip -t "$B/releases/hello-1.0.0.tar.gz" 2>/dev/null; then ok "the release tarball is whole"; else fail "the release tarball is whole"; fi
ls -A "$B/releases" | grep -qE 'tmp-|knit-' && fail "no temp file left in releases/" "$(ls -A "$B/releases")" || ok "no temp file left in releases/"

# ============ 7. one run at a time per project
flock "$B/.knit.lock" sleep 30 &
HOLDER=$!
BGPIDS="$BGPIDS $HOLDER"
for _ in $(seq 50); do flock -n "$B/.knit.lock" true 2>/dev/null || break; sleep 0.1; done
kn "$B" release -f
rc_is "a second run while the lock is held: refused" 3
has "a second run: the message says why" "$ERR" "another knit run"
has "a second run: the message names --wait" "$ERR" "--wait"
(cd "$B" && timeout 60 "$KNIT" --wait release -f) >/dev/null 2>"$T/.werr" &
WAITER=$!
sleep 1
if kill -0 "$WAITER" 2>/dev/null; then ok "--wait: waits while the lock is held"; else fail "--wait: did not wait" "$(cat "$T/.werr")"; fi
kill "$HOLDER"
wait "$WAITER"
RC=$? ERR=$(cat "$T/.werr")
rc_is "--wait: runs once the lock is released" 0

# ============ 8. what killed runs left is removed by the next run (only what knit made)
DEAD=4194303
while kill -0 "$DEAD" 2>/dev/null; do DEAD=$((DEAD - 1)); done
mkdir -p "$B/.hello.knit-new-$DEAD/lib" "$B/.hello.knit-old-$DEAD" "$B/.hello.knit-new-$((DEAD - 99999))"
touch "$B/.hello.knit-new-$DEAD/.knit-build" "$B/.hello.knit-old-$DEAD/.knit-build"
echo x >"$B/releases/hello-1.0.0.tar.gz.tmp-$DEAD"
mkdir -p "$B/.hello.knit-new-$$" && touch "$B/.hello.knit-new-$$/.knit-build"
kn "$B" release -f
rc_is "a run after killed ones" 0
absent "stale .hello.knit-new-PID removed" "$B/.hello.knit-new-$DEAD"
absent "stale .hello.knit-old-PID removed" "$B/.hello.knit-old-$DEAD"
absent "stale tarball .tmp-PID removed" "$B/releases/hello-1.0.0.tar.gz.tmp-$DEAD"
present "a .knit-new-PID dir without knit's marker is kept" "$B/.hello.knit-new-$((DEAD - 99999))"
present "the leftover of a running PID is kept" "$B/.hello.knit-new-$$"

# ============ 3. linear parsing: long integers capped, binaries bounded by the text's size
python3 -c "print('1' * 1600000 + '.')" >"$T/bigint.term"
S0=$(date +%s)
expect_exit "an integer of 1.6 M digits: refused" 2 timeout 20 "$KNIT" inspect "$T/bigint.term"
has "an integer of 1.6 M digits: the message names the cap" "$ERR" "at most 32768 bits"
[ $(($(date +%s) - S0)) -le 3 ] && ok "an integer of 1.6 M digits: refused at once" || fail "an integer of 1.6 M digits: took $(($(date +%s) - S0)) s"
python3 -c "print('7' * 9000 + '.')" >"$T/int9000.term"
expect_exit "an integer of 9000 digits: read" 0 "$KNIT" inspect "$T/int9000.term"
eq "an integer of 9000 digits: printed back the same" "$("$KNIT" inspect "$T/int9000.term" | tr -d '\n')" "$(python3 -c "print('7' * 9000 + '.')")"
printf '<<1:2000000000>>.\n' >"$T/bigbin.term"
S0=$(date +%s)
expect_exit "<<1:2000000000>>: refused" 2 timeout 20 "$KNIT" inspect "$T/bigbin.term"
has "<<1:2000000000>>: the message says why" "$ERR" "larger than a text of this size may produce"
[ $(($(date +%s) - S0)) -le 2 ] && ok "<<1:2000000000>>: refused at once" || fail "<<1:2000000000>>: took $(($(date +%s) - S0)) s"
printf '<<0:8192>>.\n' >"$T/okbin.term"
expect_exit "<<0:8192>>: read" 0 "$KNIT" inspect "$T/okbin.term"

# ============ 2. bounded expansion: caps on what an earlier release may make knit take
G=$T/caps
mkdir -p "$G/releases/0.9.0" "$G/lib/x-0.1/ebin"
printf '%s\n' '{release, {"hello", "0.9.0"}, {erts, "13.1.5"}, [{kernel, "8.5.3"}, {stdlib, "4.2"}]}.' \
    >"$G/releases/0.9.0/hello.rel"
EVIL=$B/releases/hello-0.9.0.tar.gz
head -c 40000000 /dev/zero >"$G/lib/x-0.1/ebin/x.beam"
tar -czf "$EVIL" -C "$G" releases lib
kn "$B" relup -f --from 0.9.0
rc_is "a 40 MB beam (40 KB compressed): refused" 2
has "a 40 MB beam: the message names the cap's option" "$ERR" "extract_max_entry_bytes"
has "a 40 MB beam: the message names the entry" "$ERR" "'lib/x-0.1/ebin/x.beam'"
kn "$B" relup -f --from 0.9.0 extract_max_entry_bytes=50000000 extract_max_bytes=30000000
rc_is "the same with a higher entry cap and a lower total cap: refused" 2
has "the total cap: the message names its option" "$ERR" "extract_max_bytes"
kn "$B" relup -f --from 0.9.0 extract_max_entry_bytes=abc
rc_is "extract_max_entry_bytes=abc: a bad option" 2
has "extract_max_entry_bytes=abc: the message says what it must be" "$ERR" "a positive integer"
rm "$G/lib/x-0.1/ebin/x.beam"
for i in $(seq 120); do : >"$G/lib/x-0.1/ebin/m$i.beam"; done
tar -czf "$EVIL" -C "$G" releases lib
kn "$B" relup -f --from 0.9.0 extract_max_entries=100
rc_is "126 entries with extract_max_entries=100: refused" 2
has "extract_max_entries: the message names it" "$ERR" "extract_max_entries"
rm -rf "$G/lib"
python3 -c "
apps = ','.join('{a%d, \"1\"}' % i for i in range(200000))
open('$G/releases/0.9.0/hello.rel', 'w').write('{release, {\"hello\", \"0.9.0\"}, {erts, \"1\"}, [%s]}.\n' % apps)"
tar -czf "$EVIL" -C "$G" releases
S0=$(date +%s)
kn "$B" relup -f --from 0.9.0
rc_is "a .rel of 200,000 applications (3 MB): refused" 2
has "a .rel of 200,000 applications: the message names the option" "$ERR" "extract_max_rel_bytes"
[ $(($(date +%s) - S0)) -le 10 ] && ok "a .rel of 200,000 applications: refused at once" || fail "a .rel of 200,000 applications: took $(($(date +%s) - S0)) s"

# ============ 10. messages and exit classes
# a .rel twice in an earlier release
printf '%s\n' '{release, {"hello", "0.9.0"}, {erts, "13.1.5"}, [{kernel, "8.5.3"}, {stdlib, "4.2"}]}.' \
    >"$G/releases/0.9.0/hello.rel"
tar -czf "$EVIL" --hard-dereference -C "$G" releases releases/0.9.0/hello.rel
kn "$B" relup -f --from 0.9.0
rc_is "a .rel twice in an earlier release: exit 2" 2
has "a .rel twice: the message names the entry" "$ERR" "'releases/0.9.0/hello.rel': it is in the archive twice"
# an application version that is a path
printf '%s\n' '{release, {"hello", "0.9.0"}, {erts, "13.1.5"}, [{kernel, "../../x"}, {stdlib, "4.2"}]}.' \
    >"$G/releases/0.9.0/hello.rel"
tar -czf "$EVIL" -C "$G" releases
kn "$B" relup -f --from 0.9.0
rc_is "an application version '../../x' in an earlier .rel: refused" 2
has "version '../../x': the message names it" "$ERR" "'../../x'"
rm -f "$EVIL"
# a garbage .app in an earlier release: exit 2 naming it (not 127 blaming the new .app)
mkdir -p "$G/lib/hello-0.9.0/ebin"
printf '%s\n' '{release, {"hello", "0.9.0"}, {erts, "13.1.5"}, [{kernel, "8.5.3"}, {stdlib, "4.2"}, {hello, "0.9.0"}]}.' \
    >"$G/releases/0.9.0/hello.rel"
echo 'garbage {{{' >"$G/lib/hello-0.9.0/ebin/hello.app"
tar -czf "$EVIL" -C "$G" releases lib
kn "$B" relup -f --from 0.9.0
rc_is "a garbage .app in an earlier release: exit 2" 2
has "a garbage .app: the message names it" "$ERR" "lib/hello-0.9.0/ebin/hello.app:1:"
has "a garbage .app: the message names the earlier release" "$ERR" "$EVIL"
rm -rf "$G/lib" "$EVIL"
# an invalid version_regex is reported before any work
rm -rf "$B/hello" "$B/releases/hello-1.0.0.tar.gz"
kn "$B" 'version_regex=(' -f
rc_is "an invalid version_regex: refused" 2
has "an invalid version_regex: the message names it" "$ERR" "version_regex"
absent "an invalid version_regex: no release tarball packed first" "$B/releases/hello-1.0.0.tar.gz"
absent "an invalid version_regex: no build dir made first" "$B/hello"

# ============ 9. overlay rendering is bounded; cycles are errors naming the variable
O=$T/ov
cp -R "$T/pristine" "$O"
printf '{a, "{{a}}{{a}}"}.\n' >"$O/rel/vars.config"
printf '%s\n' '{overlay_vars, ["vars.config", {greeting, "hi {{rel_name}}"}]}.' \
    '{overlay, [{template, "vars.config", "x.txt"}, {template, "greet.txt", "greet.txt"}]}.' >>"$O/rel/reltool.config"
printf '{{greeting}}\n' >"$O/rel/greet.txt"
S0=$(date +%s)
# a 4 GB address-space limit turns runaway growth into a failure; ASan reserves terabytes
# of shadow memory up front and cannot start under one, so sanitized runs go without it
if [ -n "${KNIT_SANITIZED:-}" ]; then VLIM=unlimited; else VLIM=4000000; fi
(ulimit -v $VLIM; kn "$O" release; echo "$RC" >"$T/.rc"; printf '%s' "$ERR" >"$T/.e")
RC=$(cat "$T/.rc") ERR=$(cat "$T/.e")
rc_is "{a, \"{{a}}{{a}}\"}: refused, not out of memory" 2
has "{a, \"{{a}}{{a}}\"}: the message names the variable" "$ERR" "overlay variable 'a'"
[ $(($(date +%s) - S0)) -le 20 ] && ok "{a, \"{{a}}{{a}}\"}: refused quickly" || fail "{a, \"{{a}}{{a}}\"}: took $(($(date +%s) - S0)) s"
printf '{a, "{{b}}"}.\n{b, "{{a}}"}.\n' >"$O/rel/vars.config"
kn "$O" release
rc_is "a cycle a -> b -> a: refused" 2
has "a cycle a -> b -> a: the message names a variable of it" "$ERR" "overlay variable 'a' refers to itself"
printf '{a, "x"}.\n' >"$O/rel/vars.config"
kn "$O" release
rc_is "inline {Name, Value} in overlay_vars: accepted" 0
eq "inline {Name, Value} in overlay_vars: rendered" "$(cat "$O/hello/greet.txt" 2>&1)" "hi hello"

finish
