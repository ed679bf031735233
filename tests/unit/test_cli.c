/* test_cli.c: the rune command line — help for every subcommand, usage errors exit 2, version. */
#include <string.h>

#include "cmd/commands.h"
#include "tests/rune_exec.h"
#include "tests/test.h"

static const char *const names[] = {
#define NAME(id, name, help) name,
    RUNE_COMMANDS(NAME)
#undef NAME
};

TEST(cli_help_lists_every_command_and_version) {
    static char out[16384];
    EXPECT(rune_exec("--help", out, sizeof out) == 0, "--help exits 0");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        EXPECT(strstr(out, names[i]) != NULL, "--help lists %s", names[i]);
    EXPECT(rune_exec("--version", out, sizeof out) == 0 && strstr(out, RUNE_VERSION), "--version: %s", out);
    EXPECT(rune_exec("", out, sizeof out) == 2, "no command is a usage error");
    EXPECT(rune_exec("frobnicate", out, sizeof out) == 2 && strstr(out, "unknown command"), "unknown command: %s", out);
}

TEST(cli_every_command_documents_its_flags) {
    static char out[16384], args[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(args, sizeof args, "%s --help", names[i]);
        int rc = rune_exec(args, out, sizeof out);
        EXPECT(rc == 0, "%s --help exits %d: %s", names[i], rc, out);
        EXPECT(strstr(out, "usage: rune") && strstr(out, "--help"), "%s --help prints usage and flags", names[i]);
        snprintf(args, sizeof args, "%s --no-such-flag", names[i]);
        rc = rune_exec(args, out, sizeof out);
        EXPECT(rc == 2 && strstr(out, "unknown option"), "%s with a bad flag exits %d: %s", names[i], rc, out);
    }
}

#ifdef RUNE_CUDA
#include "nn/cuda/cuda.h"
#endif

/* --device is checked before any file is touched (the paths below do not exist): cuda in a build
 * or on a machine without it is exit 1 with the reason, an unknown device a usage error. */
TEST(cli_device_flag_is_checked_before_any_work) {
#ifdef RUNE_CUDA
    if (cuda_available()) SKIP("a GPU is here: --device cuda would run (tests/unit/test_cuda_commands.c)");
#endif
    static const char *const cmds[] = {
        "train-sr --data nx --out nx.h5",
        "finetune-asr --sr nx.h5 --task nx.h5 --data nx --out nx.h5",
        "train-task --data nx",
        "eval --task nx.h5 --data nx --out nx",
        "upscale --model nx.h5 nx.png nx2.png",
        "segment --model nx.h5 nx.png nx2.png",
        "detect --model nx.cfg nx.png",
    };
    static char out[8192], args[512];
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        snprintf(args, sizeof args, "%s --device cuda", cmds[i]);
        int rc = rune_exec(args, out, sizeof out);
        EXPECT(rc == 1 && strstr(out, "device cuda:") && !strstr(out, "nx"), "%s: exit %d: %s", cmds[i], rc, out);
#ifndef RUNE_CUDA
        EXPECT(strstr(out, "this build has no cuda backend (rebuild with make CUDA=1)"), "%s: %s", cmds[i], out);
#endif
        snprintf(args, sizeof args, "%s --device bogus", cmds[i]);
        rc = rune_exec(args, out, sizeof out);
        EXPECT(rc == 2 && strstr(out, "unknown device 'bogus'") && strstr(out, "usage: rune"), "%s: exit %d: %s",
               cmds[i], rc, out);
    }
}
