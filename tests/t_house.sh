#!/usr/bin/env bash
# t_house.sh - the repository keeps its promises: the README documents every command, option
# and knit option the code has and refers to nothing outside the repository; knit.1 is what
# tools/readme2man.sh makes of the README; every .PHONY target of the Makefile has a rule
# and `make test` installs nothing (no sudo, no apt-get).
source "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT

has() { if grep -qF -- "$3" <<<"$2"; then ok "$1"; else fail "$1: '$3' not found"; fi; }
README=$(cat README.md)

# ---- the README is the manual
if grep -n '\.\./shared\|SPEC\.md' README.md >"$T/refs"; then
    fail "README refers to nothing outside the repository" "$(cat "$T/refs")"
else ok "README refers to nothing outside the repository"; fi
cmds=$(sed -n '/^static const struct command commands\[\]/,/^};/p' knit/main.c |
    grep -oE '^    \{"[a-z-]+", ' | sed -E 's/^    \{"([a-z-]+)", /\1/')
[ -n "$cmds" ] || fail "no commands read from knit/main.c"
for c in $cmds; do has "README documents the command '$c'" "$README" "\`$c"; done
if [ -x "$KNIT" ]; then
    for o in $("$KNIT" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
        has "README documents the option '$o'" "$README" "$o"
    done
else
    fail "no knit binary at $KNIT (build it first)"
fi
opts=$(sed -n '/^static const char \*const knit_options\[\]/,/NULL};/p' knit/cfg.c | grep -oE '"[a-z_]+"' | tr -d '"')
[ -n "$opts" ] || fail "no knit options read from knit/cfg.c"
for o in $opts; do has "README documents the knit option '$o'" "$README" "\`$o\`"; done
for s in SOURCE_DATE_EPOCH "Differences from the original knit" "sys.config" "vm.args" "Exit codes"; do
    has "README has '$s'" "$README" "$s"
done

# ---- knit.1 is the README
if tools/readme2man.sh >"$T/knit.1" 2>"$T/err" && cmp -s "$T/knit.1" knit.1; then
    ok "knit.1 is what tools/readme2man.sh makes of README.md"
else
    fail "knit.1 differs from tools/readme2man.sh's output (run make knit.1)" \
        "$(cat "$T/err"; diff knit.1 "$T/knit.1" | head -20)"
fi

# ---- the Makefile
phony=$(sed -n '/^\.PHONY:/,/[^\\]$/p' Makefile | sed 's/^\.PHONY://; s/\\//g' | tr -s ' \t\n' '\n' | grep .)
[ -n "$phony" ] || fail "no .PHONY targets read from the Makefile"
for t in $phony; do
    if grep -qE "^$t:" Makefile; then ok "make: .PHONY target '$t' has a rule"; else
        fail "make: .PHONY target '$t' has no rule"; fi
done
recipe=$(make -n test 2>&1)
if grep -qE 'sudo|apt-get' <<<"$recipe"; then
    fail "make test installs nothing" "$(grep -E 'sudo|apt-get' <<<"$recipe" | head -5)"
else ok "make test installs nothing (no sudo, no apt-get)"; fi
finish
