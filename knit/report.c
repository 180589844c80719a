/* report.c - the machine report (--json): artifacts with size and sha256, terms as text */
#include "report.h"

#include "buf.h"
#include "flow.h"
#include "kerr.h"
#include "log.h"
#include "term_print.h"
#include "utf8.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

int report_sha256_file(const char *path, char hex[65], long long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kerr_errno(path, "cannot open");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    long long total = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        kerr_set(KERR_IO, path, 0, 0, "cannot start a SHA-256 digest");
        goto done;
    }
    unsigned char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        EVP_DigestUpdate(ctx, chunk, n);
        total += (long long)n;
    }
    if (ferror(f)) {
        kerr_errno(path, "cannot read");
        goto done;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = 0;
    if (size)
        *size = total;
    rc = 0;
done:
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return rc;
}

json_t *report_artifact(const char *kind, const char *path)
{
    char hex[65];
    long long size;
    if (report_sha256_file(path, hex, &size) != 0)
        return NULL;
    return json_pack("{s:s, s:s, s:I, s:s}", "kind", kind, "path", path, "size", (json_int_t)size,
                     "sha256", hex);
}

json_t *report_term(const struct term *t)
{
    struct buf b = BUF_INIT;
    term_print_line(&b, t);
    json_t *j = json_stringn(buf_cstr(&b), b.len);
    buf_free(&b);
    return j ? j : json_string("");
}

int report_print(json_t *doc)
{
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ? -1 : 0;
    json_decref(doc);
    if (rc == 0 && fputc('\n', stdout) == EOF)
        rc = -1;
    if (rc != 0)
        return kerr_errno("<stdout>", "cannot write the report");
    return 0;
}

int report_json_string(struct buf *out, const char *s, size_t len)
{
    size_t mark = out->len;
    buf_addc(out, '"');
    if (report_json_chars(out, s, len) != 0) {
        out->len = mark;
        out->p[mark] = 0;
        return -1;
    }
    buf_addc(out, '"');
    return 0;
}

int report_json_chars(struct buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t mark = out->len;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
            p++;
        buf_add(out, run, (size_t)(p - run));
        if (p == end)
            break;
        unsigned c = *p;
        if (c >= 0x80) {
            size_t k;
            utf8_decode(p, (size_t)(end - p), &k);
            if (k == 0) {
                out->len = mark;
                if (out->p)
                    out->p[mark] = 0;
                return -1;
            }
            buf_add(out, p, k);
            p += k;
            continue;
        }
        static const char esc[] = "btn?fr";
        if (c == '"' || c == '\\')
            buf_addc(out, '\\'), buf_addc(out, (char)c);
        else if (c >= '\b' && c <= '\r' && c != '\v')
            buf_addc(out, '\\'), buf_addc(out, esc[c - '\b']);
        else
            buf_addf(out, "\\u%04X", c);
        p++;
    }
    return 0;
}

void report_json_term(struct buf *out, const struct term *t)
{
    struct buf b = BUF_INIT;
    term_print_line(&b, t);
    if (report_json_string(out, buf_cstr(&b), b.len) != 0)
        buf_adds(out, "\"\""); /* printed terms are UTF-8: not reached */
    buf_free(&b);
}

static json_t *str_list(const char *const *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(v[i]));
    return arr;
}

/* module_changes - the per-module part of one generated appup's upgrade from a version */
static void module_changes(json_t *o, const struct appup_report *rep)
{
    json_t *added = json_array(), *deleted = json_array(), *changed = json_array();
    json_t *mods = json_array();
    for (size_t m = 0; m < rep->nmods; m++) {
        const struct appup_module *mod = &rep->mods[m];
        json_array_append_new(mod->action == APPUP_ADDED     ? added
                              : mod->action == APPUP_DELETED ? deleted
                                                             : changed,
                              json_string(mod->name));
        json_t *mj = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "module", mod->name, "kind",
                               mod->kind, "up", report_term(mod->up), "down",
                               report_term(mod->down), "inferred_depends",
                               str_list(mod->inferred, mod->ninferred), "dropped_depends",
                               str_list(mod->dropped, mod->ndropped));
        if (mod->applies)
            json_object_set_new(mj, "applies", report_term(mod->applies));
        json_array_append_new(mods, mj);
    }
    json_object_set_new(o, "added", added);
    json_object_set_new(o, "deleted", deleted);
    json_object_set_new(o, "changed", changed);
    json_object_set_new(o, "modules", mods);
    json_object_set_new(o, "up", report_term(rep->up));
    json_object_set_new(o, "down", report_term(rep->down));
}

