#!/usr/bin/env bash
# bench/relup_appups.sh - relup compilation on hand-written appups (bench/gen_appups.escript:
# .rel, .app and .appup files only, every module of every application changed, a mix of
# load_module, load_module with one dependency, update {advanced, []} with one dependency,
# update of a gen_server and update ... supervisor). Three parts:
#   1. APPS x MODS (default 100 x 50): `knit make-relup` against systools:make_relup/4
#      (bench/otp_side.escript) with hyperfine; the two relups compared byte for byte.
#   2. growth in the size of one application (issue #10): 1 application of 1,250, 2,500,
#      5,000 and 10,000 modules; one run each, time and peak RSS of both (systools up to
#      BENCH_SCALE_OTP_MAX modules, default 5000: it takes minutes beyond).
#   3. growth in the number of applications (issue #16): 10, 100 and 1,000 applications of
#      20 modules; time and peak RSS of knit (best of 3), systools once. (The whole job's
#      growth, `knit --tarball-only`, is bench/growth.sh.)
# Not a test: nothing here asserts (a byte difference is printed, not failed on).
# Env: KNIT_BUILD, BENCH_RUNS (default 5; 15 for part 1), BENCH_GEN (cache, default
#      bench-out/gen), BENCH_ONLY=pair|one-app|growth, BENCH_SCALE_OTP_MAX,
#      BENCH_GROWTH_OTP_MAX (the most applications systools runs in part 3; default 1000)
set -u
cd "$(dirname "$0")/.." || exit 3
# shellcheck source=bench/lib/common.sh disable=SC1091 # run from the repository root
. bench/lib/common.sh
bench_init
only=${BENCH_ONLY:-all}
otp_max=${BENCH_SCALE_OTP_MAX:-5000}

# gen A M - the generated pair for A apps x M modules (cached); prints its directory
gen() {
    local g=$BENCH_GEN/appups-$1x$2
    bench/gen_appups.escript -a "$1" -m "$2" "$g" >/dev/null || exit 3
    echo "$g"
}

kcmd() { # kcmd DIR OUT
    echo "$KNIT make-relup $1/rel/synth-2.rel --up $1/rel/synth-1.rel --down $1/rel/synth-1.rel" \
        "--path '$1/lib-v1/*/ebin' --path '$1/lib-v2/*/ebin' --outdir $2"
}
ocmd() { # ocmd DIR OUT
    echo "escript bench/otp_side.escript relup $1/rel/synth-2 $1/rel/synth-1 $2" \
        "'$1/lib-v1/*/ebin' '$1/lib-v2/*/ebin'"
}

# once CMD - "SECONDS PEAK_MB" of one run of the shell command CMD
once() {
    /usr/bin/time -f '%e %M' bash -c "$1" 2>&1 >/dev/null | tail -1 |
        awk '{ printf "%.3f %.1f", $1, $2 / 1024 }'
}

# best3 CMD - the fastest of three runs, with its peak RSS
best3() {
    local r best=
    for _ in 1 2 3; do
        r=$(once "$1")
        if [ -z "$best" ] || awk -v a="${r% *}" -v b="${best% *}" 'BEGIN { exit !(a < b) }'; then
            best=$r
        fi
    done
    echo "$best"
}

# same KO OO - say whether the two relups are the same bytes
same() {
    if cmp -s "$1/relup" "$2/relup"; then
        echo "check: knit's relup is byte-identical to systools' ($(wc -c <"$2/relup") bytes)"
    else
        echo "check: THE RELUPS DIFFER: $(cmp "$1/relup" "$2/relup" 2>&1 | head -1)"
    fi
}

