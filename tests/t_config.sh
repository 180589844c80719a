#!/usr/bin/env bash
# t_config.sh - the example configurations under config/ build as their comments say: the
# one-app reltool.config on the bundled example's application, the multi-app one on two
# applications made here; the shipped sys.config and vm.args are rendered into the release
# and its tarball, the sys.config reads back with file:consult, and the .rel and boot
# script equal what systools makes for the same applications.
source "$(dirname "$0")/lib.sh"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1700000000

if [ ! -x "$KNIT" ]; then
    fail "no knit binary at $KNIT (build it first)"
    finish
    exit
fi
for tool in erlc erl tar; do
    command -v "$tool" >/dev/null || fail "t_config.sh needs '$tool' on PATH"
done
[ "$T_FAIL" = 0 ] || { finish; exit; }

eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:      $2
expected: $3"; fi; }
has() { if printf '%s' "$2" | grep -qF -- "$3"; then ok "$1"; else fail "$1: no '$3' in" "$2"; fi; }
# consult_ok DESC FILE - FILE is a list of {App, Env} for file:consult
consult_ok() {
    local out
    out=$(cd "$T" && erl -noshell -eval "case file:consult(\"$2\") of
        {ok, [L]} when is_list(L) -> true = lists:all(fun({A, E}) -> is_atom(A) andalso is_list(E) end, L), io:format(\"ok\");
        Other -> io:format(\"~p\", [Other]) end, halt()." 2>&1)
    eq "$1" "$out" ok
}

# ---- 1. one application: config/reltool.config on example/'s hello
P=$T/one
mkdir -p "$P"
cp -R "$TOP/config" "$P/config"
cp -R "$TOP/example/apps" "$TOP/example/build.sh" "$P/"
bash "$P/build.sh" "$P/_build/lib" >/dev/null 2>"$T/err" || fail "setup: compile hello" "$(cat "$T/err")"
(cd "$P" && "$KNIT" -r config/reltool.config) >"$T/out" 2>"$T/err"
rc=$?
eq "one-app: knit -r config/reltool.config" "$rc" 0
[ $rc = 0 ] || fail "one-app: knit's messages" "$(cat "$T/err")"
B=$P/hello
tarball=$P/releases/hello-1.0.0.tar.gz
[ -f "$tarball" ] && ok "one-app: the release tarball" || fail "one-app: no $tarball" "$(ls -R "$P" | head)"
eq "one-app: vm.args rendered from config/vm.args" "$(grep -E '^-(s)?name|^-setcookie' "$B/releases/1.0.0/vm.args" 2>&1)" \
    "-sname hello
-setcookie hello_cookie"
has "one-app: sys.config rendered from config/sys.config" "$(cat "$B/releases/1.0.0/sys.config" 2>&1)" '"log/hello.log"'
consult_ok "one-app: sys.config is a list of {App, Env}" "$B/releases/1.0.0/sys.config"
[ -d "$B/log" ] && ok "one-app: the overlay's mkdir" || fail "one-app: no log/ in the build dir"
list=$(tar -tzf "$tarball" 2>&1)
has "one-app: the tarball has sys.config" "$list" "releases/1.0.0/sys.config"
has "one-app: the tarball has vm.args" "$list" "releases/1.0.0/vm.args"
has "one-app: the tarball has ERTS (include_erts defaults to true)" "$list" "erts-"

# ---- 2. several applications: config/multi-app.reltool.config
P=$T/multi
"$TOP/tests/multi/mkproj.sh" "$TOP" "$P" >/dev/null 2>"$T/err" || fail "setup: the multi-app project" "$(cat "$T/err")"
(cd "$P" && "$KNIT" -r config/multi-app.reltool.config) >"$T/out" 2>"$T/err"
rc=$?
eq "multi-app: knit -r config/multi-app.reltool.config" "$rc" 0
[ $rc = 0 ] || fail "multi-app: knit's messages" "$(cat "$T/err")"
B=$P/store
[ -f "$P/releases/store-1.0.0.tar.gz" ] && ok "multi-app: the release tarball" ||
    fail "multi-app: no release tarball"
libs=$(cd "$B/lib" 2>/dev/null && ls -d store_* crypto-* 2>&1 | sed 's/-[0-9.]*$//' | sort | tr '\n' ' ')
eq "multi-app: lib/ has both applications and crypto" "$libs" "crypto store_core store_web "
[ -e "$B/lib/observer-"* ] 2>/dev/null && fail "multi-app: observer is in lib/ although excluded" || ok "multi-app: observer left out"
eq "multi-app: vm.args from vars.config" "$(grep -E '^-sname' "$B/releases/1.0.0/vm.args" 2>&1)" "-sname store"
consult_ok "multi-app: sys.config is a list of {App, Env}" "$B/releases/1.0.0/sys.config"
[ -f "$B/releases/1.0.0/vars.config" ] && ok "multi-app: the copy overlay" || fail "multi-app: vars.config not copied"
# debug_info strip on store_core only
(cd "$T" && erl -noshell -eval "
    Has = fun(F) -> case beam_lib:chunks(F, [debug_info]) of
                        {ok, {_, [{debug_info, D}]}} -> D =/= no_debug_info;
                        {error, beam_lib, {missing_chunk, _, _}} -> false end end,
    io:format(\"~p ~p\", [not Has(\"$B/lib/store_core-1.0.0/ebin/store_core_db.beam\"),
                         Has(\"$B/lib/store_web-1.2.0/ebin/store_web_page.beam\")]), halt().") >"$T/dbg" 2>&1
eq "multi-app: debug_info stripped from store_core, kept in store_web" "$(cat "$T/dbg")" "true true"
# the .rel and the boot script are what systools makes for the same applications
mkdir -p "$T/sys"
(cd "$T" && erl -noshell -eval "
    {ok, [Rel]} = file:consult(\"$B/releases/1.0.0/store.rel\"),
    ok = file:write_file(\"$T/sys/store.rel\", io_lib:format(\"~p.~n\", [Rel])),
    {ok, _, _} = systools:make_script(\"$T/sys/store\", [{path, [\"$B/lib/*/ebin\"]}, silent, {outdir, \"$T/sys\"}]),
    halt().") >"$T/err" 2>&1 || fail "setup: systools:make_script for the multi-app .rel" "$(cat "$T/err")"
if cmp -s "$T/sys/store.boot" "$B/releases/1.0.0/store.boot"; then
    ok "multi-app: store.boot equals systools'"
else
    fail "multi-app: store.boot differs from systools'" "$(cmp "$T/sys/store.boot" "$B/releases/1.0.0/store.boot" 2>&1)"
fi
finish
