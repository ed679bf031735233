/* round.c: times one round of the profile sweep's collectives over MPI ranks, as profile/sweep.c
 * makes them per frame per rank: two agreements (dist_all_ok: an MPI_Allreduce min and max of one
 * long long each) around one gather of B bytes per rank to rank 0 (dist_gather: MPI_Gather of the
 * sizes, then MPI_Gatherv). Usage: mpirun -np N ./a.out [B=1000] [reps=2000] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static void agree(void) {
    long long v = 0, lo, hi;
    MPI_Allreduce(&v, &lo, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&v, &hi, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
}

static void gather(const char *mine, int bytes, char *all, int *sizes, int *offs, int rank, int size) {
    MPI_Gather(&bytes, 1, MPI_INT, sizes, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (int r = 0, o = 0; r < size; o += sizes[r++]) offs[r] = o;
    MPI_Gatherv(mine, bytes, MPI_BYTE, all, sizes, offs, MPI_BYTE, 0, MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int bytes = argc > 1 ? atoi(argv[1]) : 1000; /* (1 + 4 x 31 configurations) doubles: one CamVid frame */
    int reps = argc > 2 ? atoi(argv[2]) : 2000;
    char *mine = calloc((size_t)bytes + 1, 1), *all = calloc((size_t)bytes * size + 1, 1);
    int *sizes = calloc((size_t)size, sizeof *sizes), *offs = calloc((size_t)size, sizeof *offs);
    for (int w = 0; w < 50; w++) agree(), gather(mine, bytes, all, sizes, offs, rank, size), agree();
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < reps; i++) agree(), gather(mine, bytes, all, sizes, offs, rank, size), agree();
    double t = (MPI_Wtime() - t0) / reps;
    if (rank == 0) printf("%d ranks, %d bytes per rank: %.2f us per round\n", size, bytes, 1e6 * t);
    free(mine), free(all), free(sizes), free(offs);
    MPI_Finalize();
    return 0;
}
