/* cmd_release.c - `knit release` (placeholder until it lands) */
#include "cmd.h"
#include "kerr.h"

#include <stddef.h>

int cmd_release(struct knit_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return kerr_set(KERR_UNSUPPORTED, NULL, 0, 0, "release is not implemented yet");
}
