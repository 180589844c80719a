/* mustache.h - render mustache templates (spec v1.4 core modules) against a jansson context */
#ifndef KNIT_MUSTACHE_H
#define KNIT_MUSTACHE_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

/*
 * Supported: variables ({{x}}, {{{x}}}, {{&x}}), sections, inverted sections, comments,
 * partials (with standalone indentation), set delimiter, dotted names, the implicit
 * iterator '.', and the context stack. Not supported: the spec's optional modules
 * (lambdas, inheritance, dynamic names): '{{>*x}}' is a partial named '*x', '{{<p}}' and
 * '{{$b}}' are variables named '<p' and '$b', so their close tags are errors.
 *
 * Values: a string renders as is; an integer in decimal; a real in the shortest form
 * that reads back exactly ("1.5", "2" for 2.0); true/false as "true"/"false"; null, a
 * missing name, an array and an object as nothing.
 * Sections: false, null, a missing name, an empty array and the empty string are false
 * (the empty string, as in rebar3's bbmustache where "" is []); everything else, 0
 * included, is true. An array renders its body once per element, any other true value
 * once with that value pushed on the context stack.
 */

/* mustache_render flags */
enum {
    MUSTACHE_NOESCAPE = 1, /* {{x}} like {{{x}}}: no HTML escaping (vm.args, sys.config) */
};

/* mustache_render - render template TMPL (LEN bytes, need not be NUL-terminated) against
 * context CTX (any JSON value; NULL is an empty context) and append the output to OUT.
 * NAME names the template in error messages (a path, usually).
 * PARTIALS is NULL or a JSON object mapping partial names to template strings; a partial
 * that is missing or not a string renders as nothing. An error in a partial is reported
 * with the partial's name in the file position.
 * FLAGS is 0 or MUSTACHE_NOESCAPE. Nothing is retained; CTX and PARTIALS are only read.
 * Returns 0, or -1 with kerr set (KERR_INPUT, NAME, line, col) when the template or a
 * partial it uses is malformed: unclosed tag, unclosed section, mismatched or unexpected
 * close tag, bad delimiter change, empty tag name, more than 256 nested sections in one
 * template, more than 64 nested partials or 1024 nested sections and partials, more than
 * 100000 partials rendered (a partial can include itself). The whole template is
 * checked before anything is appended, but on error OUT may still hold the output of
 * earlier parts (a partial fails only when it is reached): discard it. */
int mustache_render(struct buf *out, const char *name, const char *tmpl, size_t len,
                    const json_t *ctx, const json_t *partials, unsigned flags);

/* The caps checked while rendering (so that a template that multiplies its output, or
 * nests sections over lists, fails before it exhausts memory or time): the bytes one render
 * may append (MUSTACHE_MAX_OUT unless given), and the nodes it may render. */
#define MUSTACHE_MAX_OUT ((size_t)256 << 20)
#define MUSTACHE_MAX_STEPS 10000000UL
/* mustache_render_max - mustache_render appending at most MAX bytes: more is KERR_INPUT
 * ("renders to more than MAX bytes") at the tag being rendered when it was found */
int mustache_render_max(struct buf *out, const char *name, const char *tmpl, size_t len,
                        const json_t *ctx, const json_t *partials, unsigned flags, size_t max);

#endif
