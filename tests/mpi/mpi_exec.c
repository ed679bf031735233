/* mpi_exec.c: the mpirun tests' way of running the rune binary under mpirun (or alone) and keeping its output. */
#include "tests/mpi/mpi_exec.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test.h"

/* Runs "mpirun -np NP $RUNE_BIN ARGS" (NP 0: the binary alone, no mpirun) with output into
 * out[n]; returns the exit status. */
int mpi_exec(int np, const char *args, char *out, size_t n) {
    const char *bin = getenv("RUNE_BIN"), *mpirun = getenv("MPIRUN");
    if (!bin || access(bin, X_OK) != 0) SKIP("RUNE_BIN not set or not executable (make test-mpi sets it)");
    char cmd[8192];
    /* root in CI containers: Open MPI refuses it unless told; --oversubscribe: CI may have fewer
     * cores than ranks; one OpenMP thread per rank, so 2 ranks share 2 cores without fighting */
    if (np > 0)
        snprintf(cmd, sizeof cmd,
                 "%s -np %d %s --oversubscribe --bind-to none -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY=passive %s %s 2>&1",
                 mpirun ? mpirun : "mpirun", np, geteuid() == 0 ? "--allow-run-as-root" : "", bin, args);
    else
        snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive %s %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t len = 0, got;
    char buf[4096];
    while ((got = fread(buf, 1, sizeof buf, p)) > 0)
        for (size_t i = 0; i < got && out && len + 1 < n; i++) out[len++] = buf[i];
    if (out && n) out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char mpi_out[MPI_OUT_SIZE];

void mpi_run_ok(int np, const char *args) {
    int rc = mpi_exec(np, args, mpi_out, sizeof mpi_out);
    EXPECT(rc == 0, "np %d: rune %s -> %d:\n%s", np, args, rc, mpi_out);
}

/* The files in dir, sorted names joined by spaces. */
const char *dir_listing(const char *dir) {
    static char s[4096];
    struct dirent **e;
    int n = scandir(dir, &e, NULL, alphasort);
    s[0] = 0;
    for (int i = 0; i < n; i++) {
        if (e[i]->d_name[0] != '.') strncat(s, e[i]->d_name, sizeof s - strlen(s) - 2), strcat(s, " ");
        free(e[i]);
    }
    if (n >= 0) free(e);
    return s;
}
