/* report.h - the machine report (--json): one JSON document on stdout per command */
#ifndef KNIT_REPORT_H
#define KNIT_REPORT_H

#include "buf.h"
#include "term.h"

#include <stddef.h>

#include <jansson.h>

/* report_artifact - {"kind", "path", "size", "sha256"} for the file at PATH; NULL with
 * KERR_IO when it cannot be read */
json_t *report_artifact(const char *kind, const char *path);
/* report_term - an Erlang term as JSON: a string holding its text on one line (~0tp),
 * which erl_scan + erl_parse read back to the same term */
json_t *report_term(const struct term *t);
/* report_sha256_file - the SHA-256 of PATH as 64 hex digits into HEX; -1 with KERR_IO */
int report_sha256_file(const char *path, char hex[65], long long *size);
/* report_json_string - append S (LEN bytes of UTF-8) to OUT as a JSON string literal, escaped
 * as jansson escapes it; -1 (nothing recorded) when S is not valid UTF-8 */
int report_json_string(struct buf *out, const char *s, size_t len);
/* report_json_chars - report_json_string without the quotes around it */
int report_json_chars(struct buf *out, const char *s, size_t len);
/* report_json_term - append T as a JSON string holding its one-line ~tp text */
void report_json_term(struct buf *out, const struct term *t);
struct flow;
struct kerr;
/* report_flow - print the document of one engine run (knit, release, appup, relup): the
 * release, its applications, the artifacts at their final paths, and (not for release) per
 * earlier release the upgrades and the skipped ones, the warnings; with ERR (a failed run,
 * or NULL) an "error" object {message, file, line, exit_code} besides whatever was done.
 * Returns 0 or -1 (KERR_IO) */
int report_flow(const struct flow *f, const struct kerr *err);

/* report_print - write DOC to stdout as one JSON document followed by a newline and
 * release it; -1 with KERR_IO when stdout fails */
int report_print(json_t *doc);

#endif
