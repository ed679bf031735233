/* shaper.c: the edge's uplink budget — step schedules (fluid) and Mahimahi traces (packet opportunities). */
#include "serve/shaper.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define BYTES_PER_MBIT 125000.0

static void base_init(Shaper *s, int kind, double scale) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->scale = scale;
}

int shaper_init_unlimited(Shaper *s) {
    base_init(s, SHAPER_UNLIMITED, 1);
    return 0;
}

int shaper_init_schedule(Shaper *s, const char *spec, double scale) {
    base_init(s, SHAPER_SCHEDULE, scale);
    if (!(scale > 0 && isfinite(scale))) return rn_fail("bandwidth scale %g: must be > 0", scale);
    if (!spec || !*spec) return rn_fail("empty bandwidth schedule (want T:MBPS,T:MBPS,... e.g. 0:10,5:5)");
    const char *p = spec;
    while (*p) {
        if (s->nsteps == SHAPER_MAX_STEPS) return rn_fail("bandwidth schedule: more than %d steps", SHAPER_MAX_STEPS);
        char *end;
        errno = 0;
        double t = strtod(p, &end);
        if (end == p || *end != ':' || errno || !isfinite(t))
            return rn_fail("bandwidth schedule \"%s\": step %d is not SECONDS:MBPS", spec, s->nsteps + 1);
        p = end + 1;
        double r = strtod(p, &end);
        if (end == p || (*end && *end != ',') || errno || !isfinite(r))
            return rn_fail("bandwidth schedule \"%s\": step %d has no Mbps value", spec, s->nsteps + 1);
        if (r < 0 || t < 0) return rn_fail("bandwidth schedule \"%s\": negative time or rate", spec);
        /* finite but absurd values would overflow the byte budget to infinity (found by fuzz_shaper) */
        if (r > SHAPER_MAX_MBPS || t > SHAPER_MAX_SECONDS)
            return rn_fail("bandwidth schedule \"%s\": step %d beyond %g Mbps or %g s", spec, s->nsteps + 1,
                           SHAPER_MAX_MBPS, SHAPER_MAX_SECONDS);
        if (s->nsteps == 0 && t != 0) return rn_fail("bandwidth schedule \"%s\": the first step must start at 0", spec);
        if (s->nsteps > 0 && t <= s->step_t[s->nsteps - 1])
            return rn_fail("bandwidth schedule \"%s\": step times must increase", spec);
        s->step_t[s->nsteps] = t;
        s->step_mbps[s->nsteps] = r;
        s->nsteps++;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p) return rn_fail("bandwidth schedule \"%s\": trailing comma", spec);
    }
    return 0;
}

int shaper_init_trace_ms(Shaper *s, const uint32_t *ms, size_t n, double scale) {
    base_init(s, SHAPER_TRACE, scale);
    if (!(scale > 0 && isfinite(scale))) return rn_fail("bandwidth scale %g: must be > 0", scale);
    if (n == 0) return rn_fail("empty trace");
    for (size_t i = 1; i < n; i++)
        if (ms[i] < ms[i - 1]) return rn_fail("trace line %zu: %u ms is before the line above (%u)", i + 1, ms[i], ms[i - 1]);
    if (ms[n - 1] == 0) return rn_fail("trace: its last line must be > 0 ms (it is the period)");
    s->trace_ms = xmalloc(n * sizeof *ms);
    memcpy(s->trace_ms, ms, n * sizeof *ms);
    s->ntrace = n;
    s->period_ms = ms[n - 1];
    return 0;
}

int shaper_init_trace(Shaper *s, const char *path, double scale) {
    base_init(s, SHAPER_TRACE, scale);
    FILE *f = fopen(path, "r");
    if (!f) return rn_fail("%s: %s (a Mahimahi trace: one millisecond per line)", path, strerror(errno));
    size_t n = 0, cap = 4096, line = 0;
    uint32_t *ms = xmalloc(cap * sizeof *ms);
    char buf[128];
    int rc = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        char *p = buf;
        while (isspace((unsigned char)*p)) p++;
        if (!*p) continue;
        char *end;
        errno = 0;
        unsigned long v = strtoul(p, &end, 10);
        while (isspace((unsigned char)*end)) end++;
        if (!isdigit((unsigned char)*p) || *end || errno || v > UINT32_MAX) {
            rc = rn_fail("%s line %zu: not a millisecond count", path, line);
            break;
        }
        if (n == SHAPER_MAX_TRACE_LINES) {
            rc = rn_fail("%s: more than %d lines", path, SHAPER_MAX_TRACE_LINES);
            break;
        }
        if (n == cap) ms = xrealloc(ms, (cap *= 2) * sizeof *ms);
        ms[n++] = (uint32_t)v;
    }
    fclose(f);
    if (rc == 0) {
        rc = shaper_init_trace_ms(s, ms, n, scale);
        if (rc < 0) rc = rn_fail("%s: %s", path, rn_errmsg());
    }
    free(ms);
    return rc;
}

void shaper_free(Shaper *s) {
    free(s->trace_ms);
    s->trace_ms = NULL;
    s->ntrace = 0;
}

void shaper_reset(Shaper *s) {
    s->link_free = 0;
    s->next_op = 0;
    s->accepted = s->refused = 0;
    s->accepted_bytes = s->refused_bytes = 0;
}

/* ---- schedule ---- */

static double rate_bps(const Shaper *s, int i) { return s->step_mbps[i] * s->scale * BYTES_PER_MBIT; } /* bytes/s */

