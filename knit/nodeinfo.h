/* nodeinfo.h - what a running node runs: releases, applications, each module's loaded code
 * against the beam on disk, old code and the processes holding it, and the pre-flight of a
 * code change (the processes brutal purges would kill, the hot patches it would undo)
 *
 * Each function is ONE node_eval call (plain OTP: release_handler, application, code,
 * erlang, beam_lib, file); results are terms decoded into structs in the caller's arena.
 *
 * Hot patches recorded by `knit patch` live in the node's application environment:
 * application:get_env(knit, patches) -> a list, newest first, of maps
 * #{id => "ID", time => UnixSeconds, modules => [Mod], md5 => [{Mod, <<MD5>>}], dir => "DIR"}
 * (NODEINFO_PATCH_APP / NODEINFO_PATCH_KEY). They last as long as the code in memory does.
 */
#ifndef KNIT_NODEINFO_H
#define KNIT_NODEINFO_H

#include "arena.h"
#include "node.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>

#define NODEINFO_PATCH_APP "knit"
#define NODEINFO_PATCH_KEY "patches"

/* A process on the node as status and the pre-flight name it. */
struct nodeinfo_proc {
    const char *pid;     /* "<0.123.0>" */
    const char *name;    /* registered name, or NULL */
    const char *initial; /* initial call "m:f/a" (proc_lib's translation) */
};

struct nodeinfo_release {
    const char *name, *vsn, *status; /* status: permanent, current, old, unpacked */
};

struct nodeinfo_app {
    const char *name, *vsn;
};

/* A module whose loaded code is not the beam of the release on disk. */
struct nodeinfo_mod {
    const char *module;
    const char *loaded_from; /* the file the loaded code came from ("" for load_binary) */
    const char *disk;        /* the release's beam (lib/APP-VSN/ebin/M.beam), or NULL */
    char loaded_md5[33];     /* hex */
    char disk_md5[33];       /* hex, "" when there is no beam on disk */
    const char *patch_id;    /* the knit patch that loaded it (md5 matches), or NULL */
};

/* A module with old code and the processes still running it. */
struct nodeinfo_old {
    const char *module;
    struct nodeinfo_proc *procs;
    size_t nprocs;
};

struct nodeinfo_patch {
    const char *id;
    long long time;
    const char **modules;
    size_t nmodules;
};

struct nodeinfo {
    const char *node;
    const char *otp, *erts;
    bool has_release_handler; /* false: the node was not started as a release */
    const char *root, *releases_dir;
    const char *rel_name, *rel_vsn; /* the current release (current, else permanent) */
    const char *rel_status;
    struct nodeinfo_release *rels;
    size_t nrels;
    struct nodeinfo_app *apps;
    size_t napps;
    long nmodules;               /* modules compared */
    struct nodeinfo_mod *patched; /* loaded from elsewhere than the release's beam */
    size_t npatched;
    struct nodeinfo_mod *changed; /* the beam at the loaded path changed since loading */
    size_t nchanged;
    struct nodeinfo_old *old;
    size_t nold;
    struct nodeinfo_patch *patches; /* recorded by knit patch */
    size_t npatches;
};

/* nodeinfo_get - everything above about the node of C in one call; 0, or -1 with the
 * error (KERR_NODE_DOWN / KERR_NODE_REFUSED) */
int nodeinfo_get(struct arena *a, struct node_conn *c, struct nodeinfo *out);

/* nodeinfo_summary - "shop@h: 1.1.0 (permanent) + 2 hot patches; old code in 1 module held
 * by 3 processes" (arena-owned) */
const char *nodeinfo_summary(struct arena *a, const struct nodeinfo *ni);

/* The pre-flight of a low-level script (relup instructions, or a patch's). */
struct nodeinfo_victim {
    const char *module; /* the module whose brutal purge kills it */
    bool old_code;      /* it runs the module's old code (the pre-purge), not the current */
    struct nodeinfo_proc proc;
};

struct nodeinfo_preflight {
    const char **brutal; /* modules the script purges brutally */
    size_t nbrutal;
    struct nodeinfo_victim *victims; /* processes those purges would kill */
    size_t nvictims;
    struct nodeinfo_mod *undone; /* hot patches the script replaces (NI's patched modules) */
    size_t nundone;
};

/* nodeinfo_preflight - for the low-level instruction list SCRIPT (as in a relup: load,
 * remove, purge, suspend, code_change ...): the processes that the brutal purges would
 * kill on the node of C - those executing (current function or on the stack) a module the
 * script loads or removes with brutal_purge, or purges, unless the script suspends them
 * and code-changes that module; and those running old code of a module purged brutally
 * before loading - and, from NI (nodeinfo_get of the same node, may be NULL), the hot
 * patches the script would undo: patched modules it loads or removes. One call; 0 or -1. */
int nodeinfo_preflight(struct arena *a, struct node_conn *c, const struct term *script,
                       const struct nodeinfo *ni, struct nodeinfo_preflight *out);

/* nodeinfo_relup_script - the instructions of ROOT/releases/TO/relup (RELDIR the node's
 * releases directory) that take FROM to TO (UP true) or, read from FROM's relup, back
 * from FROM to TO (UP false); read on the node. NULL with KERR_NODE_REFUSED when there is
 * no such entry. */
const struct term *nodeinfo_relup_script(struct arena *a, struct node_conn *c, const char *reldir,
                                         const char *from, const char *to, bool up);

/* nodeinfo_proc_text - "<0.1.0> (name, m:f/a)" for messages (arena-owned) */
const char *nodeinfo_proc_text(struct arena *a, const struct nodeinfo_proc *p);

#endif
