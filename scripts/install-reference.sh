#!/usr/bin/env bash
# install-reference.sh: the PyTorch references for fixtures and benchmarks (not needed to build or test).
set -euo pipefail
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-torch python3-numpy python3-h5py
echo "Debian torch: /usr/bin/python3 -c 'import torch; print(torch.__version__)'"
echo "For the current PyTorch CPU wheel as a second peer: python3 -m venv .venv-torch && .venv-torch/bin/pip install torch --index-url <PyPI CPU wheels>"
