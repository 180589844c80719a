/* tarball.h - reproducible gzip'd tarballs (libarchive), and safe extraction of untrusted ones */
#ifndef KNIT_TARBALL_H
#define KNIT_TARBALL_H

#include <stdbool.h>
#include <stddef.h>

struct tarball_opts {
    bool force;      /* replace an existing PATH; otherwise refuse with KERR_IO */
    bool have_mtime; /* use MTIME for every entry (SOURCE_DATE_EPOCH) */
    long long mtime;
};

/* tarball_opts_from_env - force as given, mtime from SOURCE_DATE_EPOCH when it is set;
 * -1 with KERR_INPUT when SOURCE_DATE_EPOCH is not a non-negative integer */
int tarball_opts_from_env(struct tarball_opts *o, bool force);

/* tarball_pack - write a gzip'd tar of the files below ROOT to PATH. PATHS (NPATHS
 * entries, relative to ROOT; NULL for "everything below ROOT") name files or directories,
 * taken recursively. Entries carry no leading directory, are sorted by name, owned by 0/0
 * with no user/group names, keep their permission bits and symlinks, and have mtimes from
 * O->mtime when set: the same tree gives byte-identical output. Written beside PATH and
 * renamed into place; an existing PATH is kept (KERR_IO, "already exists") unless O->force.
 * Returns 0, or -1 with the error recorded and nothing at PATH changed. */
int tarball_pack(const char *path, const char *root, const char *const *paths, size_t npaths,
                 const struct tarball_opts *o);

/* A file of the tree that is not on disk below ROOT, packed from where it came from (a
 * release streamed straight from its sources: --tarball-only). NAME is relative to ROOT;
 * its directories are on disk. The entry gets permission bits MODE and the time of the run
 * (or O->mtime), as the copy a build dir would hold; the bytes are SRC's, or what TRANSFORM
 * (when not NULL) makes of them: a malloc'd image of *OUT_LEN bytes, NULL with the error
 * recorded. */
struct tarball_vfile {
    const char *name;
    const char *src;
    const void *data; /* SRC's bytes when the caller has them already (LEN), else NULL */
    size_t len;
    int mode;
    unsigned char *(*transform)(const char *src, const unsigned char *data, size_t len,
                                size_t *out_len);
};
/* tarball_pack_tree - tarball_pack of the tree ROOT plus the NV virtual files V (those
 * below one of PATHS when PATHS is not NULL); a file on disk wins over a virtual one of the
 * same name. The bytes are those tarball_pack gives for the tree with every virtual file
 * written out. */
int tarball_pack_tree(const char *path, const char *root, const char *const *paths,
                      size_t npaths, const struct tarball_vfile *v, size_t nv,
                      const struct tarball_opts *o);

/* tarball_extract - extract the untrusted gzip'd (or plain) tar PATH into the existing
 * empty directory DEST. Refused (KERR_INPUT naming the archive and the entry, and nothing
 * written outside DEST): absolute names, '..' components, entries other than regular
 * files, directories and symlinks, hard links, symlinks whose target is absolute or leaves
 * DEST, and any entry that would be written through a symlink. Returns 0 or -1. */
int tarball_extract(const char *path, const char *dest);
/* tarball_extract_some - the same, but each regular file goes where CHOOSE (called with
 * the entry's name and CTX) says: written (TARBALL_WRITE), left in the archive
 * (TARBALL_SKIP), or read into memory and handed to TAKE with its bytes, which TAKE must
 * copy (TARBALL_READ; within tarball_default_limits). Every
 * entry is checked all the same, and directories and symlinks are always made (so that a
 * later entry through a symlink is still seen and refused). TAKE returns 0, or -1 with an
 * error recorded to stop. */
enum tarball_choice { TARBALL_WRITE, TARBALL_SKIP, TARBALL_READ };
struct tarball_filter {
    enum tarball_choice (*choose)(const char *name, void *ctx);
    int (*take)(const char *name, const void *data, size_t len, void *ctx);
    void *ctx;
};
int tarball_extract_some(const char *path, const char *dest, const struct tarball_filter *f);

/* The caps on what an extraction takes, so that a small hostile archive cannot fill the
 * disk or the memory: the sum of the sizes of the files written or read (MAX_BYTES), the
 * size of one of them (MAX_ENTRY_BYTES), and the number of entries of the archive, skipped
 * ones included (MAX_ENTRIES). An archive over one is KERR_INPUT naming the cap and the
 * config option that raises it (extract_max_bytes, extract_max_entry_bytes,
 * extract_max_entries). The defaults are far above the largest real releases: an OTP
 * release with ERTS is about 100 MB and 10,000 entries unpacked, and knit takes from it only
 * releases/ and the ebin directories (a few tens of MB); the biggest single .beam files
 * (generated tables) are a few MB. */
struct tarball_limits {
    unsigned long long max_bytes, max_entry_bytes, max_entries;
};
#define TARBALL_MAX_BYTES (1ULL << 30)        /* 1 GiB */
#define TARBALL_MAX_ENTRY_BYTES (32ULL << 20) /* 32 MiB */
#define TARBALL_MAX_ENTRIES 1000000ULL
extern const struct tarball_limits tarball_default_limits;
/* tarball_extract_limited - tarball_extract_some with the caps LIM. Besides the checks of
 * tarball_extract: a gzip stream's CRC-32 and length trailers are checked for every member
 * (a damaged or truncated stream is KERR_INPUT), the archive must be a regular file, and
 * once every entry is made each symlink is resolved as the kernel will resolve it, through
 * the others: one that leads outside DEST, or loops, is refused. */
int tarball_extract_limited(const char *path, const char *dest, const struct tarball_filter *f,
                            const struct tarball_limits *lim);

/* tarball_release_root - the directory inside DEST holding the release: DEST itself when
 * DEST/releases exists, or DEST/NAME when the archive put everything under one NAME/
 * directory (as the original knit did). Returns a malloc'd path, or NULL (KERR_INPUT). */
char *tarball_release_root(const char *dest, const char *archive_name);

#endif
