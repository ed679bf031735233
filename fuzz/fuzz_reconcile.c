/* fuzz_reconcile.c: libFuzzer harness for `rune serve-reconcile`'s CSV reader (serve/reconcile.c): an edge CSV and a cloud CSV from one input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_tmpfile.h"
#include "serve/reconcile.h"

/* The input up to its first NUL byte is the edge CSV, the rest the cloud CSV. Any bytes: a clear
 * error or a result; in a result every edge's sent frames are split over the kinds exactly, and the
 * listed unaccounted frames are no more than their count. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t n1 = nul ? (size_t)(nul - data) : size;
    char edge[] = "/tmp/fuzz_rec_edge_XXXXXX", cloud[] = "/tmp/fuzz_rec_cloud_XXXXXX";
    if (fuzz_write_tmp(data, n1, edge) < 0) return 0;
    if (fuzz_write_tmp(nul ? nul + 1 : data + size, nul ? size - n1 - 1 : 0, cloud) < 0) {
        unlink(edge);
        return 0;
    }
    const char *clouds[1] = {cloud};
    RecResult r;
    if (reconcile_files(edge, clouds, 1, &r) == 0) {
        long long unacc = 0;
        for (int i = 0; i < r.nedges; i++) {
            const RecEdge *e = &r.edges[i];
            long long sum = 0;
            for (int k = 0; k < REC_NKIND; k++) sum += e->n[k];
            if (sum != e->sent || e->nlisted > REC_LIST_MAX || e->nlisted > e->n[REC_UNACCOUNTED]) abort();
            unacc += e->n[REC_UNACCOUNTED];
        }
        if (unacc != r.unaccounted) abort();
        reconcile_free(&r);
    }
    unlink(edge);
    unlink(cloud);
    return 0;
}
