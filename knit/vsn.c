/* vsn.c - release version ordering (knit's semver rules) and VCS-derived versions */
#include "vsn.h"

#include "kerr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one dot-separated part: [digits][-tail] or text */
struct part {
    const char *s;
    size_t len;
    bool numeric;
    const char *num; /* digits without leading zeros */
    size_t numlen;
    const char *tail; /* after '-' (NULL when none), without a describe suffix */
    size_t taillen;
    bool post;           /* a describe suffix: commits after a tag */
    unsigned long long distance; /* its commit count */
};

/* describe_suffix - the length of a `git describe` suffix "N-gHEX" (or hg's "N-mHEX", see
 * vcs_version) at the end of S (LEN bytes), preceded by nothing or by '-' within S; 0 when
 * there is none. Sets *N to the commit count. */
static size_t describe_suffix(const char *s, size_t len, unsigned long long *n)
{
    size_t h = len;
    while (h > 0 && isxdigit((unsigned char)s[h - 1]))
        h--;
    if (len - h < 4 || h < 3 || (s[h - 1] != 'g' && s[h - 1] != 'm') || s[h - 2] != '-')
        return 0;
    size_t d = h - 2;
    while (d > 0 && isdigit((unsigned char)s[d - 1]))
        d--;
    if (d == h - 2 || (d > 0 && s[d - 1] != '-') || h - 2 - d > 18)
        return 0;
    *n = strtoull(s + d, NULL, 10);
    return len - d;
}

static void split_part(const char *s, size_t len, struct part *p)
{
    memset(p, 0, sizeof *p);
    p->s = s;
    p->len = len;
    size_t d = 0;
    while (d < len && isdigit((unsigned char)s[d]))
        d++;
    if (d == 0 || (d < len && s[d] != '-'))
        return;
    p->numeric = true;
    p->num = s;
    p->numlen = d;
    while (p->numlen > 1 && p->num[0] == '0') {
        p->num++;
        p->numlen--;
    }
    if (d < len) {
        p->tail = s + d + 1;
        p->taillen = len - d - 1;
        /* "0-3-gabc1234" is 3 commits after tag ...0, not a pre-release of it */
        size_t k = describe_suffix(p->tail, p->taillen, &p->distance);
        if (k) {
            p->post = true;
            p->taillen -= k;
            if (p->taillen == 0)
                p->tail = NULL;
            else
                p->taillen--; /* the '-' before the suffix */
        }
    }
}

static int cmp_mem(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

static int cmp_part(const struct part *a, const struct part *b)
{
    if (a->numeric != b->numeric)
        return a->numeric ? -1 : 1;
    if (!a->numeric)
        return cmp_mem(a->s, a->len, b->s, b->len);
    if (a->numlen != b->numlen)
        return a->numlen < b->numlen ? -1 : 1;
    int c = memcmp(a->num, b->num, a->numlen);
    if (c)
        return c < 0 ? -1 : 1;
    if (!a->tail != !b->tail)
        return a->tail ? -1 : 1; /* 1.0.0-rc1 < 1.0.0 */
    if (a->tail) {
        c = cmp_mem(a->tail, a->taillen, b->tail, b->taillen);
        if (c)
            return c;
    }
    return 0;
}

/* cmp_post - the describe suffixes of two parts equal by cmp_part: 1.0.0 < 1.0.0-1-gabc1234 */
static int cmp_post(const struct part *a, const struct part *b)
{
    if (a->post != b->post)
        return a->post ? 1 : -1;
    if (a->distance != b->distance)
        return a->distance < b->distance ? -1 : 1;
    return 0;
}

int vsn_compare(const char *a, const char *b, bool semver)
{
    if (!semver) {
        int c = strcmp(a, b);
        return c < 0 ? -1 : c > 0;
    }
    if (a[0] == 'v')
        a++;
    if (b[0] == 'v')
        b++;
    int post = 0; /* commits after a tag only decide between equal tagged versions */
    for (;;) {
        size_t an = strcspn(a, "."), bn = strcspn(b, ".");
        struct part pa, pb;
        split_part(a, an, &pa);
        split_part(b, bn, &pb);
        int c = cmp_part(&pa, &pb);
        if (c)
            return c;
        if (!post)
            post = cmp_post(&pa, &pb);
        bool amore = a[an] == '.', bmore = b[bn] == '.';
        if (!amore || !bmore)
            return amore != bmore ? amore - bmore : post;
        a += an + 1;
        b += bn + 1;
    }
}

void vsn_sort(const char **v, size_t n, bool semver)
{
    /* insertion sort keeps it reentrant and stable; version lists are short */
    for (size_t i = 1; i < n; i++) {
        const char *x = v[i];
        size_t j = i;
        while (j > 0 && vsn_compare(v[j - 1], x, semver) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

bool vcs_is_vcs(const char *name)
{
    static const char *known[] = {"git", "hg", "bzr", "svn", "fossil"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i]) == 0)
            return true;
    return false;
}

char *vcs_version(const char *vcs, const char *dir)
{
    const char *cmd = !strcmp(vcs, "git")      ? "git describe --always --tags"
                      : !strcmp(vcs, "hg")
                          ? "hg log -r . --template "
                            "\"{latesttag}{ifeq(latesttagdistance, 0, '', "
                            "'-{latesttagdistance}-m{node|short}')}\""
                      : !strcmp(vcs, "bzr")    ? "bzr revno"
                      : !strcmp(vcs, "svn")    ? "svnversion"
                      : !strcmp(vcs, "fossil") ? "fossil info"
                                               : NULL;
    if (!cmd) {
        kerr_set(KERR_INPUT, NULL, 0, 0, "'%s' is not a version control system", vcs);
        return NULL;
    }
    char line[8192];
    snprintf(line, sizeof line, "cd '%s' 2>/dev/null && %s 2>/dev/null", dir, cmd);
    FILE *p = popen(line, "r");
    if (!p) {
        kerr_errno(dir, "cannot run a version control command");
        return NULL;
    }
    char out[4096] = "", buf[1024];
    size_t n = 0;
    while (fgets(buf, sizeof buf, p)) {
        if (!strcmp(vcs, "fossil")) {
            /* "checkout:     HASH DATE" */
            if (strncmp(buf, "checkout:", 9) == 0) {
                char hash[128];
                if (sscanf(buf + 9, " %127s", hash) == 1)
                    n = (size_t)snprintf(out, sizeof out, "%s", hash);
            }
        } else if (n == 0) {
            n = (size_t)snprintf(out, sizeof out, "%s", buf);
        }
    }
    int status = pclose(p);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        out[--n] = 0;
    if (status != 0 || n == 0) {
        kerr_set(KERR_INPUT, dir, 0, 0, "cannot take the release version from %s: '%s' failed", vcs,
                 cmd);
        return NULL;
    }
    char *r = strdup(out);
    if (!r)
        abort();
    return r;
}
