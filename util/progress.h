/* progress.h: one-line progress reports with rate and ETA for long work, and wall-clock timing. */
#pragma once
#include <stdbool.h>

double now_seconds(void); /* monotonic clock */
/* CPU seconds of the whole process: on a shared machine wall time measures the neighbours too. */
double cpu_seconds(void);

typedef struct Progress {
    const char *what;   /* "train-sr" */
    const char *unit;   /* "steps", "frames" */
    long long total;    /* 0 = unknown */
    long long start_at; /* units already done when started (resume) */
    double t0, last;
    bool tty;           /* redraw one line on a terminal; print lines every `every` s otherwise */
    double every;
} Progress;

void progress_start(Progress *p, const char *what, const char *unit, long long total, long long start_at);
/* Prints "[what] 120/1000 steps  3.4 steps/s  ETA 4m19s  <extra>" at most every p->every seconds
 * (always when force). */
void progress_update(Progress *p, long long done, const char *extra, bool force);
void progress_end(Progress *p, long long done, const char *extra);
/* "4m19s" style */
const char *format_duration(double s, char *buf, int n);