/* upgrades - per earlier release: per application, the module changes */
static json_t *upgrades(const struct flow *f)
{
    json_t *ups = json_array();
    for (size_t j = 0; j < f->nfrom; j++) {
        json_t *apps = json_array();
        for (size_t i = 0; i < f->napps; i++) {
            const struct flow_app *fa = &f->apps[i];
            const char *old = flow_from_app_vsn(f, j, fa->name);
            if (!old || !strcmp(old, fa->vsn))
                continue;
            json_t *o =
                json_pack("{s:s, s:s, s:s, s:s}", "app", fa->name, "from_vsn", old, "to_vsn",
                          fa->vsn, "appup", fa->generated ? "generated" : "hand-written");
            const struct appup_report *rep = NULL;
            for (size_t r = 0; fa->generated && r < fa->res.nreports; r++)
                if (!strcmp(fa->res.reports[r].from_vsn, old))
                    rep = &fa->res.reports[r];
            if (rep)
                module_changes(o, rep);
            else
                json_object_set_new(o, "instructions", report_term(fa->appup));
            json_array_append_new(apps, o);
        }
        json_array_append_new(ups, json_pack("{s:s, s:b, s:o}", "from", f->from[j].vsn, "skipped",
                                             f->skip[j], "apps", apps));
    }
    return ups;
}

static const char *const mode_names[] = {"release", "all", "appup", "relup"};

static int add_artifact(json_t *arts, const char *kind, const char *path)
{
    json_t *j = report_artifact(kind, path);
    if (!j)
        return -1;
    json_array_append_new(arts, j);
    return 0;
}

/* artifacts - what the run left at final paths, in the order it made them */
static int artifacts(const struct flow *f, json_t *arts)
{
    for (size_t i = 0; i < f->nstages; i++)
        if (f->stages[i].committed && !strcmp(f->stages[i].kind, "release_tarball") &&
            add_artifact(arts, "release_tarball", f->stages[i].path) != 0)
            return -1;
    if (f->mode == FLOW_APPUP && f->done >= FLOW_DONE_APPUPS)
        for (size_t i = 0; i < f->napps; i++)
            if (add_artifact(arts, "appup", f->apps[i].appup_path) != 0)
                return -1;
    /* a streamed build's relup is only in the upgrade tarball: its staging dir is gone */
    if (f->relup && !f->res.streamed && add_artifact(arts, "relup", f->relup) != 0)
        return -1;
    for (size_t i = 0; i < f->nstages; i++)
        if (f->stages[i].committed && !strcmp(f->stages[i].kind, "upgrade_tarball") &&
            add_artifact(arts, "upgrade_tarball", f->stages[i].path) != 0)
            return -1;
    return 0;
}

int report_flow(const struct flow *f, const struct kerr *err)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "command", json_string(mode_names[f->mode]));
    if (f->done >= FLOW_DONE_BUILT) {
        struct arena a;
        arena_init(&a);
        json_t *apps = json_object();
        size_t n;
        const struct term *const *el = term_list_els(f->res.rel->u.tuple.el[3], &n);
        for (size_t i = 0; i < n; i++)
            json_object_set_new(apps, el[i]->u.tuple.el[0]->u.atom.name,
                                json_string(term_text(&a, el[i]->u.tuple.el[1])));
        arena_close(&a);
        json_object_set_new(doc, "release",
                            json_pack("{s:s, s:s, s:s, s:s?, s:o}", "name", f->res.rel_name, "vsn",
                                      f->res.rel_vsn, "erts_vsn", f->res.erts_vsn, "build_dir",
                                      f->res.streamed ? NULL : f->res.build_dir, "apps", apps));
    } else {
        json_object_set_new(doc, "release", json_null());
    }
    json_t *arts = json_array();
    json_object_set_new(doc, "artifacts", arts);
    if (artifacts(f, arts) != 0 && !err) {
        json_decref(doc);
        return -1;
    }
    if (f->mode != FLOW_RELEASE) {
        json_object_set_new(doc, "upgrades", upgrades(f));
        json_t *skipped = json_array();
        for (size_t j = 0; j < f->nexcluded; j++)
            if (!f->excluded[j].later)
                json_array_append_new(skipped, json_pack("{s:s, s:s}", "from", f->excluded[j].vsn,
                                                     "reason", f->excluded[j].why));
        for (size_t j = 0; j < f->nfrom; j++)
            if (f->skip[j])
                json_array_append_new(skipped, json_pack("{s:s, s:s}", "from", f->from[j].vsn,
                                                         "reason", f->skip_why[j]));
        json_object_set_new(doc, "skipped", skipped);
    }
    size_t nw;
    const char *const *w = log_warnings(&nw);
    json_object_set_new(doc, "warnings", str_list(w, nw));
    if (err) {
        char msg[4096];
        struct kerr e = *err;
        e.file[0] = 0; /* the message alone; the file is its own field */
        e.line = e.col = 0;
        kerr_format(&e, msg, sizeof msg);
        json_t *eo = json_pack("{s:s, s:s?, s:i, s:i}", "message", msg, "file",
                               err->file[0] ? err->file : NULL, "line", err->line, "exit_code",
                               err->cls ? (int)err->cls : KERR_BUILD);
        if (!err->line)
            json_object_set_new(eo, "line", json_null());
        json_object_set_new(doc, "error", eo);
    }
    return report_print(doc);
}
