/* check_arena.c - the bump allocator: zeroing where memory was used before, growth in place */
#define SUITE_FN arena_suite
#include "check_main.h"

#include "arena.h"

#include <stdint.h>
#include <string.h>

/* the first nonzero byte of P[0..N), or -1 */
static long nonzero_at(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return (long)i;
    return -1;
}

/* Blocks go back to the pool on reset and are handed out again: arena_alloc must clear
 * what the earlier arena wrote there, small and big allocations alike. */
START_TEST(alloc_zeroes_reused_memory)
{
    static const size_t sizes[] = {1, 16, 100, 4000, 20000, 65536, 300000};
    for (int round = 0; round < 3; round++) {
        struct arena a;
        arena_init(&a);
        for (int k = 0; k < 200; k++) {
            size_t n = sizes[k % 7];
            unsigned char *p = arena_alloc(&a, n);
            long at = nonzero_at(p, n);
            ck_assert_msg(at < 0, "round %d: arena_alloc(%zu) byte %ld not zero", round, n, at);
            memset(p, 0xA5, n); /* dirty it for the next round */
            unsigned char *q = arena_alloc_raw(&a, n);
            memset(q, 0x5A, n);
        }
        arena_close(&a);
    }
}
END_TEST

/* arena_extend keeps the contents, grows the latest allocation where it is, and copies
 * otherwise; the copy leaves the old allocation as it was */
START_TEST(extend_keeps_contents)
{
    struct arena a;
    arena_init(&a);
    size_t n = 8;
    unsigned char *p = arena_alloc_raw(&a, n);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)i;
    unsigned char *q = arena_extend(&a, p, n, 64);
    ck_assert_msg(q == p, "the latest allocation did not grow in place");
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(q[i], (unsigned char)i);
    unsigned char *other = arena_alloc(&a, 32);
    other[0] = 7;
    unsigned char *r = arena_extend(&a, q, 64, 128);
    ck_assert_msg(r != q, "an allocation that is not the latest grew in place over another");
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(r[i], (unsigned char)i);
    ck_assert_int_eq(other[0], 7);
    /* growing to many times a block: big blocks are reallocated, contents kept */
    size_t have = 128;
    for (size_t want = 256; want <= ((size_t)1 << 20); want *= 2) {
        r = arena_extend(&a, r, have, want);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(r[i] == (unsigned char)i, "byte %zu lost growing to %zu", i, want);
        r[want - 1] = 0xEE;
        have = want;
    }
    ck_assert_int_eq(r[have - 1], 0xEE);
    arena_close(&a);
}
END_TEST

/* arena_adopt: what another arena allocated stays intact and usable after the adopting
 * arena allocates more (small and big blocks alike); the adopted arena is left empty and
 * usable; closing the adopter frees everything (the sanitizer build sees a leak if not) */
START_TEST(adopt_keeps_allocations)
{
    struct arena into, from;
    arena_init(&into);
    arena_init(&from);
    char *mine = arena_strdup(&into, "mine");
    static const size_t sizes[] = {10, 5000, 70000, 300000};
    unsigned char *theirs[4];
    for (int k = 0; k < 4; k++) {
        theirs[k] = arena_alloc_raw(&from, sizes[k]);
        memset(theirs[k], 0x30 + k, sizes[k]);
    }
    size_t total = into.total + from.total;
    arena_adopt(&into, &from);
    ck_assert_msg(from.head == NULL && from.total == 0, "the adopted arena is not empty");
    ck_assert_msg(into.total == total, "total %zu after adopting, expected %zu", into.total, total);
    for (int k = 0; k < 50; k++)
        memset(arena_alloc(&into, 4000), 0xFF, 4000);
    ck_assert_str_eq(mine, "mine");
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < sizes[k]; i++)
            ck_assert_msg(theirs[k][i] == 0x30 + k, "allocation %d byte %zu changed: %#x", k, i,
                          theirs[k][i]);
    char *again = arena_strdup(&from, "usable");
    ck_assert_str_eq(again, "usable");
    arena_close(&from);
    /* adopting into an empty arena */
    struct arena empty;
    arena_init(&empty);
    arena_adopt(&empty, &into);
    ck_assert_str_eq(mine, "mine");
    ck_assert_msg(into.head == NULL, "the adopted arena is not empty");
    arena_close(&empty);
}
END_TEST

Suite *arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, alloc_zeroes_reused_memory);
    tcase_add_test(tc, adopt_keeps_allocations);
    tcase_add_test(tc, extend_keeps_contents);
    suite_add_tcase(s, tc);
    return s;
}
