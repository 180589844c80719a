#!/usr/bin/env bash
# tests/fuzz/run.sh - run the libFuzzer targets built by `make fuzz`: make the seed corpora
# once, replay tests/fuzz/regressions/TARGET/*, then fuzz each target for FUZZ_S seconds.
# Exits non-zero when a regression input or the fuzzer finds a crash (saved in
# $FUZZ_BUILD/crashes/), a leak, a sanitizer report or a round-trip mismatch.
set -u
cd "$(dirname "$0")/../.."
B=${FUZZ_BUILD:-build-fuzz}
S=${FUZZ_S:-60}
TARGETS=${FUZZ_TARGETS:-parse etf beam beam_code tarball overlay}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ ! -f "$B/seeds/.done" ]; then
    rm -rf "$B/seeds"
    tests/fuzz/mkseeds.sh "$B/seeds" && touch "$B/seeds/.done" || exit 1
fi
mkdir -p "$B/crashes"
status=0
for t in $TARGETS; do
    bin=$B/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin is not built (run 'make fuzz')"
        status=1
        continue
    fi
    case $t in
    beam | beam_code | tarball) maxlen=1048576 ;;
    *) maxlen=131072 ;;
    esac
    opts=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30 -max_len=$maxlen)
    regs=(tests/fuzz/regressions/$t/*)
    if [ -e "${regs[0]}" ]; then
        if "$bin" "${opts[@]}" "${regs[@]}" >"$B/regress_$t.log" 2>&1; then
            echo "fuzz_$t: ${#regs[@]} regression inputs pass"
        else
            echo "fuzz_$t: a regression input fails (see $B/regress_$t.log)"
            grep -E 'ERROR|SUMMARY|Running' "$B/regress_$t.log" | tail -5
            status=1
        fi
    fi
    mkdir -p "$B/corpus/$t"
    "$bin" "${opts[@]}" -max_total_time="$S" -print_final_stats=1 \
        -artifact_prefix="$B/crashes/$t-" "$B/corpus/$t" "$B/seeds/${t%_code}" >"$B/fuzz_$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/fuzz_$t.log")
    cov=$(grep -o 'cov: [0-9]*' "$B/fuzz_$t.log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "fuzz_$t: ${runs:-?} runs in ${S}s, $cov, no crash"
    else
        echo "fuzz_$t: FAILED (exit $rc), log $B/fuzz_$t.log:"
        grep -E '^==|ERROR|SUMMARY|Test unit written|fuzz_[a-z]+: ' "$B/fuzz_$t.log" | head -12
        status=1
    fi
done
exit $status
