#!/usr/bin/env bash
# tests/e2e/build.sh - compile one version of the e2e fixture (A, B or C) with erlc:
# VDIR/apps/APP/src -> OUTLIB/APP-VSN/ebin (beams + APP.app listing the modules).
# Usage: tests/e2e/build.sh VDIR [OUTLIB]   (OUTLIB defaults to VDIR/lib)
set -eu
vdir=$(cd "$1" && pwd)
out=${2:-$vdir/lib}
for src in "$vdir"/apps/*/src; do
    app=$(basename "$(dirname "$src")")
    vsn=$(sed -n 's/.*{vsn, *"\([^"]*\)"}.*/\1/p' "$src/$app.app.src" | head -1)
    ebin="$out/$app-$vsn/ebin"
    rm -rf "$ebin"
    mkdir -p "$ebin"
    erlc +debug_info -o "$ebin" "$src"/*.erl
    mods=$(cd "$ebin" && ls *.beam | sed 's/\.beam$//' | paste -sd, -)
    sed "s/{modules, *\[\]}/{modules, [$mods]}/" "$src/$app.app.src" >"$ebin/$app.app"
done
