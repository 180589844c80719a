#!/usr/bin/env bash
# bench/release.sh - `knit release` (target dir + release tarball) against OTP's own path
# (reltool:create_target/2 + systools:make_tar/2, bench/otp_side.escript) and `rebar3 tar`
# (relx: release + tarball; compile is up to date), on the bundled example and on a generated
# project (BENCH_APPS x BENCH_MODS, default 50 x 100). All three include ERTS. Prints
# hyperfine's timings, ratios and peak RSS. Not a test: nothing here asserts.
# Env: KNIT_BUILD (default build), BENCH_RUNS (default 5), BENCH_APPS, BENCH_MODS,
#      BENCH_GEN (cache of generated projects, default bench-out/gen), BENCH_ONLY=example|large
set -u
cd "$(dirname "$0")/.." || exit 3
# shellcheck source=bench/lib/common.sh disable=SC1091 # run from the repository root
. bench/lib/common.sh
bench_init
apps=${BENCH_APPS:-50} mods=${BENCH_MODS:-100}
have_rebar3=1
command -v rebar3 >/dev/null || { have_rebar3=0; echo "skipped: rebar3 is not installed"; }

# rebar3_project DIR - compile the rebar3 project in DIR once (untimed)
rebar3_project() {
    (cd "$1" && rebar3 compile >"$T/rebar3.log" 2>&1) ||
        { echo "rebar3 compile failed in $1:"; tail -5 "$T/rebar3.log"; return 1; }
}

# run_case TITLE CONFIG REBAR_DIR - the three tools on one project
run_case() {
    local title=$1 config=$2 rdir=$3 kt=$T/knit-target ot=$T/otp-target oo=$T/otp-out
    local set=()
    rm -rf "$kt" "$ot" "$oo"
    echo
    echo "== release: $title"
    if try_knit release "$KNIT" -q release -r "$config" "target_dir=$kt"; then
        echo "knit tarball: $(du -h "$kt"/releases/*.tar.gz | cut -f1)"
        set+=("knit release" "bash $ASIDE $kt" "$KNIT -q release -r $config target_dir=$kt")
    fi
    if escript bench/otp_side.escript release "$config" "$ot" "$oo" >"$T/otp.log" 2>&1; then
        echo "reltool+systools tarball: $(du -h "$oo"/*.tar.gz | cut -f1)"
        set+=("reltool+systools" "bash $ASIDE $ot $oo"
              "escript bench/otp_side.escript release $config $ot $oo")
    else
        echo "skipped: reltool+systools failed:"; tail -5 "$T/otp.log"
    fi
    if [ $have_rebar3 = 1 ] && rebar3_project "$rdir"; then
        set+=("rebar3 tar" "bash $ASIDE $rdir/_build/default/rel" "cd $rdir && rebar3 tar")
    fi
    [ ${#set[@]} -ge 3 ] || { echo "no tool ran"; return 0; }
    bench "release: $title" "${set[@]}"
}

only=${BENCH_ONLY:-all}
if [ "$only" != large ]; then
    # the bundled example, copied so that nothing is written into the source tree
    ex=$T/example
    mkdir -p "$ex/rebar" && cp -r example/rel "$ex/" && cp -r example/apps "$ex/rebar/" &&
        example/build.sh "$ex/_build/lib" >/dev/null || exit 3
    cat >"$ex/rebar/rebar.config" <<'EOF'
{erl_opts, [debug_info]}.
{relx, [{release, {hello, "1.0.0"}, [sasl, hello]},
        {dev_mode, false}, {include_erts, true}, {include_src, false}]}.
EOF
    run_case "bundled example (1 app + kernel, stdlib, sasl)" "$ex/rel/reltool.config" "$ex/rebar"
fi

if [ "$only" != example ]; then
    gen=$BENCH_GEN/p${apps}x$mods
    echo
    echo "generating $gen (cached; the first time takes about a minute per 2500 modules)"
    bench/gen_project.escript -a "$apps" -m "$mods" -V 1 "$gen" || exit 3
    run_case "generated, $apps apps x $mods modules" "$gen/rel/reltool-v1.config" "$gen/rebar-v1"
fi
bench_summary
