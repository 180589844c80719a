#!/usr/bin/env bash
# tests/demo.sh - `make demo`: compile the bundled example and run knit on it
set -eu
cd "$(dirname "$0")/.."
: "${KNIT_BUILD:=build}"
lib=$(example/build.sh)
echo "== knit inspect on the bundled example's beams ($lib)"
"$KNIT_BUILD/knit" inspect "$lib"/*/ebin/*.beam
