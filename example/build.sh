#!/usr/bin/env bash
# example/build.sh - compile the bundled example's applications into example/_build/lib
# (build outputs, never committed). Usage: example/build.sh [OUTDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/_build/lib}
for src in "$here"/apps/*/src; do
    app=$(basename "$(dirname "$src")")
    vsn=$(sed -n 's/.*{vsn, *"\([^"]*\)"}.*/\1/p' "$src/$app.app.src" | head -1)
    ebin="$out/$app-$vsn/ebin"
    mkdir -p "$ebin"
    erlc +debug_info -o "$ebin" "$src"/*.erl
    mods=$(cd "$ebin" && ls *.beam | sed 's/\.beam$//' | paste -sd, -)
    sed "s/{modules, *\[\]}/{modules, [$mods]}/" "$src/$app.app.src" >"$ebin/$app.app"
done
echo "$out"
