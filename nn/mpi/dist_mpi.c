/* dist_mpi.c: nn/dist.h's primitives on MPI (built with make MPI=1; replaces the weak single-process ones in nn/dist.c). */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/dist.h"
#include "util/err.h"

/* MPI counts are ints: larger buffers go in pieces of at most this many elements. */
#define CHUNK ((size_t)1 << 30)

static int g_size = 1;

static void check(int rc, const char *what) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fprintf(stderr, "rune: %s failed: %.*s\n", what, len, msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

int dist_impl_init(int *argc, char ***argv, int *rank, int *size) {
    int provided = 0;
    /* funneled: only the main thread calls MPI (the loader's prefetch thread never does) */
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    /* errors come back as codes, so check() can name the call that failed */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    g_size = *size;
    return 0;
}

void dist_impl_finalize(int rc) {
    if (rc != 0 && g_size > 1) MPI_Abort(MPI_COMM_WORLD, rc); /* the other ranks may be waiting in a collective */
    MPI_Finalize();
}

/* The GPU path (nn/mpi/nccl.c replaces these when the build also has CUDA): by default a device
 * buffer is averaged through a host copy with MPI, and no device is bound. Only these are weak
 * here: nn/dist.c's weak single-process versions of the others must lose to strong ones. */
__attribute__((weak)) int dist_gpu_average(real_t *p, size_t n) { return (void)p, (void)n, -1; }
__attribute__((weak)) int dist_gpu_present(void) { return 0; }
__attribute__((weak)) void dist_gpu_bind(Device d) { (void)d; }

const char *dist_impl_name(void) { return dist_gpu_present() ? "MPI + NCCL" : "MPI"; }
void dist_impl_bind_device(Device d) { dist_gpu_bind(d); }

void dist_impl_sum_f64(double *v, int n) {
    check(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
}

void dist_impl_minmax_i64(long long v, long long *lo, long long *hi) {
    check(MPI_Allreduce(&v, lo, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
    check(MPI_Allreduce(&v, hi, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
}

/* Sum over ranks, then * 1/size: the mean gradient (with 2 or 4 ranks the scaling is exact). */
static void average_host(real_t *p, size_t n) {
    MPI_Datatype t = sizeof(real_t) == sizeof(float) ? MPI_FLOAT : MPI_DOUBLE;
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        check(MPI_Allreduce(MPI_IN_PLACE, p + off, (int)k, t, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce (gradients)");
    }
    real_t inv = (real_t)(1.0 / g_size);
    for (size_t i = 0; i < n; i++) p[i] *= inv;
}

void dist_impl_average_reals(real_t *p, size_t n, Device d) {
    if (d == DEV_CPU) {
        average_host(p, n);
        return;
    }
    if (dist_gpu_average(p, n) == 0) return;
    /* no NCCL in this build: through the host (Debian's Open MPI is not built CUDA-aware) */
    const OpsBackend *b = ops_backend(d, "dist_average_grads");
    real_t *h = xmalloc(n * sizeof *h);
    b->copy(h, DEV_CPU, p, d, n * sizeof *h);
    average_host(h, n);
    b->copy(p, d, h, DEV_CPU, n * sizeof *h);
    free(h);
}

void dist_impl_bcast(void *p, size_t bytes) {
    for (size_t off = 0; off < bytes; off += CHUNK) {
        size_t k = bytes - off < CHUNK ? bytes - off : CHUNK;
        check(MPI_Bcast((char *)p + off, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
    }
}

void *dist_impl_gather(const void *p, size_t bytes, size_t *total) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    RN_CHECK(bytes <= INT_MAX, "dist_gather: %zu bytes from one rank (at most %d)", bytes, INT_MAX);
    int mine = (int)bytes, *sizes = rank == 0 ? xmalloc((size_t)g_size * sizeof *sizes) : NULL;
    check(MPI_Gather(&mine, 1, MPI_INT, sizes, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
    int *offs = NULL;
    char *all = NULL;
    if (rank == 0) {
        offs = xmalloc((size_t)g_size * sizeof *offs);
        long long sum = 0;
        for (int r = 0; r < g_size; r++) {
            RN_CHECK(sum <= INT_MAX, "dist_gather: more than %d bytes in all", INT_MAX);
            offs[r] = (int)sum, sum += sizes[r];
        }
        RN_CHECK(sum <= INT_MAX, "dist_gather: more than %d bytes in all", INT_MAX);
        all = xmalloc(sum ? (size_t)sum : 1);
        *total = (size_t)sum;
    }
    check(MPI_Gatherv(p, mine, MPI_BYTE, all, sizes, offs, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Gatherv");
    free(sizes), free(offs);
    if (rank != 0) *total = 0;
    return all;
}
