#!/usr/bin/env bash
# bench/relup.sh - relup compilation: `knit make-relup` against systools:make_relup/4 (in an
# escript VM, bench/otp_side.escript) on a generated release pair (BENCH_RELUP_APPS x
# BENCH_RELUP_MODS, default 100 x 50, every application changed: load_module with dependency
# chains, update {advanced, []} with Deps, update supervisor, add_module, delete_module; up and
# down). Both get the same .rel files, appups and path; their relups are compared once,
# outside the timing. Then the whole upgrade on the bundled example: `knit relup` (appups +
# relup + upgrade tarball) against `rebar3 relup` + `rebar3 tar` (given the appup knit
# generated, copied into apps/hello/ebin/; a hand-written one when knit did not run).
# Prints hyperfine's timings, ratios and peak RSS. Not a test: nothing here asserts.
# Env: KNIT_BUILD (default build), BENCH_RUNS (default 5), BENCH_RELUP_RUNS (runs of the
#      make-relup case, default 15), BENCH_RELUP_APPS, BENCH_RELUP_MODS,
#      BENCH_GEN (cache of generated projects, default bench-out/gen), BENCH_ONLY=make-relup|example
set -u
cd "$(dirname "$0")/.." || exit 3
# shellcheck source=bench/lib/common.sh disable=SC1091 # run from the repository root
. bench/lib/common.sh
bench_init
apps=${BENCH_RELUP_APPS:-100} mods=${BENCH_RELUP_MODS:-50}
only=${BENCH_ONLY:-all}

