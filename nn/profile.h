/* profile.h: an opt-in per-op time breakdown of a step on the CPU or a device (rune bench --breakdown); one branch when off. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "util/progress.h"

/* True while a breakdown is being recorded. Read by OPS_DISPATCH (forward), tape_backward
 * (backward), the arena, tensor_grad, the conv GEMM passes and the CUDA memory functions;
 * everything else only when it is set. */
extern bool g_profile_on;

typedef enum { PROF_FWD, PROF_BWD, PROF_STEP, PROF_HOST, PROF_KINDS } ProfKind;

/* Clears the table and turns recording on (sync: waits for the device, NULL on the host). */
void profile_start(void (*sync)(void));
void profile_stop(void);

/* A timed region: begin waits for the device and reads the clocks (wall and process CPU); end
 * waits again and adds both to (kind, name). Nested regions (an op calling another op) count only
 * in the outermost. begin returns a token for end; both are no-ops when recording is off. name
 * must outlive the run. */
double profile_begin(void);
void profile_end(ProfKind kind, const char *name, double token);

/* A host call's own time (cudaMalloc, a copy, im2col), measured by its caller: listed apart, as
 * it is already inside some op's region. Safe to call from inside an OpenMP region. */
void profile_add(const char *name, double seconds);

/* For OPS_DISPATCH on the CPU while recording: true when the caller should time a second call of
 * itself (op_<name>, checked against func) and return that; false inside that second call, which
 * then runs the op's body. */
bool profile_cpu_reenter(const char *func, const char *expected);

/* Host sub-regions at one branch when off: t = profile_clock(); ...; profile_add_since(name, t).
 * Inside an OpenMP loop, profile_lap adds the time since t to a thread's own accumulator (a
 * reduction variable) and returns the new start; the loop's owner hands the sum to
 * profile_add_threads, which lists it as thread time divided by the threads, comparable with
 * the wall time of the op around it. */
static inline double profile_clock(void) { return g_profile_on ? now_seconds() : 0; }
static inline void profile_add_since(const char *name, double t0) {
    if (g_profile_on) profile_add(name, now_seconds() - t0);
}
static inline double profile_lap(double *acc, double t0) {
    if (!g_profile_on) return 0;
    double t = now_seconds();
    *acc += t - t0;
    return t;
}
void profile_add_threads(const char *name, double thread_seconds, int threads);

/* The table: per step (steps runs, profiled_s their wall time in all): each region's calls, ms,
 * share and busy threads (process CPU time / wall time), sorted, then the time in no region (so
 * the rows add up to the step), the same time by op (forward + backward), then the host calls. */
void profile_report(FILE *f, int steps, double profiled_s);
