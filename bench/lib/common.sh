# bench/lib/common.sh - helpers sourced by bench/release.sh and bench/relup.sh (not a
# benchmark itself: bench/run.sh only runs bench/*.sh). Benchmarks print, never assert.
# shellcheck shell=bash

# bench_init - set KNIT, BENCH_RUNS, BENCH_GEN (cache of generated projects), T (a scratch
# dir removed on exit) and ASIDE (a script for prepare steps, below); exits 1 when a
# required tool is missing
bench_init() {
    : "${KNIT_BUILD:=build}"
    KNIT=$PWD/$KNIT_BUILD/knit
    BENCH_RUNS=${BENCH_RUNS:-5}
    BENCH_GEN=${BENCH_GEN:-$PWD/bench-out/gen}
    local tool
    for tool in hyperfine jq /usr/bin/time erl escript; do
        command -v "$tool" >/dev/null || { echo "$0: '$tool' is missing" >&2; exit 1; }
    done
    [ -x "$KNIT" ] || echo "note: $KNIT is missing (make BUILD=$KNIT_BUILD): knit parts skip"
    T=$(mktemp -d "${TMPDIR:-/tmp}/knit-bench.XXXXXX") || exit 3
    # shellcheck disable=SC2064 # expand T now
    trap "rm -rf '$T'" EXIT
    SUMMARY=$T/summary.md
    : >"$SUMMARY"
    # ASIDE DIR... - the prepare step between timed runs: earlier output is renamed into
    # $T/aside (removed on exit), not deleted. Deleting thousands of files just before a run
    # slows the run's own file creation on ext4 without a journal (new inodes skip the
    # recently deleted ones, up to minutes after), which would charge one tool for the
    # clean-up of the run before it.
    ASIDE=$T/aside.sh
    mkdir -p "$T/aside"
    cat >"$ASIDE" <<EOF
for d in "\$@"; do [ -e "\$d" ] && mv "\$d" "$T/aside/\$(date +%s%N).\$RANDOM"; done; true
EOF
    echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
        "$(erl -noshell -eval 'io:format("OTP ~s", [erlang:system_info(otp_release)]), halt().')," \
        "hyperfine runs: $BENCH_RUNS"
}

# try_knit WHAT CMD... - run a knit command once (untimed, output to $T/try.err); returns 0
# when it worked, else prints why the knit part is skipped and returns 1
try_knit() {
    local what=$1 rc
    shift
    [ -x "$KNIT" ] || { echo "skipped: knit $what not available yet (no $KNIT)"; return 1; }
    "$@" >"$T/try.out" 2>"$T/try.err"
    rc=$?
    case $rc in
    0) return 0 ;;
    126 | 1) echo "skipped: knit $what not available yet (exit $rc: $(head -1 "$T/try.err"))" ;;
    *) echo "skipped: knit $what failed (exit $rc):"; head -5 "$T/try.err" ;;
    esac
    return 1
}

# peak_rss CMD - peak resident set size in MB of one run of the shell command CMD (the
# largest single process of the run, as GNU time reports it)
peak_rss() {
    /usr/bin/time -v bash -c "$1" 2>&1 >/dev/null |
        awk -F': ' '/Maximum resident/ { printf "%.0f MB", $2 / 1024 }'
}

# bench BENCHNAME NAME PREPARE CMD [NAME PREPARE CMD]... - time each CMD with hyperfine
# (PREPARE runs before every run of its CMD), then measure each one's peak RSS once and
# append rows to the summary. The first command is the reference of the ratios (knit).
bench() {
    local title=$1 json=$T/h.$RANDOM.json args=() names=() cmds=() preps=() i
    shift
    while [ $# -ge 3 ]; do
        names+=("$1"); preps+=("$2"); cmds+=("$3")
        args+=(-n "$1" --prepare "$2" "$3")
        shift 3
    done
    hyperfine --warmup 1 --runs "$BENCH_RUNS" --export-json "$json" "${args[@]}" || return 1
    BENCH_JSON=$json # for a caller that wants more than the summary rows
    printf '\n| %s | mean ± σ | vs %s | peak RSS |\n|---|---|---|---|\n' "$title" "${names[0]}" \
        >>"$SUMMARY"
    for i in "${!names[@]}"; do
        bash -c "${preps[$i]}"
        local rss
        rss=$(peak_rss "${cmds[$i]}")
        jq -r --argjson i "$i" --arg name "${names[$i]}" --arg rss "$rss" '
            .results[0] as $k | .results[$i] as $r
            | ($r.mean / $k.mean) as $q
            | ($q * ((($r.stddev / $r.mean) | . * .) + (($k.stddev / $k.mean) | . * .)
                     | sqrt)) as $dq
            | def f: . * 1000 | round / 1000;
              "| \($name) | \($r.mean | f) s ± \($r.stddev | f) s | "
              + (if $i == 0 then "1" else "\($q * 10 | round / 10)x ± \($dq * 10 | round / 10)"
                 end)
              + " | \($rss) |"' "$json" >>"$SUMMARY"
    done
}

# faster_ratio JSON LABEL SUBJECT OTHER... - one line "LABEL is N x the faster of OTHER (X s)
# and OTHER (Y s) (its mean: Z s; CPU time ...)": N times as fast as the fastest OTHER, from
# the mean wall-clock times (the CPU times, user + system, follow: on a loaded machine the
# wall clock also measures waiting for a core) in hyperfine's JSON (rows named as bench names them):
# the fastest OTHER's mean over SUBJECT's. Prints nothing when SUBJECT or every OTHER is
# missing (a tool that did not run); an OTHER that did not run is left out of the line.
faster_ratio() {
    local json=$1 label=$2 subject=$3
    shift 3
    jq -r --arg what "$label" --arg s "$subject" '
        (.results | map({key: .command, value: .mean}) | from_entries) as $m
        | (.results | map({key: .command, value: (.user + .system)}) | from_entries) as $c
        | [$ARGS.positional[] | select($m[.] != null)] as $o
        | def f: . * 1000 | round / 1000;
          if $m[$s] == null or ($o | length) == 0 then empty
          else (($o | map($m[.]) | min) / $m[$s]) as $q
            | "\($what) is \($q * 10 | round / 10) x "
              + (if ($o | length) > 1 then "the faster of " else "as fast as " end)
              + ($o | map("\(.) (\($m[.] | f) s)") | join(" and "))
              + " (its mean: \($m[$s] | f) s; CPU time, user + system: \($c[$s] | f) s against "
              + ($o | map("\($c[.] | f) s") | join(" and ")) + ")"
          end' "$json" --args "$@"
}

# bench_summary - print the summary tables
bench_summary() {
    echo
    echo "summary (ratio = tool's mean / the first row's mean; ± from both σ):"
    cat "$SUMMARY"
}
