/* logline.h: log lines with a wall-clock timestamp, for the long-running servers (serve-cloud, serve-edge). */
#pragma once
#include <stdio.h>

/* Writes "2026-12-07T23:50:00.123Z " then the formatted text to f (a line: the caller ends it with
 * '\n'), in one write so lines of concurrent processes sharing a log do not interleave mid-line.
 * UTC, milliseconds: the wire's clock is CLOCK_REALTIME too, so log lines and CSV rows line up. */
void logline(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
