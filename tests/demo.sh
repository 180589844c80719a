#!/usr/bin/env bash
# tests/demo.sh - `make demo`: knit's main job on the bundled example. Builds example/ at
# version 1.0.0, then changes it to 1.1.0 (a new greeting through a new module)
# and builds again: a release tarball for each version and the upgrade 1.0.0 -> 1.1.0.
# Everything happens in a copy under demo-out/ (git-ignored); example/ is not touched.
set -eu
cd "$(dirname "$0")/.."
: "${KNIT_BUILD:=build}"
KNIT="$PWD/$KNIT_BUILD/knit"
export KNIT_TEMPLATES="$PWD/templates"
out=$PWD/demo-out
rm -rf "$out"
mkdir -p "$out"
cp -r example/. "$out/"
rm -rf "$out/_build"
cd "$out"

echo "== 1.0.0"
./build.sh >/dev/null
"$KNIT" -r rel/reltool.config

echo "== 1.1.0: hello_text greets differently, through a new module (an inferred dependency)"
sed -i 's/"1\.0\.0"/"1.1.0"/' apps/hello/src/hello.app.src rel/reltool.config
cat >apps/hello/src/hello_punct.erl <<'ERL'
-module(hello_punct).
-export([mark/0]).

mark() -> "!!".
ERL
sed -i 's/Greeting ++ ", " ++ Name ++ "!"/Greeting ++ ", " ++ Name ++ hello_punct:mark()/' \
    apps/hello/src/hello_text.erl
rm -rf _build
./build.sh >/dev/null
"$KNIT" -v -r rel/reltool.config

echo "== what knit made"
ls -l releases upgrades
echo "== the generated appup"
cat hello/lib/hello-1.1.0/ebin/hello.appup
echo "== the upgrade tarball (slim: only what 1.0.0 lacks)"
tar tzf upgrades/hello-1.1.0.tar.gz
echo
echo "To try it: extract releases/hello-1.0.0.tar.gz somewhere, run bin/hello start, then"
echo "bin/hello upgrade $out/upgrades/hello-1.1.0.tar.gz"
