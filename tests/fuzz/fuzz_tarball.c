/* fuzz_tarball.c - libFuzzer target: the earlier-release reader (upgrade_extract: libarchive
 * through knit's gzip reader, the entry checks, the caps, the symlink resolution, then the
 * .rel and .app files it reads). The input is a tar; when its first byte is odd the rest
 * is gzip'd first, so both the plain and the compressed paths run. Every run extracts into
 * a fresh directory under $TMPDIR and removes it; nothing may appear outside it. */
#include "cfg.h"
#include "fsutil.h"
#include "kerr.h"
#include "upgrade.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char base[4096];

static void write_input(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (n > 0 && (d[0] & 1)) {
        z_stream z = {0};
        if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            abort();
        size_t cap = deflateBound(&z, n) + 64;
        unsigned char *out = malloc(cap);
        z.next_in = (unsigned char *)d + 1;
        z.avail_in = (uInt)(n - 1);
        z.next_out = out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END)
            abort();
        fwrite(out, 1, cap - z.avail_out, f);
        deflateEnd(&z);
        free(out);
    } else if (n > 0) {
        fwrite(d + 1, 1, n - 1, f);
    }
    fclose(f);
}

static int run(void *p)
{
    const uint8_t **in = p;
    const uint8_t *data = in[0];
    size_t size = (size_t)(in[1] - in[0]);
    struct arena a;
    arena_init(&a);
    struct cfg c;
    memset(&c, 0, sizeof c);
    c.release_dir = arena_sprintf(&a, "%s/rel", base);
    c.tmp_dir = arena_sprintf(&a, "%s/tmp", base);
    c.limits = (struct tarball_limits){4u << 20, 1u << 20, 4096};
    c.max_rel_bytes = 64 << 10;
    fs_mkdirs(c.release_dir);
    write_input(arena_sprintf(&a, "%s/hello-0.9.0.tar.gz", c.release_dir), data, size);
    struct upgrade_from from;
    if (upgrade_extract(&a, &c, "hello", "0.9.0", NULL, NULL, &from) == 0) {
        /* what it read must be usable: the beams' names and sizes, the .rel's apps */
        for (size_t i = 0; i < from.nbeams; i++)
            if (!from.beams[i].dir || !from.beams[i].beam.name)
                abort();
        for (size_t i = 0; i < from.rel.napps; i++)
            if (!fs_plain_name(from.rel.apps[i].name) || !fs_plain_name(from.rel.apps[i].vsn))
                abort();
    }
    kerr_clear();
    fs_remove_tree(c.tmp_dir);
    kerr_clear();
    arena_close(&a);
    return 0;
}

static void cleanup(void)
{
    fs_remove_tree(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/knit-fuzz-tarball.%ld", t && *t ? t : "/tmp",
                 (long)getpid());
        fs_mkdirs(base);
        atexit(cleanup);
    }
    const uint8_t *in[2] = {data, data + size};
    knit_run_big_stack(run, in);
    /* BASE holds rel/ (the input) and nothing else once tmp/ is removed: anything more
     * was written outside the extraction dir */
    DIR *d = opendir(base);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "rel")) {
            fprintf(stderr, "fuzz_tarball: '%s' written outside the extraction dir\n", de->d_name);
            abort();
        }
    if (d)
        closedir(d);
    return 0;
}
