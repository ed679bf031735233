/* allreduce.c: times MPI_Allreduce (sum, in place) of N floats, as dist_average_grads does per training step (run: mpicc -O2 bench/mpi/allreduce.c && mpirun -np 2 ./a.out N REPS). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long n = argc > 1 ? atol(argv[1]) : 294147; /* CARN-M x4's gradient buffer */
    int reps = argc > 2 ? atoi(argv[2]) : 200;
    float *g = malloc((size_t)n * sizeof *g);
    for (long i = 0; i < n; i++) g[i] = (float)(i % 7) * 1e-3f;
    for (int w = 0; w < 10; w++) MPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double best = 1e30, sum = 0;
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        t = MPI_Wtime() - t;
        sum += t, best = t < best ? t : best;
    }
    if (rank == 0)
        printf("allreduce %d ranks, %ld floats (%.2f MB): mean %.3f ms, best %.3f ms, %.2f GB/s bus (2(N-1)/N bytes)\n",
               size, n, n * 4e-6, 1e3 * sum / reps, 1e3 * best, 2.0 * (size - 1) / size * n * 4 / (sum / reps) / 1e9);
    free(g);
    MPI_Finalize();
    return 0;
}
