/* main.c: runs every registered test in a forked child and ends with "N passed, N failed". */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nn/gemm.h"
#include "nn/tensor.h"
#include "tests/test.h"

typedef struct {
    const char *name, *file;
    TestFn fn;
} TestCase;

static TestCase g_tests[1024];
static int g_ntests, g_fail;

void test_register(const char *name, const char *file, TestFn fn) {
    if (g_ntests == 1024) {
        fprintf(stderr, "too many tests\n");
        exit(2);
    }
    g_tests[g_ntests++] = (TestCase){name, file, fn};
}

void test_fail_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    g_fail++;
}

int test_failures(void) { return g_fail; }

int test_take_failures(int mark) {
    int n = g_fail - mark;
    g_fail = mark;
    return n;
}

#define SKIP_EXIT 77

void test_skip(const char *why) {
    fprintf(stderr, "    skipped: %s\n", why);
    fflush(stderr);
    _exit(SKIP_EXIT);
}

static char g_path[4096];

const char *test_shared_path(const char *rel) {
    const char *root = getenv("RUNE_SHARED");
    snprintf(g_path, sizeof g_path, "%s/%s", root ? root : "../shared", rel);
    struct stat st;
    if (stat(g_path, &st) != 0) {
        static char why[4200];
        snprintf(why, sizeof why, "%s not found (shared data absent; set RUNE_SHARED)", g_path);
        test_skip(why);
    }
    return g_path;
}

const char *test_fixture_path(const char *rel) {
    snprintf(g_path, sizeof g_path, "tests/fixtures/%s", rel);
    if (access(g_path, R_OK) != 0) test_fail_at(__FILE__, __LINE__, "fixture %s missing", g_path);
    return g_path;
}

char *test_read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

/* Seconds one test may run (RUNE_TEST_TIMEOUT, default 900: the slowest test takes about a minute
 * under ASan on 2 cores): a test that hangs, e.g. on a server that never stops, fails instead of
 * stalling the suite. */
static int test_timeout_s(void) {
    const char *v = getenv("RUNE_TEST_TIMEOUT");
    int s = v ? atoi(v) : 0;
    return s > 0 ? s : 900;
}

/* Waits for the test's child; past the timeout kills its process group. True when it timed out. */
static bool wait_bounded_test(pid_t pid, int *st) {
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (waitpid(pid, st, WNOHANG) == pid) {
            kill(-pid, SIGKILL); /* leftovers of a finished test (a server it forgot) */
            return false;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= test_timeout_s()) break;
        usleep(10000);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, st, 0);
    return true;
}

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int run_one(const TestCase *t) {
    fflush(stdout);
    test_tmp_begin();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0); /* its own process group: a timeout ends whatever it started too */
        t->fn();
        engine_step_reset();
        fflush(stdout);
        _exit(g_fail ? 1 : 0);
    }
    setpgid(pid, pid);
    int st = 0;
    bool timed_out = wait_bounded_test(pid, &st);
    test_tmp_end();
    if (timed_out) {
        fprintf(stderr, "    timed out after %d s (RUNE_TEST_TIMEOUT); it and what it started were killed\n", test_timeout_s());
        return 1;
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    fprintf(stderr, "    crashed with signal %d\n", WTERMSIG(st));
    return 1;
}

int main(int argc, char **argv) {
    gemm_select_kernels(argv);
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < g_ntests; i++) {
        const TestCase *t = &g_tests[i];
        if (filter && !strstr(t->name, filter) && !strstr(t->file, filter)) continue;
        double t0 = wall_seconds();
        int rc = run_one(t);
        const char *tag = rc == 0 ? "PASS" : rc == SKIP_EXIT ? "SKIP" : "FAIL";
        double dt = wall_seconds() - t0;
        if (dt >= 1.0) printf("%s %s (%s) %.1f s\n", tag, t->name, t->file, dt); /* where the suite's time goes */
        else printf("%s %s (%s)\n", tag, t->name, t->file);
        if (rc == 0) passed++;
        else if (rc == SKIP_EXIT) skipped++;
        else failed++;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
