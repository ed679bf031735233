/* spawn.c: starting this very binary again as a child process (the demo's cloud and edge). */
#include "util/spawn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"

pid_t spawn_self(const char *log, char *const *args) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return rn_fail("cannot find this program's own file (/proc/self/exe): %s", strerror(errno));
    self[n] = 0;
    pid_t pid = fork();
    if (pid < 0) return rn_fail("fork: %s", strerror(errno));
    if (pid == 0) {
        if (!freopen(log, "w", stdout) || dup2(fileno(stdout), 2) < 0) _exit(127);
        execv(self, args);
        _exit(127);
    }
    return pid;
}
