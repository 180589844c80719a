/* check_utf8.c - the UTF-8 decoder: every well-formed length, and each way a sequence can be
 * ill-formed as Erlang's <<C/utf8>> sees it (overlong, surrogate, past U+10FFFF, bad or
 * missing continuation, bad lead byte) */
#define SUITE_FN utf8_suite
#include "check_main.h"

#include "utf8.h"

#include <string.h>

static const struct {
    const char *bytes;
    size_t n;
    uint32_t cp; /* when well-formed */
    size_t len;  /* 0: ill-formed */
} cases[] = {
    {"A", 1, 0x41, 1},
    {"\xC3\xA9", 2, 0xE9, 2},
    {"\xE2\x82\xAC", 3, 0x20AC, 3},
    {"\xF0\x9F\x98\x80", 4, 0x1F600, 4},
    {"\xF4\x8F\xBF\xBF", 4, 0x10FFFF, 4},
    {"\xEF\xBF\xBD", 3, 0xFFFD, 3},
    {"\xC0\x80", 2, 0, 0},         /* overlong NUL */
    {"\xC1\xBF", 2, 0, 0},         /* overlong */
    {"\xE0\x9F\xBF", 3, 0, 0},     /* overlong three bytes */
    {"\xF0\x8F\xBF\xBF", 4, 0, 0}, /* overlong four bytes */
    {"\xED\xA0\x80", 3, 0, 0},     /* surrogate U+D800 */
    {"\xED\xBF\xBF", 3, 0, 0},     /* surrogate U+DFFF */
    {"\xF4\x90\x80\x80", 4, 0, 0}, /* U+110000 */
    {"\xF5\x80\x80\x80", 4, 0, 0}, /* bad lead */
    {"\x80", 1, 0, 0},             /* a continuation byte alone */
    {"\xC3", 1, 0, 0},             /* truncated */
    {"\xE2\x82", 2, 0, 0},         /* truncated */
    {"\xC3\x28", 2, 0, 0},         /* bad continuation */
};

START_TEST(decode_cases)
{
    size_t len = 99;
    uint32_t cp = utf8_decode((const uint8_t *)cases[_i].bytes, cases[_i].n, &len);
    ck_assert_msg(len == cases[_i].len && (len == 0 || cp == cases[_i].cp),
                  "case %d: expected length %zu code point U+%04X, got length %zu U+%04X", _i,
                  cases[_i].len, (unsigned)cases[_i].cp, len, (unsigned)cp);
    size_t l1;
    uint32_t c1 = utf8_decode_or_latin1((const uint8_t *)cases[_i].bytes, cases[_i].n, &l1);
    if (cases[_i].len == 0)
        ck_assert_msg(l1 == 1 && c1 == (uint8_t)cases[_i].bytes[0],
                      "case %d: latin-1 fallback gave length %zu U+%04X", _i, l1, (unsigned)c1);
    else
        ck_assert_msg(l1 == len && c1 == cp, "case %d: or_latin1 differs from decode", _i);
}
END_TEST

START_TEST(count_and_valid)
{
    const char *ok = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";
    ck_assert_int_eq(utf8_count((const uint8_t *)ok, strlen(ok)), 5);
    ck_assert(utf8_valid((const uint8_t *)ok, strlen(ok)));
    ck_assert_int_eq(utf8_count((const uint8_t *)"", 0), 0);
    const char *bad = "ab\xED\xA0\x80";
    ck_assert_int_eq(utf8_count((const uint8_t *)bad, strlen(bad)), -1);
    ck_assert(!utf8_valid((const uint8_t *)bad, strlen(bad)));
    /* a sequence cut by the end of the text */
    ck_assert(!utf8_valid((const uint8_t *)ok, 5));
}
END_TEST

Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("decode");
    tcase_add_loop_test(tc, decode_cases, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, count_and_valid);
    suite_add_tcase(s, tc);
    return s;
}
