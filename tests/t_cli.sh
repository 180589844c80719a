#!/usr/bin/env bash
# t_cli.sh - the command line: --help generated from the command table (and agreeing with
# what each command accepts), --version, unknown commands and options, missing values,
# both spellings of every option, and the original knit's -v N, --log_file and
# --reltool_config.  Builds a copy of example/ for the options that need a project.
source "$(dirname "$0")/lib.sh"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT

if [ ! -x "$KNIT" ]; then
    fail "no knit binary at $KNIT (build it first)"
    finish
    exit
fi

# kn ARGS... - run knit in $T/empty; stdout in $OUT, stderr in $ERR, exit code in $RC
mkdir -p "$T/empty"
kn() {
    (cd "${KN_DIR:-$T/empty}" && timeout 60 "$KNIT" "$@") >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
}
rc_is() { if [ "$RC" = "$2" ]; then ok "$1"; else fail "$1: exit $RC, expected $2" "stderr: $ERR"; fi; }
eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:      $2
expected: $3"; fi; }
has() { if printf '%s' "$2" | grep -qF -- "$3"; then ok "$1"; else fail "$1: no '$3' in" "$2"; fi; }
hasnt() { if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: '$3' in" "$2"; else ok "$1"; fi; }

# ---- --help and --version
kn --help
rc_is "--help: exit 0" 0
HELP=$OUT
has "--help: usage line" "$HELP" "usage: knit [options] [command]"
eq "--help: nothing on stderr" "$ERR" ""
kn -h
eq "-h prints what --help prints" "$OUT" "$HELP"
kn --version
rc_is "--version: exit 0" 0
if printf '%s' "$OUT" | grep -qE '^knit [0-9]+\.[0-9]+\.[0-9]+$'; then ok "--version: 'knit X.Y.Z'"; else fail "--version: 'knit X.Y.Z'" "$OUT"; fi
VERSION=$OUT
kn -V
eq "-V prints what --version prints" "$OUT" "$VERSION"

# ---- usage errors: exit 1, one line, the hint
kn bogus
rc_is "unknown command: exit 1" 1
eq "unknown command: the message" "$ERR" "knit: unknown command 'bogus'; try 'knit --help'"
kn --bogus
rc_is "unknown option: exit 1" 1
eq "unknown option: the message" "$ERR" "knit: unknown option '--bogus'; try 'knit --help'"
kn relup --bogus
rc_is "unknown option of a command: exit 1" 1
eq "unknown option of a command: the message" "$ERR" "knit: relup: unknown option '--bogus'; try 'knit --help'"
kn release --from 1.0.0
rc_is "an option of another command: exit 1" 1
has "an option of another command: named" "$ERR" "unknown option '--from'"
kn -l
rc_is "-l without a file: exit 1" 1
eq "-l without a file: the message" "$ERR" "knit: option '-l' needs FILE; try 'knit --help'"
kn -l --json
rc_is "-l followed by an option: exit 1" 1
has "-l followed by an option: the message" "$ERR" "needs FILE"
kn --log-file=
rc_is "--log-file= (empty): exit 1" 1
kn -r
rc_is "-r without a file: exit 1" 1
kn relup --from
rc_is "--from without a version: exit 1" 1
eq "--from without a version: the message" "$ERR" "knit: relup: option '--from' needs VSN; try 'knit --help'"
kn --json=yes
rc_is "a value given to a flag: exit 1" 1
has "a value given to a flag: the message" "$ERR" "takes no value"
kn --verbose=x
rc_is "--verbose=x (not a level): exit 1" 1
kn -l "$T/log" bogus
eq "a usage error writes no log file" "$(ls "$T/log" 2>/dev/null)" ""

# ---- the table and --help agree
# the commands of main.c's table, in table order
table=$(sed -n '/^static const struct command commands\[\]/,/^};/p' "$TOP/knit/main.c" |
    grep -oE '^    \{"[a-z-]+", ' | sed -E 's/^    \{"([a-z-]+)", /\1/')
helped=$(printf '%s\n' "$HELP" | grep -E '^  [a-z][a-z-]+( |$)' | awk '{print $1}')
[ -n "$table" ] && eq "--help lists the table's commands in its order" "$helped" "$table" ||
    fail "no commands read from knit/main.c's table"
# every option --help lists under a command: `knit CMD --help` lists the same, and the
# command accepts it (its own parser says nothing about the option)
cmd=
while IFS= read -r line; do
    case $line in
    "  "[a-z]*) cmd=$(printf '%s' "$line" | awk '{print $1}') ;;
    "      --"*)
        opt=$(printf '%s' "$line" | awk '{print $1}')
        val=$(printf '%s' "$line" | awk '{print $2}')
        case $val in [A-Z]*) val=X ;; *) val= ;; esac
        kn "$cmd" --help
        has "knit $cmd --help lists $opt" "$OUT" "$opt"
        kn "$cmd" "$opt" ${val:+"$val"}
        if printf '%s' "$ERR" | grep -qE "unknown option|takes no value|needs [A-Z]|not an argument"; then
            fail "knit $cmd $opt $val: the option is refused" "$ERR"
        else
            ok "knit $cmd accepts $opt"
        fi
        under=--$(printf '%s' "${opt#--}" | tr - _)
        kn "$cmd" "$under" ${val:+"$val"}
        ERR_U=$ERR
        kn "$cmd" "$opt" ${val:+"$val"}
        eq "knit $cmd: $under is $opt" "$ERR_U" "$ERR"
        ;;
    "  -"*) cmd= ;;
    esac
