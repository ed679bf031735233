/* nccl.c: the GPU side of data-parallel runs (make CUDA=1 MPI=1): one process per GPU, gradients averaged on the device with ncclAllReduce, the communicator set up through MPI. */
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>
#include <stdio.h>

#include "nn/dist.h"
#include "util/err.h"

static ncclComm_t g_comm;
static int g_ready; /* the communicator exists */

static void check_nccl(ncclResult_t r, const char *what) {
    if (r != ncclSuccess) rn_die("%s: %s (NCCL)", what, ncclGetErrorString(r));
}

static void check_cuda(cudaError_t e, const char *what) {
    if (e != cudaSuccess) rn_die("%s: %s (CUDA)", what, cudaGetErrorString(e));
}

int dist_gpu_present(void) { return 1; }

/* This rank's GPU: its index among the ranks on this host, modulo the host's GPUs, so that
 * `mpirun -np <GPUs per host>` puts one process on each. Must run before anything is placed on the
 * device: the CUDA backend uses the current device throughout. */
void dist_gpu_bind(Device d) {
    if (d != DEV_CUDA) return;
    MPI_Comm local;
    int lrank = 0, ngpu = 0;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &lrank);
    MPI_Comm_free(&local);
    if (cudaGetDeviceCount(&ngpu) != cudaSuccess || ngpu == 0) return; /* device_ready says why */
    check_cuda(cudaSetDevice(lrank % ngpu), "cudaSetDevice");
}

/* Rank 0 makes the unique id, MPI carries it to the others, every rank joins (collective: the
 * first gradient average of a run is made by all ranks together). */
static void comm_init(void) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ncclUniqueId id;
    if (rank == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
    check_nccl(ncclCommInitRank(&g_comm, size, id, rank), "ncclCommInitRank");
    g_ready = 1;
}

/* In place on the default stream, where the CUDA backend queues every kernel, so the average is
 * ordered after the backward pass that wrote the gradients and before the optimizer reads them. */
int dist_gpu_average(real_t *p, size_t n) {
    if (!g_ready) comm_init();
    ncclDataType_t t = sizeof(real_t) == sizeof(float) ? ncclFloat32 : ncclFloat64;
    check_nccl(ncclAllReduce(p, p, n, t, ncclAvg, g_comm, cudaStreamLegacy), "ncclAllReduce (gradients)");
    check_cuda(cudaStreamSynchronize(cudaStreamLegacy), "cudaStreamSynchronize");
    return 0;
}
