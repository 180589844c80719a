#!/usr/bin/env bash
# bench/growth.sh - how the whole job with --tarball-only grows with the number of
# applications (issue #16 point 4): `knit --tarball-only -r CONFIG` (release tarball streamed
# from the sources, no build dir; appups, relup and slim upgrade tarball from one earlier
# release) on generated projects of 10, 100 and 1,000 applications x 20 modules
# (bench/gen_project.escript -k -V 2: in version 2 every application changed, six modules
# changed, one added, one deleted, the gen_server and the supervisor updated). Release 1 is
# built first with `knit --tarball-only release` (untimed). Per size: wall time (best of 3, the
# earlier output set aside before each run, untimed), CPU time (user + system) and peak RSS
# of that run (GNU time), time per application and per added application, and one plain
# `knit` run (build dir written) beside it. make-relup's growth is in bench/relup_appups.sh.
# Not a test: nothing here asserts.
# Env: KNIT_BUILD (default build), BENCH_GEN (cache of generated projects, default
#      bench-out/gen; the 1,000-application pair takes ~4 minutes to generate the first
#      time), BENCH_GROWTH_SIZES (default "10 100 1000"), BENCH_GROWTH_MODS (default 20),
#      BENCH_GROWTH_PLAIN=0 skips the plain knit run
set -u
cd "$(dirname "$0")/.." || exit 3
# shellcheck source=bench/lib/common.sh disable=SC1091 # run from the repository root
. bench/lib/common.sh
bench_init
sizes=${BENCH_GROWTH_SIZES:-10 100 1000}
mods=${BENCH_GROWTH_MODS:-20}

# timed CMD - "WALL_S PEAK_MB CPU_S" of one run of the shell command CMD (wall clock from
# bash's EPOCHREALTIME around GNU time, which gives the largest process's peak RSS and the
# user + system time of the command and its children); "fail" when CMD fails
timed() {
    local t0 t1 out
    t0=$EPOCHREALTIME
    out=$(/usr/bin/time -f '%M %U %S' bash -c "$1" 2>&1 >/dev/null) || { echo fail; return 1; }
    t1=$EPOCHREALTIME
    echo "$out" | tail -1 | awk -v a="$t0" -v b="$t1" \
        '{ printf "%.3f %.1f %.2f", b - a, $1 / 1024, $2 + $3 }'
}

# best3 PREPARE CMD - the fastest of three runs of CMD (PREPARE, untimed, before each) as
# timed prints it
best3() {
    local r best='' _
    for _ in 1 2 3; do
        bash -c "$1"
        r=$(timed "$2") || { echo fail; return 1; }
        if [ -z "$best" ] || awk -v a="${r%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
            best=$r
        fi
    done
    echo "$best"
}

echo
echo "== growth: knit --tarball-only, release + upgrade from 1 (applications x $mods modules)"
printf '\n| applications x %s modules | knit --tarball-only wall s (best of 3) | CPU s | peak RSS MB | ms per application | ms per added application | plain knit wall s | load |\n|---|---|---|---|---|---|---|---|\n' \
    "$mods" >>"$SUMMARY"
prev_n='' prev_t='' first_t='' first_n='' done=0
for n in $sizes; do
    gen=$BENCH_GEN/k${n}x$mods k=$T/gr$n
    echo "generating $gen (cached; the first time ~1 minute per 10,000 modules)"
    bench/gen_project.escript -k -a "$n" -m "$mods" -V 2 "$gen" || exit 3
    mkdir -p "$k/rel" || exit 3
    # absolute lib_dirs, one target_dir (so one release_dir) for both versions
    sed "s#\"../lib-v1\"#\"$gen/lib-v1\"#; s#\"../knit-v1\"#\"$k\"#" "$gen/rel/reltool-v1.config" >"$k/rel/1.config"
    sed "s#\"../lib-v2\"#\"$gen/lib-v2\"#; s#\"../knit-v2\"#\"$k\"#" "$gen/rel/reltool-v2.config" >"$k/rel/2.config"
    # release 1 as a tarball only: earlier releases are read from their tarballs, and a
    # build dir of 20,000 files removed at the exit would slow the next script's file
    # creation (see bench/README.md)
    try_knit "release --tarball-only" "$KNIT" -q --tarball-only release -r "$k/rel/1.config" || break
    prep="bash $ASIDE $k/upgrades $k/releases/synth-2.tar.gz"
    cmd="$KNIT -q --tarball-only -r $k/rel/2.config"
    try_knit "--tarball-only" bash -c "$cmd" || break
    built=no
    [ -e "$k/synth" ] && built="yes ($k/synth)"
    echo "$n apps: release tarball $(du -h "$k/releases/synth-2.tar.gz" | cut -f1)," \
        "upgrade tarball $(du -h "$k/upgrades/synth-2.tar.gz" | cut -f1), build dir written: $built"
    r=$(best3 "$prep" "$cmd") || { echo "$n apps: a timed run failed"; break; }
    read -r t mb cpu <<<"$r"
    plain=-
    if [ "${BENCH_GROWTH_PLAIN:-1}" = 1 ]; then
        bash -c "$prep"
        p=$(timed "$KNIT -q -r $k/rel/2.config") && plain=${p%% *}
        bash "$ASIDE" "$k/synth"
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    per=$(awk -v t="$t" -v n="$n" 'BEGIN { printf "%.2f", t * 1000 / n }')
    added=-
    [ -n "$prev_n" ] && added=$(awk -v t="$t" -v p="$prev_t" -v n="$n" -v m="$prev_n" \
        'BEGIN { printf "%.2f", (t - p) * 1000 / (n - m) }')
    echo "$n apps: knit --tarball-only $t s (best of 3; CPU $cpu s), peak RSS $mb MB," \
        "$per ms per application, $added ms per added application; plain knit $plain s; load $load"
    echo "| $n | $t | $cpu | $mb | $per | $added | $plain | $load |" >>"$SUMMARY"
    if [ -n "$prev_n" ]; then
        awk -v t="$t" -v p="$prev_t" -v n="$n" -v m="$prev_n" \
            'BEGIN { printf "growth %d -> %d applications (x%.0f): time x%.1f\n", m, n, n / m, t / p }' |
            tee -a "$SUMMARY"
    fi
    [ -z "$first_n" ] && first_n=$n first_t=$t
    prev_n=$n prev_t=$t done=$((done + 1))
    bash "$ASIDE" "$k"
done
if [ "$done" -gt 2 ]; then
    awk -v t="$prev_t" -v p="$first_t" -v n="$prev_n" -v m="$first_n" \
        'BEGIN { printf "growth %d -> %d applications (x%.0f): time x%.1f\n", m, n, n / m, t / p }' |
        tee -a "$SUMMARY"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_summary
