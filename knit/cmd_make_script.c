/* cmd_make_script.c - `knit make-script` (placeholder until it lands) */
#include "cmd.h"
#include "kerr.h"

#include <stddef.h>

int cmd_make_script(struct knit_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return kerr_set(KERR_UNSUPPORTED, NULL, 0, 0, "make-script is not implemented yet");
}
