/* spawn.h: starting this very binary again as a child process (the demo's cloud and edge). */
#pragma once
#include <sys/types.h>

/* Forks and execs this program's own executable (the file /proc/self/exe points to, by its real
 * path, so the child's process name is the binary's, e.g. "rune", not "exe") with args (args[0]
 * included, NULL-terminated), stdout and stderr going to the file `log`. The child's pid, or -1
 * with rn_errmsg(). */
pid_t spawn_self(const char *log, char *const *args);
