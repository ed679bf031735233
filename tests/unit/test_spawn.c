/* test_spawn.c: spawn_self starts this binary again under its own name (pgrep -x finds it), output to the log. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test.h"
#include "util/spawn.h"

#define NAME_CAP 64

/* The process name (comm) of pid, as ps and pgrep show it. */
static void comm_of(pid_t pid, char *name, size_t cap) {
    char path[NAME_CAP];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    name[0] = 0;
    if (f && fgets(name, (int)cap, f)) name[strcspn(name, "\n")] = 0;
    if (f) fclose(f);
}

/* The child is this test binary run with a filter that matches no test: it exits at once. It is
 * left a zombie (waitid with WNOWAIT), whose name is still readable and is the one its exec gave
 * it: ours (test_unit), not "exe". Its exit status 0 shows the exec happened (127: it did not). */
TEST(spawn_self_keeps_the_binary_name) {
    char mine[NAME_CAP], theirs[NAME_CAP] = "", log[512];
    comm_of(getpid(), mine, sizeof mine);
    snprintf(log, sizeof log, "%s/child.log", test_temp_dir("spawn"));
    char *args[] = {"test_unit", "no-test-has-this-name", NULL};
    pid_t pid = spawn_self(log, args);
    EXPECT(pid > 0, "spawned");
    if (pid <= 0) return;
    siginfo_t info = {0};
    EXPECT(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) == 0, "waitid");
    comm_of(pid, theirs, sizeof theirs);
    waitpid(pid, NULL, 0);
    EXPECT(info.si_code == CLD_EXITED && info.si_status == 0, "child exit %d (127: exec failed)", info.si_status);
    EXPECT(strcmp(theirs, mine) == 0, "child named \"%s\", want \"%s\"", theirs, mine);
}