done <<<"$HELP"
# the global options --help lists are all accepted before and after a command
for opt in $(printf '%s\n' "$HELP" | sed -n '/^options/,$p' | grep -E '^  -' | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
    case $opt in --help | --version) continue ;; esac
    val=
    printf '%s\n' "$HELP" | grep -qE -- "$opt [A-Z]+ " && val=$T/x
    kn inspect "$opt" ${val:+"$val"} /nonexistent
    if printf '%s' "$ERR" | grep -qE "unknown option|takes no value|needs [A-Z]"; then
        fail "global option $opt after a command is refused" "$ERR"
    else ok "global option $opt after a command"; fi
done

# ---- --opt=VAL and --opt VAL, '_' and '-' on a plumbing command
mkdir -p "$T/rel"
kn make-script "$T/rel/none.rel" --outdir "$T/o1"
A=$ERR
kn make-script "$T/rel/none.rel" --outdir="$T/o1"
eq "make-script: --outdir=DIR is --outdir DIR" "$ERR" "$A"
kn make-relup "$T/rel/none" --up "$T/a" "$T/b" --path="$T/p" --warnings_as_errors
B=$ERR
kn make-relup "$T/rel/none" --up="$T/a" "$T/b" --path "$T/p" --warnings-as-errors
eq "make-relup: --up=A B is --up A B" "$ERR" "$B"
hasnt "make-relup: both spellings parsed" "$B" "unknown option"

# ---- the original knit's spellings on a real project
for tool in erlc erl; do command -v "$tool" >/dev/null || fail "t_cli.sh needs '$tool' on PATH"; done
P=$T/p
cp -R "$TOP/example" "$P" && rm -rf "$P/_build" "$P/hello" "$P/releases" "$P/upgrades"
"$P/build.sh" >/dev/null 2>"$T/.cerr" || fail "setup: compile example" "$(cat "$T/.cerr")"
KN_DIR=$P
mv "$P/rel/reltool.config" "$P/rel/other.config"
kn release
rc_is "no reltool.config found: exit 2" 2
kn --reltool_config rel/other.config release
rc_is "--reltool_config FILE" 0
has "--reltool_config FILE: the release was built" "$ERR" "packed $P/releases/hello-1.0.0.tar.gz"
kn --reltool_config=rel/other.config -f release
rc_is "--reltool_config=FILE" 0
kn -r rel/other.config -f --log_file "$T/knit.log" release
rc_is "--log_file FILE" 0
has "--log_file FILE: the file has the messages" "$(cat "$T/knit.log" 2>&1)" "packed $P/releases/hello-1.0.0.tar.gz"
kn -r rel/other.config -f --log_file="$T/knit2.log" release
has "--log_file=FILE: the file has the messages" "$(cat "$T/knit2.log" 2>&1)" "packed"
kn -r rel/other.config -f release
QUIET_LINES=$(printf '%s\n' "$ERR" | wc -l)
kn -r rel/other.config -f -v 0 release
rc_is "-v 0" 0
eq "-v 0: as many lines as no -v" "$(printf '%s\n' "$ERR" | wc -l)" "$QUIET_LINES"
kn -r rel/other.config -f -v 2 release
rc_is "-v 2 (an integer level, not a command)" 0
has "-v 2: verbose messages" "$ERR" "config $P/rel/other.config: release hello 1.0.0"
kn -r rel/other.config -f --verbose=1 release
has "--verbose=1: verbose messages" "$ERR" "config $P/rel/other.config"
kn -r rel/other.config -f release -vv
has "-vv after the command" "$ERR" "config $P/rel/other.config"
kn -r rel/other.config -f release rel_vsn_note=x
rc_is "name=value after a build command is an override" 0
finish
