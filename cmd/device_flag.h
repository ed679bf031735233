/* device_flag.h: the --device flag every compute subcommand shares (cpu or cuda), checked before any work. */
#pragma once
#include "nn/device.h"
#include "util/args.h"

/* The ArgSpec line for --device; name points at the flag's string (default "cpu"). */
#define DEVICE_ARG(name) {"device", ARG_STR, &(name), "DEV", "cpu or cuda (needs make CUDA=1 and a GPU)"}

/* `name` into *d: an unknown name is a usage error (exit 2 via args_usage_error); a device this
 * build or machine cannot run prints "rune CMD: why" and returns -1, so the command exits 1
 * before it reads or writes anything. */
int device_flag(const ArgCmd *cmd, const char *name, Device *d);
