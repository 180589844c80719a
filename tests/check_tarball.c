/* check_tarball.c - reproducible packing and refusal of hostile archives */
#define SUITE_FN tarball_suite
#include "check_main.h"

#include "kerr.h"
#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[256];

static void setup(void)
{
    snprintf(base, sizeof base, "/tmp/knit-check-tarball.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text, int mode)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* make_tree - a small release-like tree under DIR */
static void make_tree(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "mkdir -p '%s/lib/a-1/ebin' '%s/releases/1' '%s/bin'", dir, dir, dir);
    ck_assert_int_eq(system(p), 0);
    snprintf(p, sizeof p, "%s/lib/a-1/ebin/a.app", dir);
    write_file(p, "{application,a,[]}.\n", 0644);
    snprintf(p, sizeof p, "%s/bin/start", dir);
    write_file(p, "#!/bin/sh\necho hi\n", 0755);
    snprintf(p, sizeof p, "%s/releases/1/start.boot", dir);
    write_file(p, "boot", 0644);
    snprintf(p, sizeof p, "%s/releases/current", dir);
    ck_assert_int_eq(symlink("1", p), 0);
}

/* tree_and_dest - the tree of make_tree in TREE, an empty DEST, OUT for a tarball NAME (each
 * buffer 300 bytes) */
static void tree_and_dest(char *tree, char *out, char *dest, const char *name)
{
    snprintf(tree, 300, "%s/t", base);
    snprintf(out, 300, "%s/%s", base, name);
    snprintf(dest, 300, "%s/x", base);
    mkdir(tree, 0755);
    mkdir(dest, 0755);
    make_tree(tree);
}

START_TEST(pack_is_reproducible)
{
    char tree1[300], tree2[300], out1[300], out2[300];
    snprintf(tree1, sizeof tree1, "%s/t1", base);
    snprintf(tree2, sizeof tree2, "%s/t2", base);
    snprintf(out1, sizeof out1, "%s/one.tar.gz", base);
    snprintf(out2, sizeof out2, "%s/two.tar.gz", base);
    mkdir(tree1, 0755);
    make_tree(tree1);
    sleep(1); /* a second tree with different real mtimes */
    mkdir(tree2, 0755);
    make_tree(tree2);
    struct tarball_opts o = {.force = false, .have_mtime = true, .mtime = 1700000000};
    ck_assert_msg(tarball_pack(out1, tree1, NULL, 0, &o) == 0, "%s", kerr_get()->msg);
    ck_assert_msg(tarball_pack(out2, tree2, NULL, 0, &o) == 0, "%s", kerr_get()->msg);
    size_t n1, n2;
    char *a = slurp(out1, &n1), *b = slurp(out2, &n2);
    ck_assert_msg(n1 == n2 && memcmp(a, b, n1) == 0,
                  "two packs of equal trees differ: %zu vs %zu bytes", n1, n2);
    free(a);
    free(b);
}
END_TEST

START_TEST(pack_entries_sorted_owned_by_root)
{
    char tree[300], out[300];
    snprintf(tree, sizeof tree, "%s/t", base);
    snprintf(out, sizeof out, "%s/r.tar.gz", base);
    mkdir(tree, 0755);
    make_tree(tree);
    struct tarball_opts o = {.have_mtime = true, .mtime = 42};
    ck_assert_msg(tarball_pack(out, tree, NULL, 0, &o) == 0, "%s", kerr_get()->msg);
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    ck_assert_int_eq(archive_read_open_filename(a, out, 10240), ARCHIVE_OK);
    struct archive_entry *e;
    char prev[512] = "";
    int n = 0, saw_link = 0, saw_exec = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        ck_assert_msg(strcmp(prev, name) < 0, "entries not sorted: '%s' then '%s'", prev, name);
        ck_assert_msg(name[0] != '/' && strncmp(name, "t/", 2) != 0,
                      "entry '%s' has a leading directory", name);
        ck_assert_msg(archive_entry_uid(e) == 0 && archive_entry_gid(e) == 0,
                      "entry '%s' owned by %ld:%ld", name, (long)archive_entry_uid(e),
                      (long)archive_entry_gid(e));
        ck_assert_msg(archive_entry_mtime(e) == 42, "entry '%s' mtime %ld, expected 42", name,
                      (long)archive_entry_mtime(e));
        if (!strcmp(name, "releases/current")) {
            saw_link = archive_entry_filetype(e) == AE_IFLNK &&
                       !strcmp(archive_entry_symlink(e), "1");
        }
        if (!strcmp(name, "bin/start"))
            saw_exec = (archive_entry_perm(e) & 0777) == 0755;
        snprintf(prev, sizeof prev, "%s", name);
        n++;
    }
    archive_read_free(a);
    ck_assert_msg(n == 10, "expected 10 entries, got %d", n);
    ck_assert_msg(saw_link, "symlink releases/current -> 1 not kept");
    ck_assert_msg(saw_exec, "bin/start lost its 0755 mode");
}
END_TEST

