#!/usr/bin/env bash
# tools/readme2man.sh - write the man page knit(1) from README.md on stdout: the README is
# the manual, knit.1 the same text for `man knit` (make knit.1; tests/t_house.sh checks that
# the committed knit.1 is what this script prints). Handles the markdown README.md uses:
# headings, paragraphs, 4-space code blocks, tables, "- " lists, `code` and **bold**.
set -eu
cd "$(dirname "$0")/.."
version=$(sed -n 's/^#define KNIT_VERSION "\(.*\)"/\1/p' knit/main.c)
awk -v version="$version" '
function esc(s) {
    gsub(/\\/, "\\e", s)
    return s
}
function inline(s,    out, i, c, incode) {
    s = esc(s)
    gsub(/\*\*/, "\001", s)
    out = ""; incode = 0; inbold = 0
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "`") { out = out (incode ? "\\fR" : "\\fB"); incode = !incode; continue }
        if (c == "\001") { out = out (inbold ? "\\fR" : "\\fB"); inbold = !inbold; continue }
        out = out c
    }
    return out
}
function line_out(s) {
    if (s ~ /^[.\047]/) s = "\\&" s
    print s
}
function flush_para() { para = 0 }
BEGIN {
    print ".TH KNIT 1 \"\" \"knit " version "\" \"User Commands\""
    print ".\\\" generated from README.md by tools/readme2man.sh: edit README.md, then make knit.1"
    incode = 0; para = 0; first = 1
}
/^# / { print ".SH NAME"; print "knit \\- build Erlang/OTP releases and release upgrades"; next }
/^## / { sub(/^## /, ""); print ".SH " toupper(inline($0)); para = 0; next }
/^### / { sub(/^### /, ""); print ".SS " inline($0); para = 0; next }
/^    / {
    if (!incode) { print ".PP"; print ".nf"; print ".RS 4"; incode = 1 }
    sub(/^    /, ""); line_out(esc($0)); next
}
incode && /^$/ { print ".RE"; print ".fi"; incode = 0; para = 0; next }
incode { print ".RE"; print ".fi"; incode = 0 }
/^\|[-|: ]+\|$/ { next }
/^\|/ {
    n = split($0, cell, /[ ]*\|[ ]*/)
    # cells 2..n-1; "\|" inside a cell was split too: join it back
    txt = ""
    for (i = 2; i < n; i++) txt = txt (i > 2 ? " | " : "") cell[i]
    gsub(/\\ \| /, "|", txt)
    m = split(txt, parts, / \| /)
    print ".TP"
    line_out(inline(parts[1]))
    rest = ""
    for (i = 2; i <= m; i++) rest = rest (i > 2 ? "; " : "") parts[i]
    line_out(inline(rest))
    para = 0
    next
}
/^- / { print ".IP \\(bu 2"; sub(/^- /, ""); line_out(inline($0)); para = 1; next }
/^  [^ ]/ && para { sub(/^  /, ""); line_out(inline($0)); next }
/^$/ { para = 0; next }
{
    if (!para) { print ".PP"; para = 1 }
    line_out(inline($0))
}
END { if (incode) { print ".RE"; print ".fi" } }
' README.md
