/* lazylib.c - libarchive, libcrypto and libisal, loaded the first time a command uses them.
 *
 * Linked the usual way, libarchive brings libxml2, ICU, libstdc++ and seven compression
 * libraries into every run: 14 ms of relocation and 3.7 MB of resident memory before main,
 * for commands (make-relup, check, status, ...) that never open an archive. knit is not
 * linked against these libraries; the functions it calls are defined here, with the
 * libraries' own prototypes, and each resolves its real counterpart with dlopen/dlsym on
 * its first call. The library names are the sonames of the headers compiled against. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#if ARCHIVE_VERSION_NUMBER < 3000000
#error "libarchive 3 expected (soname libarchive.so.13)"
#endif
#if OPENSSL_VERSION_MAJOR != 3
#error "OpenSSL 3 expected (soname libcrypto.so.3)"
#endif

struct lib {
    const char *soname;
    const char *package; /* the Debian package that installs it, for the message */
    pthread_once_t once;
    void *handle;
};

static struct lib archive_lib = {"libarchive.so.13", "libarchive13", PTHREAD_ONCE_INIT, NULL};
static struct lib crypto_lib = {"libcrypto.so.3", "libssl3", PTHREAD_ONCE_INIT, NULL};
static struct lib isal_lib = {"libisal.so.2", "libisal2", PTHREAD_ONCE_INIT, NULL};

static void open_archive(void)
{
    archive_lib.handle = dlopen(archive_lib.soname, RTLD_NOW | RTLD_LOCAL);
}

static void open_crypto(void)
{
    crypto_lib.handle = dlopen(crypto_lib.soname, RTLD_NOW | RTLD_LOCAL);
}

static void open_isal(void)
{
    isal_lib.handle = dlopen(isal_lib.soname, RTLD_NOW | RTLD_LOCAL);
}

/* missing - the library or one of its functions cannot be had: knit's installation is
 * broken, and no command can go on without it */
static _Noreturn void missing(const struct lib *l, const char *what)
{
    const char *why = dlerror();
    fprintf(stderr, "knit: cannot load %s from %s: %s (is the package %s installed?)\n", what,
            l->soname, why ? why : "unknown error", l->package);
    exit(3);
}

static void *lib_sym(struct lib *l, void (*open)(void), const char *name)
{
    pthread_once(&l->once, open);
    if (!l->handle)
        missing(l, "the library");
    void *p = dlsym(l->handle, name);
    if (!p)
        missing(l, name);
    return p;
}

/* FN_T(name) - the type of a pointer to NAME, from its declaration in the library header */
#define FN_T(name) __typeof__(&name)

