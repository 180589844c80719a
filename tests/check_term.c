/* check_term.c - the term model (term.c) and the small core modules: arena, buf, kerr, fsutil */
#define SUITE_FN term_suite
#include "check_main.h"

#include "arena.h"
#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "term.h"
#include "term_parse.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct arena A;

static void setup(void)
{
    arena_init(&A);
}

static void teardown(void)
{
    arena_close(&A);
}

static const struct term *P(const char *text)
{
    const struct term *t = term_parse_term(&A, "test", text, strlen(text));
    ck_assert_msg(t != NULL, "cannot parse '%s': %s", text, kerr_get()->msg);
    return t;
}

/* Erlang's term order, checked on an ascending chain (each pair compared both ways); the chain
 * is sorted as OTP sorts it: erl -eval 'L = [...], lists:sort(L) =:= L' gives true */
START_TEST(compare_follows_erlang_order)
{
    static const char *chain[] = {
        "-18446744073709551616", "-1.5", "-1", "0", "1", "1.5", "18446744073709551616",
        "''", "a", "ab", "b", "'é'",
        "{}", "{b}", "{a, b}", "{b, a}", "#{}", "#{a => 1}", "#{b => 0}", "#{a => 1, b => 2}",
        "[]", "[a | b]", "[a]", "[a, b]", "[b]", "<<>>", "<<0:1>>", "<<0>>", "<<1>>", "<<1, 0>>",
    };
    size_t n = sizeof chain / sizeof chain[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int want = i < j ? -1 : i > j ? 1 : 0;
            int got = term_compare(P(chain[i]), P(chain[j]));
            got = got < 0 ? -1 : got > 0;
            ck_assert_msg(got == want, "compare(%s, %s) = %d, expected %d", chain[i], chain[j],
                          got, want);
        }
}
END_TEST

START_TEST(numbers_compare_across_types)
{
    ck_assert_int_eq(term_compare(P("1"), P("1.0")), 0);
    ck_assert_msg(!term_equal(P("1"), P("1.0")), "1 =:= 1.0 must be false");
    ck_assert_int_lt(term_compare(P("9007199254740993"), P("9007199254740994.0")), 0);
    ck_assert_int_gt(term_compare(P("9007199254740993"), P("9007199254740992.0")), 0);
    ck_assert_int_lt(term_compare(P("-9223372036854775809"), P("-9223372036854775808")), 0);
}
END_TEST

START_TEST(bigint_normalises_to_int64)
{
    uint8_t mag[9] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0};
    const struct term *t = term_bigint(&A, true, mag, 9);
    ck_assert_int_eq(t->type, TERM_INT);
    ck_assert_msg(t->u.i == INT64_MIN, "expected INT64_MIN, got %lld", (long long)t->u.i);
    t = term_bigint(&A, false, mag, 9);
    ck_assert_int_eq(t->type, TERM_BIG);
    ck_assert_uint_eq(t->u.big.n, 8);
}
END_TEST

START_TEST(list_tails_are_flattened)
{
    const struct term *inner = term_listv(&A, 2, term_atomz(&A, "b"), term_atomz(&A, "c"));
    const struct term *a = term_atomz(&A, "a");
    const struct term *t = term_list(&A, &a, 1, inner);
    ck_assert_int_eq(t->type, TERM_LIST);
    ck_assert_uint_eq(t->u.list.n, 3);
    ck_assert_int_eq(t->u.list.tail->type, TERM_NIL);
    ck_assert_msg(term_equal(t, P("[a, b, c]")), "[a | [b, c]] differs from [a, b, c]");
    ck_assert_int_eq(term_list_len(P("[a | b]")), -1);
    ck_assert_int_eq(term_list_len(P("[]")), 0);
}
END_TEST

START_TEST(map_sorts_keys_and_later_wins)
{
    const struct term *k[] = {term_atomz(&A, "b"), term_int(&A, 1), term_atomz(&A, "b")};
    const struct term *v[] = {term_int(&A, 1), term_int(&A, 2), term_int(&A, 3)};
    const struct term *m = term_map(&A, k, v, 3);
    ck_assert_uint_eq(m->u.map.n, 2);
    ck_assert_int_eq(m->u.map.keys[0]->type, TERM_INT);
    ck_assert_msg(term_is_atom(m->u.map.keys[1], "b"), "second key is not b");
    ck_assert_int_eq(m->u.map.vals[1]->u.i, 3);
}
END_TEST

START_TEST(strings_and_text)
{
    const struct term *s = term_stringz(&A, "h\xc3\xa9llo");
    ck_assert_int_eq(term_list_len(s), 5);
    ck_assert_int_eq(s->u.list.el[1]->u.i, 0xe9);
    ck_assert_str_eq(term_charlist(&A, s), "h\xc3\xa9llo");
    ck_assert_str_eq(term_text(&A, P("<<\"bin\">>")), "bin");
    ck_assert_str_eq(term_text(&A, P("atom")), "atom");
    ck_assert_ptr_null(term_text(&A, P("{a}")));
    ck_assert_ptr_null(term_charlist(&A, P("[a]")));
    const struct term *pl = P("[{a, 1}, b, {c, 2, 3}]");
    ck_assert_int_eq(term_proplist_get(pl, "a")->u.i, 1);
    ck_assert_msg(term_is_atom(term_proplist_get(pl, "b"), "true"), "bare atom is not true");
    ck_assert_msg(term_is_tuple(term_proplist_get(pl, "c"), 3), "3-tuple not returned whole");
    ck_assert_ptr_null(term_proplist_get(pl, "d"));
}
END_TEST

