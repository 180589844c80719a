#!/usr/bin/env bash
# tests/multi/mkproj.sh TOP DIR - the project config/multi-app.reltool.config describes, in DIR:
# knit's config/ copied, the sources of store_core 1.0.0 (uses OTP's crypto) and store_web
# 1.2.0 (uses store_core), compiled with debug info into DIR/_build/lib/APP-VSN/ebin with
# their .app files. TOP is the repository. Exits non-zero, saying why, when erlc fails.
set -eu
TOP=$1 P=$2
mkdir -p "$P/src/store_core" "$P/src/store_web"
cp -R "$TOP/config" "$P/config"
cat >"$P/src/store_core/store_core.app.src" <<'ERL'
{application, store_core,
 [{description, "store: data"}, {vsn, "1.0.0"}, {modules, [store_core_db]},
  {registered, []}, {applications, [kernel, stdlib, crypto]}]}.
ERL
cat >"$P/src/store_core/store_core_db.erl" <<'ERL'
-module(store_core_db).
-export([key/1]).
key(X) -> crypto:hash(sha256, term_to_binary(X)).
ERL
cat >"$P/src/store_web/store_web.app.src" <<'ERL'
{application, store_web,
 [{description, "store: web front"}, {vsn, "1.2.0"}, {modules, [store_web_page]},
  {registered, []}, {applications, [kernel, stdlib, store_core]}]}.
ERL
cat >"$P/src/store_web/store_web_page.erl" <<'ERL'
-module(store_web_page).
-export([render/1]).
render(X) -> {page, store_core_db:key(X)}.
ERL
for app in store_core store_web; do
    vsn=$(sed -n 's/.*{vsn, "\([^"]*\)"}.*/\1/p' "$P/src/$app/$app.app.src")
    mkdir -p "$P/_build/lib/$app-$vsn/ebin"
    erlc +debug_info -o "$P/_build/lib/$app-$vsn/ebin" "$P/src/$app"/*.erl
    cp "$P/src/$app/$app.app.src" "$P/_build/lib/$app-$vsn/ebin/$app.app"
done
