/* flow.h - the build engine behind `knit`, `knit release`, `knit appup` and `knit relup`:
 * config -> release -> earlier releases -> appups -> relup -> upgrade tarball -> commit.
 *
 * One function per phase (flow_run calls them in order), so a check or a lock plugs in
 * between two phases. Artifacts a user keeps (the release and upgrade tarballs) are
 * written beside their final paths and renamed into place only in flow_commit, once every
 * other phase has succeeded: a failed run leaves no new artifact and nothing that makes
 * the next identical run fail. */
#ifndef KNIT_FLOW_H
#define KNIT_FLOW_H

#include "appup.h"
#include "arena.h"
#include "cfg.h"
#include "guard.h"
#include "release.h"
#include "relfile.h"
#include "target.h"
#include "upgrade.h"

#include <stdbool.h>
#include <stddef.h>

enum flow_mode { FLOW_RELEASE, FLOW_ALL, FLOW_APPUP, FLOW_RELUP };

/* What one application's upgrade holds: its appup and where it came from. */
struct flow_app {
    const char *name, *vsn;
    const char *appup_path; /* in the build dir */
    const char *appup_src;  /* the hand-written appup the user edits, or NULL */
    const struct term *appup;
    bool generated;
    struct appup_result res; /* when generated */
};

/* A tarball written beside its final path, renamed by flow_commit. */
struct flow_stage {
    const char *kind;  /* "release_tarball", "upgrade_tarball" */
    const char *path;  /* the final path */
    const char *stage; /* where it was written */
    bool committed;
};

/* The phases, in order; f->done records the last one that completed. */
enum flow_phase {
    FLOW_DONE_NONE,
    FLOW_DONE_CONFIG,   /* reltool.config read */
    FLOW_DONE_BUILT,    /* build dir written, release tarball staged */
    FLOW_DONE_EARLIER,  /* earlier releases found and extracted */
    FLOW_DONE_APPUPS,   /* appups generated or read */
    FLOW_DONE_RELUP,    /* relup written */
    FLOW_DONE_PACKED,   /* upgrade tarball staged */
    FLOW_DONE_COMMITTED /* tarballs renamed into place */
};

/* One run of the engine. Everything lives in A. */
struct flow {
    enum flow_mode mode;
    struct arena *a;
    /* inputs */
    const char *reltool_config; /* -r, or NULL */
    char **overrides;           /* name=value arguments */
    size_t noverrides;
    bool force_arg;                /* -f */
    bool wait;                     /* --wait: for another run's lock on the project */
    bool tarball_only;             /* --tarball-only: no build dir (as {build_dir, false}) */
    struct guard guard;            /* the run's lock and tmp dir (guard.h) */
    const char *const *from_args; /* --from versions */
    size_t nfrom_args;
    /* state, filled phase by phase */
    enum flow_phase done;
    struct cfg cfg;
    bool cfg_loaded;
    bool force;
    struct release rel;
    struct target_result res;
    struct relfile_rel new_rel;
    struct upgrade_from *from;
    size_t nfrom;
    struct upgrade_excluded *excluded; /* release tarballs found but not upgraded from */
    size_t nexcluded;
    bool *skip; /* per from-release */
    const char **skip_why;
    struct flow_app *apps;
    size_t napps;
    size_t nup;         /* from-releases the relup covers */
    const char *relup;  /* the relup written, or NULL */
    struct flow_stage stages[2];
    size_t nstages;
};

/* flow_init - an engine for MODE with its arena A; fill the inputs, then call flow_run */
void flow_init(struct flow *f, enum flow_mode mode, struct arena *a);

/* The phases (flow_run calls them in order; each returns 0 or -1 with the error recorded). */
int flow_load_config(struct flow *f);
int flow_build_release(struct flow *f);
int flow_find_earlier(struct flow *f);
int flow_make_appups(struct flow *f);
int flow_make_relup(struct flow *f);
int flow_pack_upgrade(struct flow *f);
int flow_commit(struct flow *f);

/* flow_run - every phase MODE needs, then flow_finish. Returns 0 or -1 (error recorded;
 * what was done is in F for the report). */
int flow_run(struct flow *f);
/* flow_finish - remove the earlier build dir, staged tarballs that were not committed and
 * (remove_tmp) the tmp dir; keeps the recorded error. Returns -1 only when OK was 0 and the
 * tmp dir could not be removed. */
int flow_finish(struct flow *f, int ok);

/* flow_from_app_vsn - the version of APP in earlier release J, or NULL */
const char *flow_from_app_vsn(const struct flow *f, size_t j, const char *app);

#endif
