/* shaper.h: the edge's uplink — a clock-driven byte budget from a step schedule or a Mahimahi trace,
 * a FIFO queue in front of it, and a per-frame deadline past which a frame is dropped (and counted).
 *
 * Time is in seconds since the stream started (the edge's first capture = 0).
 *   schedule ("0:10,5:5,12:2,19:10" = Mbps from second 0, 5, 12, 19): a fluid link; the bytes that
 *     may leave in [t0, t1) are the integral of the rate (x `scale`), 1 Mbps = 125000 bytes/s.
 *   Mahimahi trace (one integer per line: a millisecond at which one 1500-byte packet may leave;
 *     repeated lines = several packets in that millisecond; the file repeats every <last line> ms,
 *     as mahimahi's link does): a message of B bytes takes ceil(B / (1500 x scale)) whole packet
 *     opportunities, the first at or after it is ready, and has left at the last one's millisecond.
 *   unlimited: every message leaves the moment it is ready.
 * The queue is FIFO: a message starts when it is ready and the previous one has left. A message
 * that would leave more than `deadline` seconds after its capture is refused (nothing of it uses the
 * link) and counted; the caller records it as dropped with reason "deadline". */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define SHAPER_MAX_STEPS 256
#define SHAPER_MAX_MBPS 1e6     /* a step above 1 Tbit/s is a typo, and its bytes would overflow */
#define SHAPER_MAX_SECONDS 1e7  /* about 116 days */
#define SHAPER_PACKET 1500
#define SHAPER_MAX_TRACE_LINES 50000000

typedef enum { SHAPER_UNLIMITED = 0, SHAPER_SCHEDULE = 1, SHAPER_TRACE = 2 } ShaperKind;

typedef struct Shaper {
    int kind;
    double scale;                 /* capacity multiplier (schedule rates, trace packet size) */
    double deadline;              /* seconds from capture; <= 0 = no deadline */
    /* schedule */
    double step_t[SHAPER_MAX_STEPS], step_mbps[SHAPER_MAX_STEPS]; /* as given (before scale) */
    int nsteps;
    /* trace */
    uint32_t *trace_ms;           /* [ntrace] non-decreasing */
    size_t ntrace;
    uint32_t period_ms;           /* the last line's value (> 0) */
    /* queue state */
    double link_free;             /* schedule: when the last accepted message has left */
    uint64_t next_op;             /* trace: first unused packet opportunity (absolute, across repeats) */
    /* counters */
    long long accepted, refused;
    double accepted_bytes, refused_bytes;
} Shaper;

/* Where a message went: it waits from `ready` to `start`, its bytes leave from `start` to `finish`. */
typedef struct ShaperSlot {
    double start, finish;
} ShaperSlot;

/* Each returns 0, or -1 with rn_errmsg() naming the bad part. scale > 0 (1 = as given). */
int shaper_init_unlimited(Shaper *s);
int shaper_init_schedule(Shaper *s, const char *spec, double scale);
int shaper_init_trace(Shaper *s, const char *path, double scale);
/* The trace from memory (tests): ms[n] non-decreasing, n >= 1, ms[n-1] > 0; copied. */
int shaper_init_trace_ms(Shaper *s, const uint32_t *ms, size_t n, double scale);
void shaper_free(Shaper *s);
/* Empties the queue and zeroes the counters (a new stream). */
void shaper_reset(Shaper *s);

/* Bytes that may leave in [t0, t1) when nothing else is queued (schedule: integral; trace: 1500 x
 * scale per opportunity in [t0, t1); unlimited: INFINITY). */
double shaper_capacity(const Shaper *s, double t0, double t1);
/* The link rate at time t in Mbps (schedule: the step's; trace: packets in [t - 0.5, t + 0.5) s). */
double shaper_mbps_at(const Shaper *s, double t);

/* Offers a message of `bytes` bytes, ready at `ready`, captured at `capture`. 1: accepted, *slot
 * says when it starts and has left, the link is booked; 0: refused (would leave after
 * capture + deadline, or never), the link is untouched. */
int shaper_offer(Shaper *s, double ready, double capture, size_t bytes, ShaperSlot *slot);
/* When the message would leave, without booking anything (INFINITY when never). */
double shaper_peek_finish(const Shaper *s, double ready, size_t bytes);
/* Seconds of work queued at time t (how long a message ready at t waits before its first byte). */
double shaper_backlog(const Shaper *s, double t);
