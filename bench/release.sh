#!/usr/bin/env bash
# bench/release.sh - `knit release` (target dir + release tarball) and `knit --tarball-only
# release` (the tarball alone, streamed from the sources, no build dir) against OTP's own path
# (reltool:create_target/2 + systools:make_tar/2, bench/otp_side.escript) and `rebar3 tar`
# (relx: release + tarball; compile is up to date), on the bundled example and on a generated
# project (BENCH_APPS x BENCH_MODS, default 50 x 100). All three include ERTS. Prints
# hyperfine's timings, ratios and peak RSS, then per project a line with knit's ratio to the
# faster of rebar3 tar and reltool+systools (issue #16: >= 20x for --tarball-only on 50 x
# 100). Not a test: nothing here asserts.
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

# run_case TITLE SHORT CONFIG REBAR_DIR - the three tools on one project (SHORT names it in
# the ratio lines)
run_case() {
    local title=$1 short=$2 config=$3 rdir=$4 kt=$T/knit-target ot=$T/otp-target oo=$T/otp-out
    local set=()
    rm -rf "$kt" "$ot" "$oo"
    echo
    echo "== release: $title"
    # the untimed first runs use one SOURCE_DATE_EPOCH so that the two knit tarballs can be
    # compared byte for byte (the timed runs take the files' own mtimes, as users do)
    local sde=(env SOURCE_DATE_EPOCH=1700000000)
    if try_knit release "${sde[@]}" "$KNIT" -q release -r "$config" "target_dir=$kt"; then
        echo "knit tarball: $(du -h "$kt"/releases/*.tar.gz | cut -f1)"
        set+=("knit release" "bash $ASIDE $kt" "$KNIT -q release -r $config target_dir=$kt")
        mkdir -p "$T/plain" && cp "$kt"/releases/*.tar.gz "$T/plain/" && bash "$ASIDE" "$kt"
        # --tarball-only: no build dir, the tarball streamed from the sources
        if try_knit "release --tarball-only" "${sde[@]}" "$KNIT" -q --tarball-only release -r "$config" \
            "target_dir=$kt"; then
            tarball_check "$kt" "$T/plain"
            set+=("knit release --tarball-only" "bash $ASIDE $kt"
                  "$KNIT -q --tarball-only release -r $config target_dir=$kt")
        fi
        rm -rf "$T/plain"
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
    bench "release: $title" "${set[@]}" || return 1
    faster_ratio "$BENCH_JSON" "release $short: knit --tarball-only" "knit release --tarball-only" \
        "rebar3 tar" "reltool+systools" | tee -a "$SUMMARY"
    faster_ratio "$BENCH_JSON" "release $short: knit release" "knit release" \
        "rebar3 tar" "reltool+systools" | tee -a "$SUMMARY"
}

# tarball_check DIR PLAIN - whether the --tarball-only run in DIR wrote no build dir and the
# same tarball bytes as the plain run's copy in PLAIN (information, not an assertion)
tarball_check() {
    local f name dirs
    for f in "$2"/*.tar.gz; do
        name=$(basename "$f")
        if cmp -s "$f" "$1/releases/$name"; then
            echo "check: knit --tarball-only's $name is byte-identical to knit release's"
        else
            echo "check: knit --tarball-only's $name DIFFERS from knit release's:" \
                "$(cmp "$f" "$1/releases/$name" 2>&1 | head -1)"
        fi
    done
    dirs=$(find "$1" -mindepth 1 -maxdepth 1 -type d ! -name releases ! -name .knit_tmp -printf '%f ')
    echo "check: directories in target_dir besides releases/: ${dirs:-none}"
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
    run_case "bundled example (1 app + kernel, stdlib, sasl)" example "$ex/rel/reltool.config" \
        "$ex/rebar"
fi

if [ "$only" != example ]; then
    gen=$BENCH_GEN/p${apps}x$mods
    echo
    echo "generating $gen (cached; the first time takes about a minute per 2500 modules)"
    bench/gen_project.escript -a "$apps" -m "$mods" -V 1 "$gen" || exit 3
    run_case "generated, $apps apps x $mods modules" "${apps}x$mods" "$gen/rel/reltool-v1.config" \
        "$gen/rebar-v1"
fi
bench_summary