START_TEST(copy_is_deep_and_equal)
{
    const struct term *t = P("{a, [1, 2.5, <<1:3>>, #{k => \"v\"} | x], -99999999999999999999}");
    struct arena other;
    arena_init(&other);
    const struct term *c = term_copy(&other, t);
    arena_reset(&A); /* the copy must not point into the first arena */
    arena_init(&A);
    ck_assert_msg(term_equal(c, term_copy(&A, c)), "copy differs");
    ck_assert_int_eq(c->u.tuple.el[1]->u.list.el[2]->u.bits.nbits, 3);
    arena_close(&other);
}
END_TEST

START_TEST(arena_and_buf)
{
    char *big = arena_alloc(&A, 1 << 20);
    memset(big, 1, 1 << 20);
    char *s = arena_sprintf(&A, "%s-%d", "x", 42);
    ck_assert_str_eq(s, "x-42");
    ck_assert_uint_eq((uintptr_t)arena_alloc(&A, 3) % 16, 0);
    struct buf b = BUF_INIT;
    ck_assert_str_eq(buf_cstr(&b), "");
    for (int i = 0; i < 10000; i++)
        buf_addc(&b, 'a');
    buf_add_utf8(&b, 0x1F600);
    ck_assert_uint_eq(b.len, 10004);
    ck_assert_msg(memcmp(b.p + 10000, "\xf0\x9f\x98\x80", 4) == 0, "bad UTF-8 for U+1F600");
    buf_reset(&b);
    buf_addf(&b, "%05d", 7);
    ck_assert_str_eq(buf_cstr(&b), "00007");
    buf_free(&b);
}
END_TEST

START_TEST(kerr_formats_positions)
{
    char msg[256];
    kerr_set(KERR_INPUT, "f.config", 3, 7, "expected '%s'", "}");
    kerr_format(kerr_get(), msg, sizeof msg);
    ck_assert_str_eq(msg, "f.config:3:7: expected '}'");
    kerr_set(KERR_IO, "f", 0, 0, "gone");
    kerr_format(kerr_get(), msg, sizeof msg);
    ck_assert_str_eq(msg, "f: gone");
    ck_assert_int_eq(kerr_get()->cls, 3);
    kerr_clear();
    ck_assert_int_eq(kerr_get()->cls, KERR_OK);
}
END_TEST

START_TEST(fsutil_writes_atomically)
{
    char dir[] = "/tmp/knit-check-fs.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out", dir);
    ck_assert_int_eq(fs_write_atomic(path, "one", 3, 0644), 0);
    ck_assert_int_eq(fs_write_atomic(path, "two!", 4, 0644), 0);
    size_t n;
    char *got = fs_read_file(&A, path, &n);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(got, "two!");
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/out", dir);
    ck_assert_int_eq(fs_write_atomic(bad, "x", 1, 0644), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_IO);
    ck_assert_ptr_null(fs_read_file(&A, bad, &n));
    unlink(path);
    rmdir(dir);
}
END_TEST

struct deep {
    int depth;
    int ok;
};

static int deep_work(void *p)
{
    struct deep *d = p;
    struct arena a;
    arena_init(&a);
    const struct term *t = term_nil();
    for (int i = 0; i < d->depth; i++)
        t = term_tuplev(&a, 1, t);
    const struct term *c = term_copy(&a, t);
    d->ok = term_equal(t, c) && term_compare(t, c) == 0;
    arena_close(&a);
    return 0;
}

START_TEST(deep_terms_on_big_stack)
{
    struct deep d = {10000, 0};
    knit_run_big_stack(deep_work, &d);
    ck_assert_msg(d.ok, "10000-deep copy/compare failed");
}
END_TEST

Suite *term_suite(void)
{
    Suite *s = suite_create("term");
    TCase *tc = tcase_create("term");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, compare_follows_erlang_order);
    tcase_add_test(tc, numbers_compare_across_types);
    tcase_add_test(tc, bigint_normalises_to_int64);
    tcase_add_test(tc, list_tails_are_flattened);
    tcase_add_test(tc, map_sorts_keys_and_later_wins);
    tcase_add_test(tc, strings_and_text);
    tcase_add_test(tc, copy_is_deep_and_equal);
    tcase_add_test(tc, arena_and_buf);
    tcase_add_test(tc, kerr_formats_positions);
    tcase_add_test(tc, fsutil_writes_atomically);
    tcase_add_test(tc, deep_terms_on_big_stack);
    suite_add_tcase(s, tc);
    return s;
}
