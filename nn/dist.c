/* dist.c: the rank/shard helpers of nn/dist.h over the backend's primitives, and the single-process primitives (weak: nn/mpi/dist_mpi.c replaces them). */
#include "nn/dist.h"

#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "util/err.h"

static int g_rank = 0, g_size = 1;

/* ---- single-process primitives: rank 0 of 1, every collective a no-op ---- */

__attribute__((weak)) int dist_impl_init(int *argc, char ***argv, int *rank, int *size) {
    (void)argc, (void)argv;
    *rank = 0, *size = 1;
    return 0;
}
__attribute__((weak)) void dist_impl_finalize(int rc) { (void)rc; }
__attribute__((weak)) const char *dist_impl_name(void) { return "single process"; }
__attribute__((weak)) void dist_impl_bind_device(Device d) { (void)d; }
__attribute__((weak)) void dist_impl_sum_f64(double *v, int n) { (void)v, (void)n; }
__attribute__((weak)) void dist_impl_minmax_i64(long long v, long long *lo, long long *hi) { *lo = *hi = v; }
__attribute__((weak)) void dist_impl_average_reals(real_t *p, size_t n, Device d) { (void)p, (void)n, (void)d; }
__attribute__((weak)) void dist_impl_bcast(void *p, size_t bytes) { (void)p, (void)bytes; }
__attribute__((weak)) void *dist_impl_gather(const void *p, size_t bytes, size_t *total) {
    void *all = xmalloc(bytes ? bytes : 1);
    if (bytes) memcpy(all, p, bytes);
    *total = bytes;
    return all;
}

/* ---- the helpers ---- */

int dist_init(int *argc, char ***argv) { return dist_impl_init(argc, argv, &g_rank, &g_size); }
void dist_finalize(int rc) { dist_impl_finalize(rc); }
int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }
const char *dist_backend_name(void) { return dist_impl_name(); }
void dist_bind_device(Device d) { dist_impl_bind_device(d); }

DistShard dist_shard(int64_t n) {
    int64_t per = n / g_size, extra = n % g_size, r = g_rank;
    return (DistShard){r * per + (r < extra ? r : extra), per + (r < extra ? 1 : 0)};
}

int dist_shard_batch(int batch, const char *what, DistShard *out) {
    if (batch % g_size)
        return rn_fail("%s: the global batch %d does not split evenly over %d ranks (use a multiple of %d)", what, batch,
                       g_size, g_size);
    *out = dist_shard(batch);
    return 0;
}

void dist_sum(double *v, int n) {
    if (g_size > 1) dist_impl_sum_f64(v, n);
}

void dist_mean(double *v, int n) {
    if (g_size == 1) return;
    dist_impl_sum_f64(v, n);
    for (int i = 0; i < n; i++) v[i] /= g_size;
}

double dist_share(double local) {
    if (g_size == 1) return 1.0; /* exactly: a single process's loss stays untouched */
    double all = local;
    dist_impl_sum_f64(&all, 1);
    return all > 0 ? g_size * local / all : 0;
}

int dist_same(long long v, const char *what) {
    long long lo, hi;
    if (g_size == 1) return 0;
    dist_impl_minmax_i64(v, &lo, &hi);
    if (lo != hi) return rn_fail("ranks disagree on %s (%lld .. %lld): do all ranks read the same files?", what, lo, hi);
    return 0;
}

int dist_all_ok(int rc) {
    if (g_size == 1) return rc;
    long long lo, hi;
    dist_impl_minmax_i64(rc < 0, &lo, &hi); /* every rank votes, the failed one included */
    if (rc < 0) return rc;
    return hi ? rn_fail("another rank failed (its message is above)") : 0;
}

void dist_average_grads(ParamSet *ps) {
    if (g_size > 1) dist_impl_average_reals(ps->grad, ps->total, ps->device);
}

/* n values at p on device d from rank 0, staged through the host when d is a GPU (a broadcast
 * happens once per run: its copy costs nothing that matters). */
static void bcast_reals(real_t *p, size_t n, Device d) {
    if (d == DEV_CPU) {
        dist_impl_bcast(p, n * sizeof *p);
        return;
    }
    real_t *h = xmalloc(n * sizeof *h);
    const OpsBackend *b = ops_backend(d, "dist_broadcast_state");
    b->copy(h, DEV_CPU, p, d, n * sizeof *h);
    dist_impl_bcast(h, n * sizeof *h);
    b->copy(p, d, h, DEV_CPU, n * sizeof *h);
    free(h);
}

void dist_broadcast_state(ParamSet *ps, Optim *opt) {
    if (g_size == 1) return;
    bcast_reals(ps->data, ps->total, ps->device);
    if (!opt) return;
    if (opt->m) bcast_reals(opt->m, opt->n, opt->device);
    if (opt->v) bcast_reals(opt->v, opt->n, opt->device);
    dist_impl_bcast(&opt->step, sizeof opt->step);
}

void dist_broadcast_bytes(void *p, size_t bytes) {
    if (g_size > 1) dist_impl_bcast(p, bytes);
}

void *dist_gather(const void *p, size_t bytes, size_t *total) { return dist_impl_gather(p, bytes, total); }
