/* fuzz_shaper.c: libFuzzer harness for the uplink descriptions the edge reads (serve/shaper.c): step schedules and Mahimahi traces. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz_tmpfile.h"

#include "serve/shaper.h"

/* A parsed link must answer sane questions: capacity over an interval is finite and not negative,
 * and a message offered to it leaves no earlier than it was ready. */
static void probe(Shaper *s) {
    double c = shaper_capacity(s, 0, 10);
    if (!(c >= 0) || isinf(c)) abort();
    double mbps = shaper_mbps_at(s, 1.5);
    if (!(mbps >= 0) || isinf(mbps)) abort();
    double fin = shaper_peek_finish(s, 0.25, 1500);
    if (!(fin >= 0.25)) abort();
}

/* First byte 0: the rest is a --bandwidth schedule string; otherwise the bytes are a trace file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Shaper s;
    if (size && data[0] == 0) {
        char *spec = malloc(size);
        if (!spec) return 0;
        memcpy(spec, data + 1, size - 1), spec[size - 1] = 0;
        if (shaper_init_schedule(&s, spec, 1.0) == 0) probe(&s), shaper_free(&s);
        free(spec);
        return 0;
    }
    char path[] = "/tmp/fuzz_shaper_XXXXXX";
    if (fuzz_write_tmp(data, size, path) != 0) return 0;
    if (shaper_init_trace(&s, path, 1.0) == 0) probe(&s), shaper_free(&s);
    unlink(path);
    return 0;
}
