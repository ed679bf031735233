/* profile.c: the per-op time table behind `rune bench --breakdown`: wall and CPU time per op, forward and backward, on the host or a synchronised device. */
#include "nn/profile.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

bool g_profile_on;

/* Few distinct ops per model: a flat table searched linearly is enough. */
enum { PROF_MAX = 256 };
typedef struct {
    ProfKind kind;
    const char *name;
    long calls;
    double s, cpu; /* wall seconds; process CPU seconds (all threads) */
} ProfRow;

static ProfRow g_rows[PROF_MAX];
static int g_nrows, g_depth;
static double g_cpu0;    /* process CPU clock at the outermost open region */
static bool g_reentered; /* OPS_DISPATCH is calling its op again to time it */
static void (*g_sync)(void);

static const char *const kind_names[PROF_KINDS] = {"fwd", "bwd", "step", "host"};

void profile_start(void (*sync)(void)) {
    g_nrows = 0, g_depth = 0, g_sync = sync, g_reentered = false;
    g_profile_on = true;
}

void profile_stop(void) { g_profile_on = false; }

static void add(ProfKind kind, const char *name, double s, double cpu) {
    int i = 0;
    while (i < g_nrows && !(g_rows[i].kind == kind && !strcmp(g_rows[i].name, name))) i++;
    if (i == g_nrows) {
        if (g_nrows == PROF_MAX) return; /* a breakdown with 256 distinct rows is unreadable anyway */
        g_rows[g_nrows++] = (ProfRow){kind, name, 0, 0, 0};
    }
    g_rows[i].calls++, g_rows[i].s += s, g_rows[i].cpu += cpu;
}

/* Waiting before and after makes each op's time its own (its kernels, launches and host work),
 * at the price of the overlap the unprofiled run has: the report says so. On the host there is
 * nothing to wait for and the region is what the unprofiled run does, plus two clock reads. */
double profile_begin(void) {
    if (!g_profile_on || g_depth++) return -1;
    if (g_sync) g_sync();
    g_cpu0 = cpu_seconds();
    return now_seconds();
}

void profile_end(ProfKind kind, const char *name, double token) {
    if (!g_profile_on || !g_depth) return;
    if (--g_depth) return;
    if (g_sync) g_sync();
    double t = now_seconds();
    add(kind, name, t - token, cpu_seconds() - g_cpu0);
}

/* Every CPU op's OPS_DISPATCH line re-enters its own function to time it; one in a function of
 * another name would run that op's body instead of its caller's, so it is refused by name. */
bool profile_cpu_reenter(const char *func, const char *expected) {
    if (g_reentered) {
        g_reentered = false;
        return false;
    }
    if (strcmp(func, expected)) rn_die("OPS_DISPATCH(%s) inside %s: the line must be in %s", expected + 3, func, expected);
    g_reentered = true;
    return true;
}

void profile_add(const char *name, double seconds) {
    if (!g_profile_on) return;
#pragma omp critical(profile_table)
    add(PROF_HOST, name, seconds, 0);
}

void profile_add_threads(const char *name, double thread_seconds, int threads) {
    if (g_profile_on) profile_add(name, thread_seconds / (threads > 0 ? threads : 1));
}

static int by_time(const void *a, const void *b) {
    double x = ((const ProfRow *)a)->s, y = ((const ProfRow *)b)->s;
    return (x < y) - (x > y);
}

/* One line; calls < 0 leaves the column blank, and busy is shown where the clocks can tell it
 * (cpu_ms > 0, at least 0.05 ms of wall time). */
static void row(FILE *f, const char *pass, const char *name, double calls, double ms, double cpu_ms, double step_ms) {
    fprintf(f, "  %-5s %-34s ", pass, name);
    if (calls < 0) fprintf(f, "%10s", "");
    else fprintf(f, "%10.1f", calls);
    fprintf(f, " %10.3f %6.1f%%", ms, 100 * ms / step_ms);
    if (cpu_ms > 0 && ms >= 0.05) fprintf(f, " %6.2f", cpu_ms / ms);
    fputc('\n', f);
}

/* The op rows (forward, backward, step) merged by name: where an op's time goes in all. */
static void report_by_op(FILE *f, int steps, double step_ms) {
    ProfRow sum[PROF_MAX];
    int n = 0;
    for (int i = 0; i < g_nrows; i++) {
        const ProfRow *r = &g_rows[i];
        if (r->kind == PROF_HOST || r->kind == PROF_STEP) continue;
        int j = 0;
        while (j < n && strcmp(sum[j].name, r->name)) j++;
        if (j == n) sum[n++] = (ProfRow){PROF_FWD, r->name, 0, 0, 0};
        sum[j].calls += r->calls, sum[j].s += r->s, sum[j].cpu += r->cpu;
    }
    qsort(sum, (size_t)n, sizeof *sum, by_time);
    fprintf(f, "  by op, forward + backward:\n");
    for (int j = 0; j < n; j++)
        row(f, "all", sum[j].name, (double)sum[j].calls / steps, 1e3 * sum[j].s / steps, 1e3 * sum[j].cpu / steps,
            step_ms);
}

void profile_report(FILE *f, int steps, double profiled_s) {
    qsort(g_rows, (size_t)g_nrows, sizeof *g_rows, by_time);
    double step_ms = 1e3 * profiled_s / steps, in_ops = 0;
    if (g_sync)
        fprintf(f, "breakdown over %d steps, each op waited for (so the step is longer than the timed median): "
                   "%.2f ms per step\n", steps, step_ms);
    else
        fprintf(f, "breakdown over %d steps on the host, ops run as unprofiled (plus two clock reads each): "
                   "%.2f ms per step\n", steps, step_ms);
    fprintf(f, "  %-5s %-34s %10s %10s %7s %6s\n", "pass", "op", "calls/step", "ms/step", "share", "busy");
    for (int i = 0; i < g_nrows; i++) {
        const ProfRow *r = &g_rows[i];
        if (r->kind == PROF_HOST) continue;
        double ms = 1e3 * r->s / steps;
        in_ops += ms;
        row(f, kind_names[r->kind], r->name, (double)r->calls / steps, ms, 1e3 * r->cpu / steps, step_ms);
    }
    row(f, "-", g_sync ? "outside any op (host, sync)" : "outside any op (glue, tape walk)", -1, step_ms - in_ops, 0,
        step_ms);
    fprintf(f, "  busy = process CPU time / wall time: threads at work on average (OpenMP spread, waits)\n");
    report_by_op(f, steps, step_ms);
    fprintf(f, "  host calls and sub-regions, already inside the rows above:\n");
    for (int i = 0; i < g_nrows; i++) {
        const ProfRow *r = &g_rows[i];
        if (r->kind != PROF_HOST) continue;
        row(f, "host", r->name, (double)r->calls / steps, 1e3 * r->s / steps, 0, step_ms);
    }
    fflush(f);
}
