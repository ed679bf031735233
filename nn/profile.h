/* profile.h: an opt-in per-op time breakdown of device work (rune bench --device cuda --breakdown); one branch when off. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

/* True while a breakdown is being recorded. Read by OPS_DISPATCH (forward), tape_backward
 * (backward) and the CUDA memory functions; everything else only when it is set. */
extern bool g_profile_on;

typedef enum { PROF_FWD, PROF_BWD, PROF_STEP, PROF_HOST, PROF_KINDS } ProfKind;

/* Clears the table and turns recording on (sync: waits for the device, NULL on the host). */
void profile_start(void (*sync)(void));
void profile_stop(void);

/* A timed region: begin waits for the device and reads the clock; end waits again and adds the
 * time to (kind, name). Nested regions (an op calling another op) count only in the outermost.
 * begin returns a token for end; both are no-ops when recording is off. name must outlive the run. */
double profile_begin(void);
void profile_end(ProfKind kind, const char *name, double token);

/* A host call's own time (cudaMalloc, a copy, a cuDNN search), measured by its caller: listed
 * apart, as it is already inside some op's region. */
void profile_add(const char *name, double seconds);

/* The table: per step (steps runs, profiled_s their wall time in all): each region's calls and
 * ms, sorted, its share, then the time in no region, then the host calls. */
void profile_report(FILE *f, int steps, double profiled_s);
