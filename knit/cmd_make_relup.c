/* cmd_make_relup.c - `knit make-relup` (placeholder until it lands) */
#include "cmd.h"
#include "kerr.h"

#include <stddef.h>

int cmd_make_relup(struct knit_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return kerr_set(KERR_UNSUPPORTED, NULL, 0, 0, "make-relup is not implemented yet");
}