static int step_at(const Shaper *s, double t) {
    int i = 0;
    while (i + 1 < s->nsteps && s->step_t[i + 1] <= t) i++;
    return i;
}

static double sched_capacity(const Shaper *s, double t0, double t1) {
    if (t1 <= t0) return 0;
    double sum = 0;
    for (int i = step_at(s, t0); i < s->nsteps; i++) {
        double a = i == step_at(s, t0) ? t0 : s->step_t[i];
        double b = i + 1 < s->nsteps ? s->step_t[i + 1] : INFINITY;
        if (a >= t1) break;
        sum += rate_bps(s, i) * (fmin(b, t1) - a);
    }
    return sum;
}

static double sched_finish(const Shaper *s, double start, double bytes) {
    if (bytes <= 0) return start;
    double rem = bytes;
    int i0 = step_at(s, start);
    for (int i = i0; i < s->nsteps; i++) {
        double a = i == i0 ? start : s->step_t[i];
        double b = i + 1 < s->nsteps ? s->step_t[i + 1] : INFINITY;
        double r = rate_bps(s, i);
        if (r > 0 && r * (b - a) >= rem) return a + rem / r;
        if (r > 0) rem -= r * (b - a);
    }
    return INFINITY;
}

/* ---- trace ---- */

static double op_ms(const Shaper *s, uint64_t i) {
    return (double)(i / s->ntrace) * s->period_ms + s->trace_ms[i % s->ntrace];
}

/* First j with trace_ms[j] >= rel (ntrace when none). */
static size_t lower_bound(const Shaper *s, double rel) {
    size_t lo = 0, hi = s->ntrace;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->trace_ms[mid] < rel) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* First opportunity at or after t seconds. The previous repeat's lines at exactly `period` ms
 * fall on the same millisecond as this repeat's start, so they are looked at first. */
static uint64_t op_at(const Shaper *s, double t) {
    if (t <= 0) return 0;
    double x = ceil(t * 1000.0 - 1e-6);
    uint64_t loop = (uint64_t)(x / s->period_ms);
    double rel = x - (double)loop * s->period_ms;
    if (loop > 0) {
        size_t j = lower_bound(s, rel + s->period_ms);
        if (j < s->ntrace) return (loop - 1) * s->ntrace + j;
    }
    return loop * s->ntrace + lower_bound(s, rel); /* == ntrace: the next repeat's first */
}

static double packet_bytes(const Shaper *s) { return SHAPER_PACKET * s->scale; }

static uint64_t packets_for(const Shaper *s, double bytes) {
    if (bytes <= 0) return 0;
    return (uint64_t)ceil(bytes / packet_bytes(s) - 1e-9);
}

/* ---- common ---- */

double shaper_capacity(const Shaper *s, double t0, double t1) {
    switch (s->kind) {
    case SHAPER_SCHEDULE: return sched_capacity(s, t0, t1);
    case SHAPER_TRACE: return t1 <= t0 ? 0 : (double)(op_at(s, t1) - op_at(s, t0)) * packet_bytes(s);
    default: return INFINITY;
    }
}

double shaper_mbps_at(const Shaper *s, double t) {
    switch (s->kind) {
    case SHAPER_SCHEDULE: return s->step_mbps[step_at(s, t)] * s->scale;
    case SHAPER_TRACE: return shaper_capacity(s, t - 0.5, t + 0.5) * 8 / 1e6;
    default: return INFINITY;
    }
}

/* Start and finish of a message ready at `ready` behind what is booked. */
static void place(const Shaper *s, double ready, double bytes, ShaperSlot *slot) {
    switch (s->kind) {
    case SHAPER_SCHEDULE: {
        double start = fmax(ready, s->link_free);
        slot->start = start;
        slot->finish = sched_finish(s, start, bytes);
        break;
    }
    case SHAPER_TRACE: {
        uint64_t first = op_at(s, ready);
        if (first < s->next_op) first = s->next_op;
        uint64_t k = packets_for(s, bytes);
        slot->start = fmax(ready, op_ms(s, first) / 1000.0);
        slot->finish = k ? op_ms(s, first + k - 1) / 1000.0 : slot->start;
        break;
    }
    default: slot->start = slot->finish = ready; break;
    }
}

double shaper_peek_finish(const Shaper *s, double ready, size_t bytes) {
    ShaperSlot slot;
    place(s, ready, (double)bytes, &slot);
    return slot.finish;
}

int shaper_offer(Shaper *s, double ready, double capture, size_t bytes, ShaperSlot *slot) {
    place(s, ready, (double)bytes, slot);
    if (!isfinite(slot->finish) || (s->deadline > 0 && slot->finish - capture > s->deadline + 1e-9)) {
        s->refused++;
        s->refused_bytes += (double)bytes;
        return 0;
    }
    if (s->kind == SHAPER_SCHEDULE) s->link_free = slot->finish;
    if (s->kind == SHAPER_TRACE) {
        uint64_t first = op_at(s, ready);
        if (first < s->next_op) first = s->next_op;
        s->next_op = first + packets_for(s, (double)bytes);
    }
    s->accepted++;
    s->accepted_bytes += (double)bytes;
    return 1;
}

double shaper_backlog(const Shaper *s, double t) {
    switch (s->kind) {
    case SHAPER_SCHEDULE: return fmax(0, s->link_free - t);
    case SHAPER_TRACE: return s->next_op ? fmax(0, op_ms(s, s->next_op - 1) / 1000.0 - t) : 0;
    default: return 0;
    }
}
