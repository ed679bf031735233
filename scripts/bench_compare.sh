#!/usr/bin/env bash
# bench_compare.sh: rune's engine and PyTorch at the same shapes, back to back in one script, at
# the same thread count: Debian's python3-torch (1.13) and, when given, a current PyTorch
# (TORCH_PY=/path/to/venv/bin/python). Writes the raw outputs to OUT (default bench/raw) and prints
# them; bench/RESULTS.md holds the digested table. Run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/raw}
reps=${REPS:-7}
mkdir -p "$out"
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
[ -x ./rune ] || make -j2
{ echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  echo "# OMP_NUM_THREADS=$OMP_NUM_THREADS OMP_WAIT_POLICY=$OMP_WAIT_POLICY OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE"; } > "$out/machine.txt"
run() { echo "== $1"; shift; "$@" 2>&1 | tee "$out/$name.txt"; }
name=rune; run "rune bench (conv, carn)" ./rune bench --only conv,carn,seg,asr --reps "$reps"
for py in /usr/bin/python3 ${TORCH_PY:-}; do
  tag=$($py -c 'import torch; print(torch.__version__.split("+")[0])')
  name=torch-$tag-conv; run "PyTorch $tag conv" "$py" scripts/bench_conv.py "$reps"
  name=torch-$tag-carn; run "PyTorch $tag CARN-M" "$py" scripts/bench_carn.py "$reps"
  name=torch-$tag-seg; run "PyTorch $tag segmenters" "$py" scripts/bench_seg.py "$reps"
  name=torch-$tag-asr; run "PyTorch $tag ASR step" "$py" scripts/bench_asr.py "$reps"
done
name=rune-again; run "rune bench again (drift check)" ./rune bench --only carn --reps "$reps"
