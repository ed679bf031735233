/* progress.c: progress lines with rate and ETA. */
#include "util/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *format_duration(double s, char *buf, int n) {
    if (s < 0 || s > 1e8) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.1fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
    return buf;
}

void progress_start(Progress *p, const char *what, const char *unit, long long total, long long start_at) {
    p->what = what, p->unit = unit, p->total = total, p->start_at = start_at;
    p->t0 = p->last = now_seconds();
    p->tty = isatty(2);
    p->every = p->tty ? 0.2 : 10.0;
}

static void print_line(Progress *p, long long done, const char *extra, const char *end) {
    double el = now_seconds() - p->t0;
    double rate = el > 0 ? (done - p->start_at) / el : 0;
    char eta[32] = "", el_s[32];
    if (p->total > 0 && rate > 0) {
        char d[24];
        snprintf(eta, sizeof eta, "  ETA %s", format_duration((p->total - done) / rate, d, sizeof d));
    }
    if (p->total > 0)
        fprintf(stderr, "%s[%s] %lld/%lld %s  %.2f %s/s  %s%s  %s%s", p->tty ? "\r" : "", p->what, done, p->total,
                p->unit, rate, p->unit, format_duration(el, el_s, sizeof el_s), eta, extra ? extra : "", end);
    else
        fprintf(stderr, "%s[%s] %lld %s  %.2f %s/s  %s  %s%s", p->tty ? "\r" : "", p->what, done, p->unit, rate,
                p->unit, format_duration(el, el_s, sizeof el_s), extra ? extra : "", end);
    fflush(stderr);
}

void progress_update(Progress *p, long long done, const char *extra, bool force) {
    double t = now_seconds();
    if (!force && t - p->last < p->every) return;
    p->last = t;
    print_line(p, done, extra, p->tty ? "\033[K" : "\n");
}

void progress_end(Progress *p, long long done, const char *extra) {
    print_line(p, done, extra, p->tty ? "\033[K\n" : "\n");
}