START_TEST(pack_refuses_overwrite_unless_forced)
{
    char tree[300], out[300];
    snprintf(tree, sizeof tree, "%s/t", base);
    snprintf(out, sizeof out, "%s/r.tar.gz", base);
    mkdir(tree, 0755);
    make_tree(tree);
    write_file(out, "precious", 0644);
    struct tarball_opts o = {0};
    ck_assert_int_eq(tarball_pack(out, tree, NULL, 0, &o), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_IO);
    ck_assert_msg(strstr(kerr_get()->msg, "already exists"), "message: %s", kerr_get()->msg);
    size_t n;
    char *p = slurp(out, &n);
    ck_assert_msg(n == 8 && memcmp(p, "precious", 8) == 0, "existing tarball was changed");
    free(p);
    o.force = true;
    ck_assert_msg(tarball_pack(out, tree, NULL, 0, &o) == 0, "%s", kerr_get()->msg);
    p = slurp(out, &n);
    ck_assert_msg(n > 20 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b,
                  "forced pack did not replace the file with a gzip stream");
    free(p);
}
END_TEST

START_TEST(pack_selected_paths_only)
{
    char tree[300], out[300], dest[300], p[400];
    tree_and_dest(tree, out, dest, "s.tar.gz");
    const char *paths[] = {"releases/1", "lib/a-1"};
    struct tarball_opts o = {0};
    ck_assert_msg(tarball_pack(out, tree, paths, 2, &o) == 0, "%s", kerr_get()->msg);
    ck_assert_msg(tarball_extract(out, dest) == 0, "%s", kerr_get()->msg);
    snprintf(p, sizeof p, "%s/lib/a-1/ebin/a.app", dest);
    ck_assert_msg(access(p, F_OK) == 0, "%s missing after extract", p);
    snprintf(p, sizeof p, "%s/bin", dest);
    ck_assert_msg(access(p, F_OK) != 0, "%s packed though not selected", p);
    /* the parents of selected paths are entries too */
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    ck_assert_int_eq(archive_read_open_filename(a, out, 10240), ARCHIVE_OK);
    struct archive_entry *e;
    int saw_releases = 0, saw_lib = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        saw_releases |= !strcmp(archive_entry_pathname(e), "releases/");
        saw_lib |= !strcmp(archive_entry_pathname(e), "lib/");
    }
    archive_read_free(a);
    ck_assert_msg(saw_releases && saw_lib, "parent entries missing: releases/ %d, lib/ %d",
                  saw_releases, saw_lib);
}
END_TEST

