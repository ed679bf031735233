#!/usr/bin/env bash
# install-reference.sh: the PyTorch references for fixtures and benchmarks (not needed to build or test).
#   scripts/install-reference.sh              Debian's python3-torch (1.13): fixtures, bench_compare.sh
#   scripts/install-reference.sh --wheel DIR  also a current PyTorch wheel in a venv at DIR (e.g.
#                                             /work/venv-torch, outside the repo so every checkout
#                                             shares it), bench_compare.sh's second peer (TORCH_VENV=DIR)
# The wheel comes from the default package index; TORCH_INDEX=URL picks a CPU-only wheel index
# instead where one is reachable (the default index's Linux wheel pulls the CUDA libraries too,
# a few GB, which it needs to import even on a CPU-only machine).
set -euo pipefail
wheel=""
if [ "${1:-}" = "--wheel" ]; then
  wheel=${2:?--wheel needs a folder for the venv}
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-torch python3-numpy python3-h5py python3-venv
echo "Debian torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
[ -n "$wheel" ] || exit 0
[ -x "$wheel/bin/python" ] || python3 -m venv "$wheel"
"$wheel/bin/pip" install -q torch ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
"$wheel/bin/pip" install -q h5py numpy pillow # the reference modules (scripts/fixtures) import them
echo "wheel torch in $wheel: $("$wheel/bin/python" -c 'import torch; print(torch.__version__)')"
