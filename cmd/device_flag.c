/* device_flag.c: parsing and checking --device for the subcommands (cmd/device_flag.h). */
#include "cmd/device_flag.h"

#include <stdio.h>

#include "nn/backend.h"
#include "nn/dist.h"
#include "util/err.h"

int device_flag(const ArgCmd *cmd, const char *name, Device *d) {
    if (device_parse(name, d) < 0) args_usage_error(cmd, "%s", rn_errmsg());
    dist_bind_device(*d); /* one GPU per rank under mpirun with NCCL: before anything touches the device */
    if (device_ready(*d) < 0) {
        fprintf(stderr, "rune %s: %s\n", cmd->name, rn_errmsg());
        return -1;
    }
    return 0;
}