/* hostile - write an archive at PATH with one entry of the given shape */
static void hostile(const char *path, const char *name, mode_t type, const char *link,
                    const char *hardlink)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    if (strcmp(name, "evil/inner") == 0) {
        /* first a symlink evil -> /tmp, then a file through it */
        archive_entry_set_pathname(e, "evil");
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, "sub");
        archive_entry_set_perm(e, 0777);
        archive_write_header(a, e);
        archive_entry_clear(e);
    }
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, 0644);
    if (link)
        archive_entry_set_symlink(e, link);
    if (hardlink)
        archive_entry_set_hardlink(e, hardlink);
    archive_entry_set_size(e, type == AE_IFREG && !hardlink ? 3 : 0);
    ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
    if (type == AE_IFREG && !hardlink)
        archive_write_data(a, "bad", 3);
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
}

static enum tarball_choice skip_all(const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    return TARBALL_SKIP;
}

static enum tarball_choice read_all(const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    return TARBALL_READ;
}

static int take_nothing(const char *name, const void *data, size_t len, void *ctx)
{
    (void)name;
    (void)data;
    (void)len;
    (void)ctx;
    return 0;
}

/* choose_listed - a.app written, start.boot read into memory, the rest skipped */
static enum tarball_choice choose_listed(const char *name, void *ctx)
{
    (void)ctx;
    if (!strcmp(name, "lib/a-1/ebin/a.app"))
        return TARBALL_WRITE;
    if (!strcmp(name, "releases/1/start.boot"))
        return TARBALL_READ;
    return TARBALL_SKIP;
}

struct taken {
    char names[4][64];
    char data[4][64];
    int n;
};

static int take_listed(const char *name, const void *data, size_t len, void *ctx)
{
    struct taken *t = ctx;
    ck_assert_int_lt(t->n, 4);
    snprintf(t->names[t->n], sizeof t->names[0], "%s", name);
    snprintf(t->data[t->n], sizeof t->data[0], "%.*s", (int)len, (const char *)data);
    t->n++;
    return 0;
}

START_TEST(extract_some_writes_only_kept_files)
{
    char tree[300], out[300], dest[300], p[400];
    tree_and_dest(tree, out, dest, "k.tar.gz");
    struct tarball_opts o = {0};
    ck_assert_msg(tarball_pack(out, tree, NULL, 0, &o) == 0, "%s", kerr_get()->msg);
    struct taken t = {0};
    struct tarball_filter f = {choose_listed, take_listed, &t};
    ck_assert_msg(tarball_extract_some(out, dest, &f) == 0, "%s", kerr_get()->msg);
    static const struct {
        const char *rel;
        bool present;
    } want[] = {
        {"lib/a-1/ebin/a.app", true},      /* written */
        {"bin/start", false},              /* skipped */
        {"releases/1/start.boot", false},  /* read, not written */
        {"bin", true},                     /* directories are always made */
        {"releases/1", true},
        {"releases/current", true}, /* and symlinks */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dest, want[i].rel);
        struct stat st;
        bool there = lstat(p, &st) == 0;
        ck_assert_msg(there == want[i].present, "%s: present %d, want %d", want[i].rel, there,
                      want[i].present);
    }
    ck_assert_msg(t.n == 1, "%d entries read into memory, want 1", t.n);
    ck_assert_msg(!strcmp(t.names[0], "releases/1/start.boot") && !strcmp(t.data[0], "boot"),
                  "read '%s' holding '%s', want releases/1/start.boot holding 'boot'", t.names[0],
                  t.data[0]);
}
END_TEST

