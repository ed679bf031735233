#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages rune needs to build, run and test (idempotent).
# Debian's python3-torch is NOT needed here: it only regenerates fixtures and runs the comparison
# benchmarks (scripts/install-reference.sh). With package names as arguments it installs those
# instead (scripts/install-mpi.sh uses it for Open MPI). FFmpeg's libraries (libav*, libswscale) read
# video files, streams and V4L2 cameras for `rune serve-edge --source` (data/video_source.c).
set -euo pipefail
pkgs=(build-essential pkg-config libpng-dev libturbojpeg0-dev libhdf5-dev libjansson-dev libopenblas-dev
      libzmq3-dev gnuplot-nox libavformat-dev libavcodec-dev libswscale-dev libavdevice-dev libavutil-dev)
[ $# -gt 0 ] && pkgs=("$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
