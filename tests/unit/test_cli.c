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

TEST(cli_every_built_command_documents_its_flags) {
    static char out[16384], args[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(args, sizeof args, "%s --help", names[i]);
        int rc = rune_exec(args, out, sizeof out);
        if (rc == 2 && strstr(out, "not built yet")) continue; /* announced as such by rune --help */
        EXPECT(rc == 0, "%s --help exits %d: %s", names[i], rc, out);
        EXPECT(strstr(out, "usage: rune") && strstr(out, "--help"), "%s --help prints usage and flags", names[i]);
        snprintf(args, sizeof args, "%s --no-such-flag", names[i]);
        rc = rune_exec(args, out, sizeof out);
        EXPECT(rc == 2 && strstr(out, "unknown option"), "%s with a bad flag exits %d: %s", names[i], rc, out);
    }
}
