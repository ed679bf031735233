/* logline.c: log lines with a wall-clock timestamp, for the long-running servers (serve-cloud, serve-edge). */
#include "util/logline.h"

#include <stdarg.h>
#include <time.h>

#define LOGLINE_MAX 2048 /* longer lines are cut, never split */

void logline(FILE *f, const char *fmt, ...) {
    char line[LOGLINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ ", ts.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    size_t len = k < 0 ? n : (n + (size_t)k < sizeof line ? n + (size_t)k : sizeof line - 1);
    if (len == sizeof line - 1) line[len - 1] = '\n'; /* cut: still one line */
    fwrite(line, 1, len, f);
    fflush(f);
}
