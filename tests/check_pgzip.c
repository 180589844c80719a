/* check_pgzip.c - parallel gzip: what zlib's inflate and gzip(1) read back is the input, at
 * every size around the chunk boundaries, and the same input always gives the same bytes */
#define SUITE_FN pgzip_suite
#include "check_main.h"

#include "kerr.h"
#include "pgzip.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (256 * 1024) /* pgzip.c's chunk size: the sizes below straddle it */

/* input - N bytes that compress somewhat and repeat across chunk boundaries (so matches
 * reach into the previous chunk's dictionary), with a stretch of noise */
static unsigned char *input(size_t n, uint32_t seed)
{
    unsigned char *p = malloc(n ? n : 1);
    uint32_t x = seed;
    static const char words[] = "load_module code_change suspend resume purge ";
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        if ((i / 4096) % 7 == 3)
            p[i] = (unsigned char)(x >> 16); /* noise */
        else
            p[i] = (unsigned char)words[(i + i / 1000 + seed) % (sizeof words - 1)];
    }
    return p;
}

/* compress_to - P[0..N) through pgzip, written WRITE bytes at a time, into a malloc'd buffer */
static unsigned char *compress_to(const unsigned char *p, size_t n, size_t write, size_t *outn)
{
    char path[] = "/tmp/knit-check-pgzip.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    struct pgzip *z = pgzip_open(fd, path, -1);
    ck_assert_ptr_nonnull(z);
    for (size_t off = 0; off < n; off += write) {
        size_t k = n - off < write ? n - off : write;
        ck_assert_msg(pgzip_write(z, p + off, k) == 0, "pgzip_write failed: %s", kerr_get()->msg);
    }
    ck_assert_msg(pgzip_close(z) == 0, "pgzip_close failed: %s", kerr_get()->msg);
    off_t size = lseek(fd, 0, SEEK_END);
    unsigned char *out = malloc((size_t)size + 1);
    ck_assert_int_eq(pread(fd, out, (size_t)size, 0), size);
    close(fd);
    unlink(path);
    *outn = (size_t)size;
    return out;
}

/* inflate_all - zlib's gzip decoder over the whole buffer: exactly one member, checked CRC
 * and length; returns the bytes (malloc'd) */
static unsigned char *inflate_all(const unsigned char *gz, size_t n, size_t expect, size_t *outn)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(inflateInit2(&s, 15 + 16), Z_OK);
    unsigned char *out = malloc(expect + 1);
    s.next_in = (unsigned char *)gz;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)expect + 1;
    int r = inflate(&s, Z_FINISH);
    ck_assert_msg(r == Z_STREAM_END, "inflate returned %d (%s) after %lu bytes out", r,
                  s.msg ? s.msg : "-", (unsigned long)s.total_out);
    ck_assert_msg(s.avail_in == 0, "%u bytes after the gzip member", s.avail_in);
    *outn = s.total_out;
    inflateEnd(&s);
    return out;
}

static const size_t sizes[] = {0,         1,         100,       32767,     32768,
                               32769,     CHUNK - 1, CHUNK,     CHUNK + 1, 2 * CHUNK,
                               3 * CHUNK + 4097, 10 * CHUNK + 17};

START_TEST(round_trip_through_inflate)
{
    size_t n = sizes[_i];
    unsigned char *in = input(n, (uint32_t)n + 7);
    size_t gzn, back;
    unsigned char *gz = compress_to(in, n, 10240, &gzn); /* libarchive's block size */
    unsigned char *out = inflate_all(gz, gzn, n, &back);
    ck_assert_msg(back == n, "size %zu: inflated %zu bytes", n, back);
    ck_assert_msg(n == 0 || memcmp(in, out, n) == 0, "size %zu: inflated bytes differ", n);
    free(in);
    free(gz);
    free(out);
}
END_TEST

START_TEST(same_input_same_bytes_whatever_the_writes)
{
    size_t n = 5 * CHUNK + 12345;
    unsigned char *in = input(n, 42);
    size_t n1, n2, n3;
    unsigned char *a = compress_to(in, n, 10240, &n1);
    unsigned char *b = compress_to(in, n, 1, &n2);
    unsigned char *c = compress_to(in, n, n, &n3);
    ck_assert_msg(n1 == n2 && n1 == n3, "sizes %zu %zu %zu", n1, n2, n3);
    ck_assert_msg(memcmp(a, b, n1) == 0 && memcmp(a, c, n1) == 0, "bytes differ between runs");
    /* the header: gzip, deflate, no flags, mtime 0, OS Unix */
    static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    ck_assert_msg(memcmp(a, head, 10) == 0, "header %02x %02x %02x %02x ...", a[0], a[1], a[2],
                  a[3]);
    /* and it compresses: the words repeat */
    ck_assert_msg(n1 < n / 2, "%zu bytes compressed to %zu", n, n1);
    free(in);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(gzip_tool_reads_it)
{
    size_t n = 4 * CHUNK + 999, gzn;
    unsigned char *in = input(n, 3);
    unsigned char *gz = compress_to(in, n, 65536, &gzn);
    char gzpath[] = "/tmp/knit-check-pgzip-gz.XXXXXX", cmd[256];
    int fd = mkstemp(gzpath);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, gz, gzn), (ssize_t)gzn);
    close(fd);
    snprintf(cmd, sizeof cmd, "gzip -dc < '%s'", gzpath);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    unsigned char *out = malloc(n + 1);
    size_t got = fread(out, 1, n + 1, f);
    int st = pclose(f);
    unlink(gzpath);
    ck_assert_msg(st == 0, "gzip -dc exited %d", st);
    ck_assert_msg(got == n, "gzip -dc gave %zu bytes, want %zu", got, n);
    ck_assert_msg(memcmp(in, out, n) == 0, "gzip -dc bytes differ");
    free(in);
    free(gz);
    free(out);
}
END_TEST

START_TEST(write_error_is_reported)
{
    int fd = open("/dev/full", O_WRONLY);
    ck_assert_int_ge(fd, 0);
    struct pgzip *z = pgzip_open(fd, "/dev/full", -1);
    ck_assert_ptr_nonnull(z);
    unsigned char *in = input(3 * CHUNK, 9);
    int rc = 0;
    for (size_t off = 0; off < 3 * CHUNK && rc == 0; off += 10240)
        rc = pgzip_write(z, in + off, 10240);
    if (rc == 0)
        rc = pgzip_close(z);
    else
        pgzip_abort(z);
    close(fd);
    free(in);
    ck_assert_msg(rc == -1, "writing to /dev/full succeeded");
    ck_assert_msg(strstr(kerr_get()->msg, "cannot write") != NULL, "message: %s", kerr_get()->msg);
    ck_assert_msg(strcmp(kerr_get()->file, "/dev/full") == 0, "file: %s", kerr_get()->file);
}
END_TEST

Suite *pgzip_suite(void)
{
    Suite *s = suite_create("pgzip");
    TCase *tc = tcase_create("pgzip");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, round_trip_through_inflate, 0, (int)(sizeof sizes / sizeof sizes[0]));
    tcase_add_test(tc, same_input_same_bytes_whatever_the_writes);
    tcase_add_test(tc, gzip_tool_reads_it);
    tcase_add_test(tc, write_error_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