make_relup_case() {
    local gen=$BENCH_GEN/p${apps}x$mods ko=$T/knit-relup oo=$T/otp-relup
    echo
    echo "== make-relup: generated pair, $apps apps x $mods modules, all changed"
    echo "generating $gen (cached; the first time takes about a minute per 2500 modules)"
    bench/gen_project.escript -a "$apps" -m "$mods" -V 2 "$gen" || exit 3
    mkdir -p "$ko" "$oo"
    local r1=$gen/rel/synth-1 r2=$gen/rel/synth-2 p1="$gen/lib-v1/*/ebin" p2="$gen/lib-v2/*/ebin"
    local otp="escript bench/otp_side.escript relup $r2 $r1 $oo '$p1' '$p2'"
    local kcmd="$KNIT make-relup $r2.rel --up $r1.rel --down $r1.rel --path '$p1' --path '$p2' --outdir $ko"
    local set=()
    eval "$otp" || { echo "systools:make_relup failed"; return 1; }
    echo "relup: $(wc -c <"$oo/relup") bytes, $(grep -c '^ *{load,' "$oo/relup") load instructions"
    if try_knit make-relup bash -c "$kcmd"; then
        # shellcheck disable=SC2086 # the glob is meant to expand
        escript bench/otp_side.escript compare "$oo/relup" "$ko/relup" $gen/lib-v2/*/ebin
        case $? in
        0) echo "check: knit's relup equals systools' as terms" ;;
        1) echo "check: knit's relup equals systools' modulo order systools leaves free" ;;
        *) echo "check: THE RELUPS DIFFER (above); the timings below compare unequal work" ;;
        esac
        set+=("knit make-relup" "true" "$kcmd")
    fi
    set+=("systools:make_relup" "true" "$otp")
    [ ${#set[@]} -ge 3 ] || return 0
    # knit's side takes tens of milliseconds: more runs than the default steady the mean
    local BENCH_RUNS=${BENCH_RELUP_RUNS:-15}
    bench "make-relup: $apps x $mods, all apps changed" "${set[@]}"
    # the VM start is part of systools' cost end to end; this is systools alone
    local tc
    tc=$(escript bench/otp_side.escript relup-tc "$BENCH_RUNS" "$r2" "$r1" "$oo" "$p1" "$p2")
    echo "systools:make_relup inside a running VM (no VM start, $BENCH_RUNS runs):" \
        "${tc% *} s ± ${tc#* } s"
    printf '| systools:make_relup, in a running VM (no VM start) | %s s ± %s s | | |\n' \
        "${tc% *}" "${tc#* }" >>"$SUMMARY"
}

example_case() {
    local ex=$T/ex-relup kdir rdir
    echo
    echo "== relup: bundled example, hello 1.0.0 -> 1.0.1 (hello_text and hello_server changed)"
    kdir=$ex/knit rdir=$ex/rebar
    mkdir -p "$kdir/rel" "$rdir" && cp -r example/apps "$ex/v1" && cp -r example/apps "$ex/v2" || exit 3
    # version 1.0.1: a changed plain module and a changed gen_server
    sed -i 's/{vsn, *"1.0.0"}/{vsn, "1.0.1"}/' "$ex/v2/hello/src/hello.app.src"
    sed -i 's/"!"/"!!"/' "$ex/v2/hello/src/hello_text.erl"
    sed -i 's/State#{count := N + 1}/State#{count := N + 2}/' "$ex/v2/hello/src/hello_server.erl"
    # knit: release 1.0.0, then the 1.0.1 code and config; `knit relup` is what is timed
    example/build.sh "$kdir/lib1" >/dev/null || exit 3
    # (example/build.sh compiles the sources beside it: v2 is compiled the same way here)
    mkdir -p "$kdir/lib2/hello-1.0.1/ebin" &&
        erlc +debug_info -o "$kdir/lib2/hello-1.0.1/ebin" "$ex/v2/hello/src"/*.erl &&
        sed 's/{modules, *\[\]}/{modules, [hello_app,hello_server,hello_sup,hello_text]}/' \
            "$ex/v2/hello/src/hello.app.src" >"$kdir/lib2/hello-1.0.1/ebin/hello.app" || exit 3
    sed 's#"../_build/lib"#"../lib1"#' example/rel/reltool.config >"$kdir/rel/v1.config"
    sed 's#"../_build/lib"#"../lib2"#; s#"hello", "1.0.0"#"hello", "1.0.1"#' \
        example/rel/reltool.config >"$kdir/rel/reltool.config"
    local set=()
    if try_knit release "$KNIT" -q release -r "$kdir/rel/v1.config" &&
        try_knit relup "$KNIT" -q relup -r "$kdir/rel/reltool.config" --from 1.0.0; then
        set+=("knit relup" "bash $ASIDE $kdir/upgrades"
              "$KNIT -q relup -r $kdir/rel/reltool.config --from 1.0.0")
    fi
    if command -v rebar3 >/dev/null; then
        # rebar3 makes no appups: it gets the one a person would write
        mkdir -p "$rdir/apps" && cp -r "$ex/v1/hello" "$rdir/apps/" || exit 3
        cat >"$rdir/rebar.config" <<'EOF'
{erl_opts, [debug_info]}.
{relx, [{release, {hello, "1.0.0"}, [sasl, hello]},
        {dev_mode, false}, {include_erts, true}, {include_src, false}]}.
EOF
        (cd "$rdir" && rebar3 release >"$T/rebar3.log" 2>&1) || { tail -5 "$T/rebar3.log"; return 1; }
        rm -rf "$rdir/apps/hello" && cp -r "$ex/v2/hello" "$rdir/apps/" && mkdir -p "$rdir/apps/hello/ebin"
        sed -i 's/"1.0.0"/"1.0.1"/' "$rdir/rebar.config"
        # the appup knit generated when knit ran (the same relup work for both), else the one
        # a person would write
        local kappup=$kdir/hello/lib/hello-1.0.1/ebin/hello.appup
        if [ ${#set[@]} -ge 3 ] && [ -f "$kappup" ]; then
            cp "$kappup" "$rdir/apps/hello/ebin/hello.appup" &&
                echo "rebar3 gets knit's generated appup (copied into apps/hello/ebin/)"
        else
            cat >"$rdir/apps/hello/ebin/hello.appup" <<'EOF'
{"1.0.1",
 [{"1.0.0", [{update, hello_server, {advanced, {greeting, "Hello"}}}, {load_module, hello_text}]}],
 [{"1.0.0", [{update, hello_server, {advanced, {greeting, "Hello"}}}, {load_module, hello_text}]}]}.
EOF
        fi
        local rb="cd $rdir && rebar3 relup -n hello -v 1.0.1 -u 1.0.0 && rebar3 tar -n hello -v 1.0.1"
        if bash -c "$rb" >"$T/rebar3.log" 2>&1; then
            set+=("rebar3 relup + tar" "rm -f $rdir/_build/default/rel/hello/releases/1.0.1/relup" "$rb")
        else
            echo "skipped: rebar3 relup failed:"; tail -5 "$T/rebar3.log"
        fi
    else
        echo "skipped: rebar3 is not installed"
    fi
    [ ${#set[@]} -ge 3 ] || { echo "no tool ran"; return 0; }
    bench "relup: bundled example" "${set[@]}"
    local kt=$kdir/upgrades/hello-1.0.1.tar.gz rt=$rdir/_build/default/rel/hello/hello-1.0.1.tar.gz
    [ -f "$kt" ] && [ -f "$rt" ] && printf '| upgrade tarball: knit slim %s bytes, rebar3 tar %s bytes | | | |\n' \
        "$(stat -c %s "$kt")" "$(stat -c %s "$rt")" >>"$SUMMARY"
}

[ "$only" != example ] && make_relup_case
[ "$only" != make-relup ] && example_case
bench_summary
