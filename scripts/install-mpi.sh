#!/usr/bin/env bash
# install-mpi.sh: installs Open MPI from Debian (mpirun + headers), which only `make MPI=1` and
# `make test-mpi` need; a plain build needs none of it (idempotent, as install-deps.sh).
set -euo pipefail
pkgs=(openmpi-bin libopenmpi-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-mpi: Open MPI present ($(mpirun --version 2>/dev/null | head -n1))"
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-mpi: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
