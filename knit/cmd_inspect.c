/* cmd_inspect.c - `knit inspect FILE...` (placeholder until the beam reader lands) */
#include "cmd.h"
#include "kerr.h"

#include <stddef.h>

int cmd_inspect(struct knit_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return kerr_set(KERR_UNSUPPORTED, NULL, 0, 0, "inspect is not implemented yet");
}
