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

/* Tests run side by side (RUNE_TEST_JOBS, default 1): the online-loop tests spend most of their
 * time waiting on processes and sockets, so two at a time roughly halve the sanitizer run in CI.
 * Each test still gets its own process group, scratch folder and port (tests pick ports by pid). */
static int test_jobs(void) {
    const char *v = getenv("RUNE_TEST_JOBS");
    int n = v ? atoi(v) : 1;
    return n < 1 ? 1 : n > 16 ? 16 : n;
}

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One running test. */
typedef struct Slot {
    pid_t pid;           /* 0: free */
    int test;
    double t0;
    char root[64];       /* its scratch folder */
    FILE *out;           /* its output when tests run side by side (NULL: straight to the terminal) */
} Slot;

/* The test's ports: a window of 1000 below Linux's ephemeral range (32768) per slot of this runner,
 * so that two tests running side by side never share one (each file's offsets stay under 1000). */
static void set_port_window(int slot) {
    char base[16];
    snprintf(base, sizeof base, "%d", 20000 + (int)((getppid() + slot) % 12) * 1000);
    setenv("RUNE_TEST_PORT_BASE", base, 1);
}

static void start_test(Slot *sl, int i, bool capture, int slot) {
    fflush(stdout);
    fflush(stderr);
    sl->out = capture ? tmpfile() : NULL;
    test_tmp_begin();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0); /* its own process group: a timeout ends whatever it started too */
        set_port_window(slot);
        if (sl->out) dup2(fileno(sl->out), 1), dup2(fileno(sl->out), 2);
        g_tests[i].fn();
        engine_step_reset();
        fflush(stdout);
        _exit(g_fail ? 1 : 0);
    }
    setpgid(pid, pid);
    test_tmp_take(sl->root, sizeof sl->root);
    sl->pid = pid, sl->test = i, sl->t0 = wall_seconds();
}

/* The test's result code from its wait status (1 when it timed out or crashed). */
static int finish_test(Slot *sl, int st, bool timed_out) {
    kill(-sl->pid, SIGKILL); /* leftovers of a finished test (a server it forgot) */
    if (sl->root[0]) test_remove_tree(sl->root);
    if (sl->out) { /* its output, in one piece */
        char buf[4096];
        size_t n;
        fflush(stdout);
        rewind(sl->out);
        while ((n = fread(buf, 1, sizeof buf, sl->out)) > 0) fwrite(buf, 1, n, stdout);
        fclose(sl->out);
    }
    sl->pid = 0;
    if (timed_out) {
        printf("    timed out after %d s (RUNE_TEST_TIMEOUT); it and what it started were killed\n", test_timeout_s());
        return 1;
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    printf("    crashed with signal %d\n", WTERMSIG(st));
    return 1;
}

typedef struct Tally {
    int passed, failed, skipped;
} Tally;

static void report(const Slot *sl, int rc, Tally *t) {
    const TestCase *tc = &g_tests[sl->test];
    const char *tag = rc == 0 ? "PASS" : rc == SKIP_EXIT ? "SKIP" : "FAIL";
    double dt = wall_seconds() - sl->t0;
    if (dt >= 1.0) printf("%s %s (%s) %.1f s\n", tag, tc->name, tc->file, dt); /* where the suite's time goes */
    else printf("%s %s (%s)\n", tag, tc->name, tc->file);
    fflush(stdout);
    if (rc == 0) t->passed++;
    else if (rc == SKIP_EXIT) t->skipped++;
    else t->failed++;
}

/* Reaps every finished or overdue test among slots[0..n). Returns how many it freed. */
static int reap(Slot *slots, int n, Tally *t) {
    int freed = 0;
    for (int k = 0; k < n; k++) {
        Slot *sl = &slots[k];
        if (!sl->pid) continue;
        int st = 0;
        bool done = waitpid(sl->pid, &st, WNOHANG) == sl->pid, late = false;
        if (!done && wall_seconds() - sl->t0 >= test_timeout_s()) {
            kill(-sl->pid, SIGKILL);
            waitpid(sl->pid, &st, 0);
            late = true;
        }
        if (!done && !late) continue;
        report(sl, finish_test(sl, st, late), t);
        freed++;
    }
    return freed;
}

static bool selected(const TestCase *t, const char *filter) {
    return !filter || strstr(t->name, filter) || strstr(t->file, filter);
}

int main(int argc, char **argv) {
    gemm_select_kernels(argv);
    const char *filter = argc > 1 ? argv[1] : NULL;
    int jobs = test_jobs(), busy = 0;
    Slot slots[16] = {0};
    Tally t = {0};
    for (int i = 0; i < g_ntests || busy > 0;) {
        if (i < g_ntests && !selected(&g_tests[i], filter)) {
            i++;
            continue;
        }
        if (i < g_ntests && busy < jobs) {
            int k = 0;
            while (slots[k].pid) k++;
            start_test(&slots[k], i++, jobs > 1, k);
            busy++;
            continue;
        }
        int freed = reap(slots, jobs, &t);
        busy -= freed;
        if (!freed) usleep(10000);
    }
    printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
    return t.failed ? 1 : 0;
}
