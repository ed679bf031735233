/* mpi_exec.h: runs the rune binary of an MPI=1 build ($RUNE_BIN) under mpirun for the tests in tests/mpi/. */
#pragma once
#include <stddef.h>

#define MPI_OUT_SIZE 65536
extern char mpi_out[MPI_OUT_SIZE]; /* the output of the last mpi_run_ok */

/* Runs "mpirun -np NP $RUNE_BIN ARGS" (NP 0: the binary alone, no mpirun) with output into
 * out[n]; returns the exit status. Skips the test when RUNE_BIN is not set. */
int mpi_exec(int np, const char *args, char *out, size_t n);
/* The same into mpi_out, expecting exit status 0. */
void mpi_run_ok(int np, const char *args);
/* The files in dir, sorted names joined by spaces (each followed by one). */
const char *dir_listing(const char *dir);
