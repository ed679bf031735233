/* dist.h: data-parallel runs over MPI ranks — rank and size, a rank's shard of a global batch or a frame list, gradient averaging, broadcasts, gathers, rank-0 I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/optim.h"
#include "nn/params.h"

/* One binary, two builds. A plain `make` links the single-process versions in nn/dist.c (rank 0
 * of 1: every collective is a no-op, so a training step does exactly what it did before). With
 * `make MPI=1` nn/mpi/dist_mpi.c replaces them (weak symbols, as nn/backend.c does for CUDA):
 * `mpirun -np N rune ...` then runs N ranks that each take a disjoint shard of every global batch
 * and average their gradients with MPI_Allreduce on the flat gradient buffer (ncclAllReduce on
 * the device buffer when also built with CUDA=1: nn/mpi/nccl.c). Every call here is collective:
 * all ranks make it, in the same order, from the main thread. */

/* Joins the job (MPI_Init_thread, funneled) when the build has MPI; 0 or -1 with rn_fail. Called
 * once by main before a command runs. */
int dist_init(int *argc, char ***argv);
/* Leaves the job: MPI_Finalize on success; a failed rank (rc != 0) aborts the whole job instead, so
 * no rank waits forever in a collective the failed one will never reach. */
void dist_finalize(int rc);

int dist_rank(void);
int dist_size(void);
static inline bool dist_is_root(void) { return dist_rank() == 0; } /* rank 0 writes files, logs, progress */
const char *dist_backend_name(void); /* "single process", "MPI", "MPI + NCCL" */

/* Binds this rank to a device before anything is placed on it: with NCCL, GPU (local rank mod the
 * GPUs on the host), one process per GPU; a no-op otherwise. */
void dist_bind_device(Device d);

/* This rank's contiguous share [begin, begin+count) of n items (frames of a sweep): the first
 * n % size ranks get one more, so ranks in order cover 0..n-1 exactly once. */
typedef struct DistShard {
    int64_t begin, count;
} DistShard;
DistShard dist_shard(int64_t n);
/* The same for a global batch of `batch` items, which must split evenly (equal shards are what
 * makes the mean of per-rank mean losses the global mean); -1 with rn_fail naming `what` if not. */
int dist_shard_batch(int batch, const char *what, DistShard *out);

/* Element-wise sum / mean of v[0..n) over ranks, in place, on every rank. */
void dist_sum(double *v, int n);
void dist_mean(double *v, int n);
/* N * local / sum over ranks of local: the factor by which a rank scales a loss that is a mean
 * over `local` counted items (cross-entropy over non-ignored pixels, weighted), so that the
 * average of the scaled per-rank gradients is the gradient of the global mean. 1 in one process;
 * 0 when nothing is counted anywhere. */
double dist_share(double local);
/* 0 when every rank holds the same v; else -1 with rn_fail naming `what` (a resume step read from
 * different files, say). */
int dist_same(long long v, const char *what);

/* One outcome for all ranks from each rank's rc (0 or -1), before a step that every rank must
 * reach together (a gather, the next collective): a rank that failed keeps its own -1 and message;
 * the others get -1 with rn_fail saying another rank failed, so no rank walks on into a collective
 * a failed one will never reach. rc itself in one process. */
int dist_all_ok(int rc);

/* The gradient all-reduce of a training step: ps->grad (all ps->total values, on ps->device)
 * becomes the mean over ranks. */
void dist_average_grads(ParamSet *ps);
/* Rank 0's parameters and buffers (and opt's moments and step when opt is given) copied to every
 * rank, so all ranks start from one state whatever each read or initialised. */
void dist_broadcast_state(ParamSet *ps, Optim *opt);
/* Rank 0's `bytes` at p (host memory) copied to every rank. */
void dist_broadcast_bytes(void *p, size_t bytes);
/* Each rank's `bytes` at p (sizes may differ); on rank 0 a malloc'ed concatenation in rank order
 * (*total its size), NULL elsewhere. With dist_shard, rank order is item order: a sweep's results
 * gathered this way are laid out exactly as one process would have produced them. */
void *dist_gather(const void *p, size_t bytes, size_t *total);

/* ---- the backend's primitives (nn/dist.c: single-process; nn/mpi/dist_mpi.c: MPI) ---- */
int dist_impl_init(int *argc, char ***argv, int *rank, int *size);
void dist_impl_finalize(int rc);
const char *dist_impl_name(void);
void dist_impl_bind_device(Device d);
void dist_impl_sum_f64(double *v, int n);
void dist_impl_minmax_i64(long long v, long long *lo, long long *hi);
void dist_impl_average_reals(real_t *p, size_t n, Device d); /* sum over ranks / size */
void dist_impl_bcast(void *p, size_t bytes);                  /* host memory, from rank 0 */
void *dist_impl_gather(const void *p, size_t bytes, size_t *total);
/* MPI build's GPU hook: averages n values of device memory in place (0), or -1 when this build has no
 * NCCL (dist_mpi.c then goes through a host copy). nn/mpi/nccl.c: ncclAllReduce with ncclAvg. */
int dist_gpu_average(real_t *p, size_t n);
int dist_gpu_present(void);   /* 1 in a build with NCCL */
void dist_gpu_bind(Device d); /* NCCL build: this rank's GPU (dist_bind_device) */