START_TEST(extract_refuses_hostile_entries)
{
    static const struct {
        const char *name;
        mode_t type;
        const char *link, *hardlink, *why;
    } cases[] = {
        {"../escape", AE_IFREG, NULL, NULL, "'..'"},
        {"a/../../escape", AE_IFREG, NULL, NULL, "'..'"},
        {"/tmp/knit-abs-escape", AE_IFREG, NULL, NULL, "absolute"},
        {"link", AE_IFLNK, "/etc/passwd", NULL, "symlink"},
        {"d/link", AE_IFLNK, "../../outside", NULL, "symlink"},
        {"dev", AE_IFCHR, NULL, NULL, "not a regular file"},
        {"fifo", AE_IFIFO, NULL, NULL, "not a regular file"},
        {"hard", AE_IFREG, NULL, "/etc/passwd", "hard link"},
        {"evil/inner", AE_IFREG, NULL, NULL, "through a symlink"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char arc[300], dest[300];
        snprintf(arc, sizeof arc, "%s/h%zu.tar.gz", base, i);
        snprintf(dest, sizeof dest, "%s/d%zu/x", base, i);
        char mk[1024];
        snprintf(mk, sizeof mk, "mkdir -p '%s' '%s/sub'", dest, dest);
        ck_assert_int_eq(system(mk), 0);
        hostile(arc, cases[i].name, cases[i].type, cases[i].link, cases[i].hardlink);
        kerr_clear();
        /* _i 1 and 2: through tarball_extract_some with every file skipped or read into
         * memory: checked all the same */
        struct tarball_filter skip = {skip_all, take_nothing, NULL};
        struct tarball_filter read = {read_all, take_nothing, NULL};
        int rc = _i == 0   ? tarball_extract(arc, dest)
                 : _i == 1 ? tarball_extract_some(arc, dest, &skip)
                           : tarball_extract_some(arc, dest, &read);
        ck_assert_msg(rc == -1, "entry '%s' was extracted (loop %d)", cases[i].name, _i);
        ck_assert_msg(kerr_get()->cls == KERR_INPUT, "entry '%s': class %d", cases[i].name,
                      kerr_get()->cls);
        ck_assert_msg(strstr(kerr_get()->msg, cases[i].why) != NULL,
                      "entry '%s': message '%s' lacks '%s'", cases[i].name, kerr_get()->msg,
                      cases[i].why);
        char outside[1024];
        snprintf(outside, sizeof outside, "%s/d%zu/escape", base, i);
        ck_assert_msg(access(outside, F_OK) != 0, "'%s' written outside", outside);
    }
    ck_assert_msg(access("/tmp/knit-abs-escape", F_OK) != 0, "absolute entry written");
}
END_TEST

START_TEST(release_root_both_layouts)
{
    char d1[300], d2[300], p[1024];
    snprintf(d1, sizeof d1, "%s/flat", base);
    snprintf(d2, sizeof d2, "%s/nested", base);
    snprintf(p, sizeof p, "mkdir -p '%s/releases' '%s/hello/releases'", d1, d2);
    ck_assert_int_eq(system(p), 0);
    char *r1 = tarball_release_root(d1, "flat.tar.gz");
    char *r2 = tarball_release_root(d2, "nested.tar.gz");
    ck_assert_str_eq(r1, d1);
    snprintf(p, sizeof p, "%s/hello", d2);
    ck_assert_str_eq(r2, p);
    free(r1);
    free(r2);
    snprintf(p, sizeof p, "%s/empty", base);
    mkdir(p, 0755);
    ck_assert_ptr_null(tarball_release_root(p, "empty.tar.gz"));
    ck_assert_msg(strstr(kerr_get()->msg, "not a release archive"), "%s", kerr_get()->msg);
}
END_TEST

Suite *tarball_suite(void)
{
    Suite *s = suite_create("tarball");
    TCase *tc = tcase_create("tarball");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, pack_is_reproducible);
    tcase_add_test(tc, pack_entries_sorted_owned_by_root);
    tcase_add_test(tc, pack_refuses_overwrite_unless_forced);
    tcase_add_test(tc, pack_selected_paths_only);
    tcase_add_loop_test(tc, extract_refuses_hostile_entries, 0, 3);
    tcase_add_test(tc, extract_some_writes_only_kept_files);
    tcase_add_test(tc, release_root_both_layouts);
    suite_add_tcase(s, tc);
    return s;
}
