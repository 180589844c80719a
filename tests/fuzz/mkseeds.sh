#!/usr/bin/env bash
# tests/fuzz/mkseeds.sh - build the seed corpora for the fuzz targets from the installed OTP
# tree (and ../shared/corpus when present) into DIR/{parse,etf,beam}. Not committed.
set -eu
cd "$(dirname "$0")/../.."
DIR=$1
ROOT=$(erl -noshell -eval 'io:format("~s", [code:root_dir()]), halt().')
CORPUS=../shared/corpus
mkdir -p "$DIR/parse" "$DIR/etf" "$DIR/beam"

# term text: every term file, and snippets for the syntax real files rarely use
{
    find "$ROOT" -type f \( -name '*.app' -o -name '*.appup' -o -name '*.rel' \
        -o -name '*.script' -o -name '*.config' -o -name 'RELEASES' \) ! -path '*/erts-*/bin/*'
    [ -d "$CORPUS" ] && find "$CORPUS" -type f ! -name '*.md' ! -name 'README*'
} | sort >"$DIR/termfiles"
i=0
while read -r f; do
    [ "$(stat -c %s "$f")" -le 65536 ] && cp "$f" "$DIR/parse/file_$i"
    i=$((i + 1))
done <"$DIR/termfiles"
n=0
while IFS= read -r line; do
    printf '%s\n' "$line" >"$DIR/parse/snippet_$n"
    n=$((n + 1))
done <<'SNIPPETS'
#{a => 1, "b" => [2], {c} => #{}}. #{}.
<<"abc", 1, 2:4, $z, "ü"/utf8>>. <<>>. <<1:1, 0:7>>.
"\x{1F600}\n\t\^A\e\s\d\101\x41\"". 'quoted \' atom'. 'ä'.
16#FF. 2#1010. 36#zz. $a. $\n. $\x{263a}. -1.5e-10. 1.0e300. 12345678901234567890123.
[a|b]. [a, b | [c]]. {}. {a, {b, {c}}}. [[[[[]]]]]. - 5. + 5.
%% comment only
{a, b}. % trailing comment
"adjacent" "strings". 'a'. true. '_'. fun. {'end', 'fun', 'receive'}.
SNIPPETS

# external term format: .boot files and term_to_binary of many terms
find "$ROOT" -name '*.boot' | while read -r f; do cp "$f" "$DIR/etf/boot_$(basename "$f")"; done
escript tests/fuzz/seed_etf.escript "$DIR/etf" <"$DIR/termfiles"

# beams: the 150 smallest OTP beams, some mid-sized ones, and gzip-compressed copies
find "$ROOT/lib" -name '*.beam' -printf '%s %p\n' | sort -n >"$DIR/beams"
head -150 "$DIR/beams" | while read -r _ f; do cp "$f" "$DIR/beam/"; done
awk 'NR % 40 == 0 && $1 < 1048576 { print $2 }' "$DIR/beams" |
    while read -r f; do cp "$f" "$DIR/beam/"; done
head -160 "$DIR/beams" | tail -5 | while read -r _ f; do
    gzip -c "$f" >"$DIR/beam/gz_$(basename "$f")"
done
# earlier release tarballs (fuzz_tarball): a small release in both layouts, each as a plain
# tar (first byte 0) and to be gzip'd by the target (first byte 1)
mkdir -p "$DIR/tarball" "$DIR/tree/releases/0.9.0" "$DIR/tree/lib/hello-0.9.0/ebin" "$DIR/nest"
printf '%s\n' '{release, {"hello", "0.9.0"}, {erts, "13.1.5"}, [{kernel, "8.5.3"}, {hello, "0.9.0"}]}.' \
    >"$DIR/tree/releases/0.9.0/hello.rel"
printf '%s\n' '{application, hello, [{vsn, "0.9.0"}, {modules, [lists]}]}.' \
    >"$DIR/tree/lib/hello-0.9.0/ebin/hello.app"
cp "$(head -1 "$DIR/beams" | cut -d' ' -f2)" "$DIR/tree/lib/hello-0.9.0/ebin/lists.beam"
ln -s 0.9.0 "$DIR/tree/releases/current"
tar -cf "$DIR/flat.tar" -C "$DIR/tree" releases lib
cp -R "$DIR/tree" "$DIR/nest/hello"
tar -cf "$DIR/nest.tar" -C "$DIR/nest" hello
for t in flat nest; do
    { printf '\0'; cat "$DIR/$t.tar"; } >"$DIR/tarball/${t}_plain"
    { printf '\1'; cat "$DIR/$t.tar"; } >"$DIR/tarball/${t}_gzip"
done
# configs (fuzz_overlay): the example's and the corpus's reltool.config files
mkdir -p "$DIR/overlay"
cp example/rel/reltool.config "$DIR/overlay/example"
[ -d "$CORPUS/reltool" ] && find "$CORPUS/reltool" -type f -size -64k | while read -r f; do
    cp "$f" "$DIR/overlay/corpus_$(basename "$f")"
done
count() { find "$DIR/$1" -type f | wc -l; }
echo "seeds: $(count parse) parse, $(count etf) etf, $(count beam) beam, $(count tarball) tarball, $(count overlay) overlay"