/* resolve - the real NAME of library LIB, looked up once per process */
#define RESOLVE(lib, open, name)                                                                   \
    static FN_T(name) real;                                                                        \
    FN_T(name) fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);                                      \
    if (!fn) {                                                                                     \
        fn = (FN_T(name))lib_sym(&lib, open, #name);                                               \
        __atomic_store_n(&real, fn, __ATOMIC_RELEASE);                                             \
    }

/* LAZY(L, ...) - the function NAME of library L (archive, crypto, isal), calling its real
 * counterpart; LAZY_VOID for those that return nothing */
#define LAZY(l, ret, name, params, args)                                                           \
    ret name params                                                                                \
    {                                                                                              \
        RESOLVE(l##_lib, open_##l, name)                                                           \
        return fn args;                                                                            \
    }
#define LAZY_VOID(l, name, params, args)                                                           \
    void name params                                                                               \
    {                                                                                              \
        RESOLVE(l##_lib, open_##l, name)                                                           \
        fn args;                                                                                   \
    }

/* reading */
LAZY(archive, struct archive *, archive_read_new, (void), ())
LAZY(archive, int, archive_read_free, (struct archive * a), (a))
LAZY(archive, int, archive_read_support_format_tar, (struct archive * a), (a))
LAZY(archive, int, archive_read_support_format_gnutar, (struct archive * a), (a))
LAZY(archive, int, archive_read_support_filter_none, (struct archive * a), (a))
LAZY(archive, int, archive_read_open,
     (struct archive * a, void *d, archive_open_callback *o, archive_read_callback *r,
      archive_close_callback *c),
     (a, d, o, r, c))
LAZY(archive, int, archive_read_next_header, (struct archive * a, struct archive_entry **e), (a, e))
LAZY(archive, int, archive_read_data_block,
     (struct archive * a, const void **buff, size_t *size, la_int64_t *offset),
     (a, buff, size, offset))
LAZY(archive, la_ssize_t, archive_read_data, (struct archive * a, void *p, size_t n), (a, p, n))

/* writing, to a stream and to disk */
LAZY(archive, struct archive *, archive_write_new, (void), ())
LAZY(archive, int, archive_write_free, (struct archive * a), (a))
LAZY(archive, int, archive_write_close, (struct archive * a), (a))
LAZY(archive, int, archive_write_set_format_pax_restricted, (struct archive * a), (a))
LAZY(archive, int, archive_write_add_filter_none, (struct archive * a), (a))
LAZY(archive, int, archive_write_set_bytes_in_last_block, (struct archive * a, int n), (a, n))
LAZY(archive, int, archive_write_open,
     (struct archive * a, void *d, archive_open_callback *o, archive_write_callback *w,
      archive_close_callback *c),
     (a, d, o, w, c))
LAZY(archive, int, archive_write_header, (struct archive * a, struct archive_entry *e), (a, e))
LAZY(archive, la_ssize_t, archive_write_data, (struct archive * a, const void *p, size_t n),
     (a, p, n))
LAZY(archive, la_ssize_t, archive_write_data_block,
     (struct archive * a, const void *p, size_t n, la_int64_t offset), (a, p, n, offset))
LAZY(archive, int, archive_write_finish_entry, (struct archive * a), (a))
LAZY(archive, struct archive *, archive_write_disk_new, (void), ())
LAZY(archive, int, archive_write_disk_set_options, (struct archive * a, int flags), (a, flags))

/* errors */
LAZY(archive, const char *, archive_error_string, (struct archive * a), (a))
LAZY(archive, int, archive_errno, (struct archive * a), (a))

/* the variadic one formats here and hands the library the finished text */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
    RESOLVE(archive_lib, open_archive, archive_set_error)
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fn(a, err, "%s", text);
}

/* entries */
LAZY(archive, struct archive_entry *, archive_entry_new, (void), ())
LAZY_VOID(archive, archive_entry_free, (struct archive_entry * e), (e))
LAZY(archive, struct archive_entry *, archive_entry_clear, (struct archive_entry * e), (e))
LAZY(archive, const char *, archive_entry_pathname, (struct archive_entry * e), (e))
LAZY(archive, const char *, archive_entry_symlink, (struct archive_entry * e), (e))
LAZY(archive, const char *, archive_entry_hardlink, (struct archive_entry * e), (e))
LAZY(archive, la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
LAZY(archive, __LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
LAZY_VOID(archive, archive_entry_set_pathname, (struct archive_entry * e, const char *s), (e, s))
LAZY_VOID(archive, archive_entry_set_symlink, (struct archive_entry * e, const char *s), (e, s))
LAZY_VOID(archive, archive_entry_set_size, (struct archive_entry * e, la_int64_t n), (e, n))
LAZY_VOID(archive, archive_entry_set_filetype, (struct archive_entry * e, unsigned int t), (e, t))
LAZY_VOID(archive, archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T m), (e, m))
LAZY_VOID(archive, archive_entry_set_mtime, (struct archive_entry * e, time_t t, long ns),
          (e, t, ns))
LAZY_VOID(archive, archive_entry_set_uid, (struct archive_entry * e, la_int64_t id), (e, id))
LAZY_VOID(archive, archive_entry_set_gid, (struct archive_entry * e, la_int64_t id), (e, id))
LAZY_VOID(archive, archive_entry_set_uname, (struct archive_entry * e, const char *s), (e, s))
LAZY_VOID(archive, archive_entry_set_gname, (struct archive_entry * e, const char *s), (e, s))

/* digests (MD5 of beams and handshakes, SHA-256 of tarballs) */
LAZY(crypto, EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
LAZY_VOID(crypto, EVP_MD_CTX_free, (EVP_MD_CTX * c), (c))
LAZY(crypto, const EVP_MD *, EVP_md5, (void), ())
LAZY(crypto, EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX * x, const char *alg, const char *props),
     (x, alg, props))
LAZY(crypto, const EVP_MD *, EVP_sha256, (void), ())
LAZY(crypto, int, EVP_DigestInit_ex, (EVP_MD_CTX * c, const EVP_MD *t, ENGINE *e), (c, t, e))
LAZY(crypto, int, EVP_DigestUpdate, (EVP_MD_CTX * c, const void *d, size_t n), (c, d, n))
LAZY(crypto, int, EVP_DigestFinal_ex, (EVP_MD_CTX * c, unsigned char *md, unsigned int *n),
     (c, md, n))

/* deflate (tarballs written) */
LAZY_VOID(isal, isal_deflate_init, (struct isal_zstream * s), (s))
LAZY(isal, int, isal_deflate_set_dict, (struct isal_zstream * s, uint8_t *dict, uint32_t len),
     (s, dict, len))
LAZY(isal, int, isal_deflate, (struct isal_zstream * s), (s))

/* inflate (earlier releases' tarballs) */
LAZY_VOID(isal, isal_inflate_init, (struct inflate_state * s), (s))
LAZY(isal, int, isal_inflate, (struct inflate_state * s), (s))
