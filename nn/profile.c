/* profile.c: the per-op time table behind `rune bench --breakdown`: device-synchronised wall time per op, forward and backward. */
#include "nn/profile.h"

#include <stdlib.h>
#include <string.h>

#include "util/progress.h"

bool g_profile_on;

/* Few distinct ops per model: a flat table searched linearly is enough. */
enum { PROF_MAX = 256 };
typedef struct {
    ProfKind kind;
    const char *name;
    long calls;
    double s;
} ProfRow;

static ProfRow g_rows[PROF_MAX];
static int g_nrows, g_depth;
static void (*g_sync)(void);

static const char *const kind_names[PROF_KINDS] = {"fwd", "bwd", "step", "host"};

void profile_start(void (*sync)(void)) {
    g_nrows = 0, g_depth = 0, g_sync = sync;
    g_profile_on = true;
}

void profile_stop(void) { g_profile_on = false; }

static void add(ProfKind kind, const char *name, double s) {
    int i = 0;
    while (i < g_nrows && !(g_rows[i].kind == kind && !strcmp(g_rows[i].name, name))) i++;
    if (i == g_nrows) {
        if (g_nrows == PROF_MAX) return; /* a breakdown with 256 distinct rows is unreadable anyway */
        g_rows[g_nrows++] = (ProfRow){kind, name, 0, 0};
    }
    g_rows[i].calls++, g_rows[i].s += s;
}

/* Waiting before and after makes each op's time its own (its kernels, launches and host work),
 * at the price of the overlap the unprofiled run has: the report says so. */
double profile_begin(void) {
    if (!g_profile_on || g_depth++) return -1;
    if (g_sync) g_sync();
    return now_seconds();
}

void profile_end(ProfKind kind, const char *name, double token) {
    if (!g_profile_on || !g_depth) return;
    if (--g_depth) return;
    if (g_sync) g_sync();
    add(kind, name, now_seconds() - token);
}

void profile_add(const char *name, double seconds) {
    if (g_profile_on) add(PROF_HOST, name, seconds);
}

static int by_time(const void *a, const void *b) {
    double x = ((const ProfRow *)a)->s, y = ((const ProfRow *)b)->s;
    return (x < y) - (x > y);
}

void profile_report(FILE *f, int steps, double profiled_s) {
    qsort(g_rows, (size_t)g_nrows, sizeof *g_rows, by_time);
    double step_ms = 1e3 * profiled_s / steps, in_ops = 0;
    fprintf(f, "breakdown over %d steps, each op waited for (so the step is longer than the timed median): "
               "%.2f ms per step\n", steps, step_ms);
    fprintf(f, "  %-5s %-28s %10s %12s %7s\n", "pass", "op", "calls/step", "ms/step", "share");
    for (int i = 0; i < g_nrows; i++) {
        const ProfRow *r = &g_rows[i];
        if (r->kind == PROF_HOST) continue;
        double ms = 1e3 * r->s / steps;
        in_ops += ms;
        fprintf(f, "  %-5s %-28s %10.1f %12.3f %6.1f%%\n", kind_names[r->kind], r->name, (double)r->calls / steps, ms,
                100 * ms / step_ms);
    }
    fprintf(f, "  %-5s %-28s %10s %12.3f %6.1f%%\n", "-", "outside any op (host, sync)", "", step_ms - in_ops,
            100 * (step_ms - in_ops) / step_ms);
    fprintf(f, "  host calls, already inside the rows above:\n");
    for (int i = 0; i < g_nrows; i++) {
        const ProfRow *r = &g_rows[i];
        if (r->kind != PROF_HOST) continue;
        fprintf(f, "  %-5s %-28s %10.1f %12.3f %6.1f%%\n", "host", r->name, (double)r->calls / steps,
                1e3 * r->s / steps, 100e3 * r->s / steps / step_ms);
    }
    fflush(f);
}
