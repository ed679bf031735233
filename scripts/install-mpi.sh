#!/usr/bin/env bash
# install-mpi.sh: installs Open MPI from Debian (mpirun + headers), which only `make MPI=1` and
# `make test-mpi` need; a plain build needs none of it (idempotent, through install-deps.sh).
set -euo pipefail
"$(dirname "$0")/install-deps.sh" openmpi-bin libopenmpi-dev
mpirun --version 2>/dev/null | head -n1
