#!/usr/bin/env bash
# test-mpi.sh: runs the data-parallel tests (tests/mpi/, each starts mpirun itself) against an
# MPI=1 build in BUILD (default build/mpi); ends with the test binary's "N passed, N failed" line.
set -u
build=${1:-build/mpi}; shift $(( $# > 0 ? 1 : 0 ))
command -v "${MPIRUN:-mpirun}" >/dev/null || { echo "test-mpi: no mpirun (scripts/install-mpi.sh installs Open MPI)"; echo "0 passed, 1 failed"; exit 1; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} RUNE_BIN=$build/rune
exec "$build/test_mpi" "$@"