pair_case() {
    local g ko=$T/pair-knit oo=$T/pair-otp
    g=$(gen 100 50)
    mkdir -p "$ko" "$oo"
    echo
    echo "== make-relup: hand-written appups, 100 apps x 50 modules, every module changed ($g)"
    eval "$(ocmd "$g" "$oo")" || { echo "systools:make_relup failed"; return 1; }
    local set=()
    if try_knit make-relup bash -c "$(kcmd "$g" "$ko")"; then
        same "$ko" "$oo"
        set+=("knit make-relup" "true" "$(kcmd "$g" "$ko")")
    fi
    set+=("systools:make_relup" "true" "$(ocmd "$g" "$oo")")
    [ ${#set[@]} -ge 6 ] || return 0
    # shellcheck disable=SC2034 # read by bench (bench/lib/common.sh)
    local BENCH_RUNS=${BENCH_RELUP_RUNS:-15}
    bench "make-relup: hand-written appups, 100 x 50" "${set[@]}" || return 1
    # on a loaded machine the wall-clock ratio mostly measures waiting for a core: the CPU
    # time each used (user + system, hyperfine's means) is printed beside it
    jq -r '.results as $r | "CPU time (user + system): knit \($r[0].user + $r[0].system | . * 1000 | round) ms, systools \($r[1].user + $r[1].system | . * 1000 | round) ms: \(($r[1].user + $r[1].system) / ($r[0].user + $r[0].system) | . * 10 | round / 10)x"' \
        "$BENCH_JSON" | tee -a "$SUMMARY"
}

one_app_case() {
    echo
    echo "== make-relup: one application, every module changed (time s, peak RSS MB; one run each)"
    printf '\n| one application of N modules | knit s | knit MB | systools s | systools MB | same bytes |\n|---|---|---|---|---|---|\n' >>"$SUMMARY"
    local n g k o eq
    for n in 1250 2500 5000 10000; do
        g=$(gen 1 "$n")
        mkdir -p "$T/one-k$n" "$T/one-o$n"
        k=$(best3 "$(kcmd "$g" "$T/one-k$n")")
        o="- -" eq=-
        if [ "$n" -le "$otp_max" ]; then
            o=$(once "$(ocmd "$g" "$T/one-o$n")")
            cmp -s "$T/one-k$n/relup" "$T/one-o$n/relup" && eq=yes || eq=NO
        fi
        echo "$n modules: knit ${k% *} s ${k#* } MB; systools ${o% *} s ${o#* } MB; same bytes: $eq"
        echo "| $n | ${k% *} | ${k#* } | ${o% *} | ${o#* } | $eq |" >>"$SUMMARY"
    done
}

growth_case() {
    echo
    echo "== make-relup: growth in applications (20 modules each; time s, peak RSS MB)"
    printf '\n| applications x 20 modules | knit s | knit MB | systools s | systools MB | same bytes |\n|---|---|---|---|---|---|\n' >>"$SUMMARY"
    local n g k o eq
    for n in 10 100 1000; do
        g=$(gen "$n" 20)
        mkdir -p "$T/gr-k$n" "$T/gr-o$n"
        k=$(best3 "$(kcmd "$g" "$T/gr-k$n")")
        if [ "$n" -le "${BENCH_GROWTH_OTP_MAX:-1000}" ]; then
            o=$(once "$(ocmd "$g" "$T/gr-o$n")")
            cmp -s "$T/gr-k$n/relup" "$T/gr-o$n/relup" && eq=yes || eq=NO
        else
            o="(not-run) -" eq="(systools not run: BENCH_GROWTH_OTP_MAX)"
        fi
        echo "$n apps: knit ${k% *} s ${k#* } MB; systools ${o% *} s ${o#* } MB; same bytes: $eq"
        echo "| $n | ${k% *} | ${k#* } | ${o% *} | ${o#* } | $eq |" >>"$SUMMARY"
    done
    echo "(the whole job's growth, knit --tarball-only, is bench/growth.sh)"
}

case $only in
pair) pair_case ;;
one-app) one_app_case ;;
growth) growth_case ;;
*) pair_case; one_app_case; growth_case ;;
esac
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_summary
