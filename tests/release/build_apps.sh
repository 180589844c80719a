#!/usr/bin/env bash
# tests/release/build_apps.sh APPS_DIR OUT_LIB - compile each APPS_DIR/X (src/*.erl,
# src/NAME.app.src) into OUT_LIB/NAME-VSN/ebin and copy its other files beside ebin
set -eu
apps=$1 out=$2
mkdir -p "$out"
for d in "$apps"/*/; do
    appsrc=$(ls "$d"src/*.app.src)
    app=$(basename "$appsrc" .app.src)
    vsn=$(sed -n 's/.*{vsn, *"\([^"]*\)"}.*/\1/p' "$appsrc" | head -1)
    dest="$out/$app-$vsn"
    mkdir -p "$dest/ebin"
    for f in "$d"*; do
        [ "$(basename "$f")" = src ] || cp -R "$f" "$dest/"
    done
    erlc +debug_info -o "$dest/ebin" "$d"src/*.erl
    mods=$(cd "$dest/ebin" && ls *.beam | sed 's/\.beam$//' | paste -sd, -)
    sed "s/{modules, *\[\]}/{modules, [$mods]}/" "$appsrc" >"$dest/ebin/$app.app"
done
