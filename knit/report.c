/* report.c - the machine report (--json): artifacts with size and sha256, terms as text */
#include "report.h"

#include "buf.h"
#include "kerr.h"
#include "term_print.h"
#include "utf8.h"

#include <openssl/evp.h>
#include <stdio.h>

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
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t mark = out->len;
    buf_addc(out, '"');
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
    buf_addc(out, '"');
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
