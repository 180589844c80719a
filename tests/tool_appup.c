/* tool_appup.c - test helper: generate one application's appup with appup_generate
 *
 * usage: tool_appup [--no-auto-depends] APP NEW_VSN NEW_EBIN OUT [FROM_VSN FROM_EBIN]...
 * Writes the appup to OUT as knit writes appups (term_print_file_terms), and
 * term_to_binary of it to OUT.etf (to compare with what file:consult reads). Exit 0, or the
 * error's class with "tool_appup: FILE: message" on stderr. Used by tests/t_appup.sh. */
#include "appup.h"
#include "buf.h"
#include "etf.h"
#include "fsutil.h"
#include "kerr.h"
#include "term_print.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct appup_opts o;
    appup_opts_init(&o);
    int i = 1;
    if (i < argc && !strcmp(argv[i], "--no-auto-depends")) {
        o.auto_depends = false;
        i++;
    }
    if (argc - i < 4 || (argc - i - 4) % 2 != 0) {
        fprintf(stderr, "usage: tool_appup [--no-auto-depends] APP NEW_VSN NEW_EBIN OUT "
                        "[FROM_VSN FROM_EBIN]...\n");
        return 1;
    }
    const char *app = argv[i], *vsn = argv[i + 1], *ebin = argv[i + 2], *out = argv[i + 3];
    size_t nfrom = (size_t)(argc - i - 4) / 2;
    struct appup_from from[64];
    if (nfrom > 64)
        return 1;
    for (size_t k = 0; k < nfrom; k++) {
        from[k] = (struct appup_from){argv[i + 4 + 2 * k], argv[i + 5 + 2 * k], NULL, 0};
    }
    struct arena a;
    arena_init(&a);
    struct appup_result r;
    int rc = appup_generate(&a, app, vsn, ebin, from, nfrom, &o, &r);
    if (rc == 0) {
        struct buf b = BUF_INIT;
        term_print_file_terms(&b, term_listv(&a, 1, r.appup));
        rc = fs_write_atomic(out, b.p, b.len, 0644);
        buf_reset(&b);
        etf_encode(&b, r.appup);
        if (rc == 0)
            rc = fs_write_atomic(arena_sprintf(&a, "%s.etf", out), b.p, b.len, 0644);
        buf_free(&b);
    }
    arena_close(&a);
    if (rc != 0) {
        char msg[4096];
        kerr_format(kerr_get(), msg, sizeof msg);
        fprintf(stderr, "tool_appup: %s\n", msg);
        return (int)kerr_get()->cls;
    }
    return 0;
}
