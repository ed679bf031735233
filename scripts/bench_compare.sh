#!/usr/bin/env bash
# bench_compare.sh: rune's engine and PyTorch at the same shapes, back to back in one script, at
# the same thread count: Debian's python3-torch (1.13) and a current PyTorch wheel (TORCH_PY, or the
# venv scripts/install-reference.sh --wheel makes: TORCH_VENV, default /work/venv-torch). Writes the
# raw outputs to OUT (default bench/raw), prints them, and ends with the ratio table of
# scripts/bench_table.py (also OUT/table.csv); bench/RESULTS.md keeps it per machine with the date.
# Run on a quiet machine; REPS (default 7) runs per row, the median is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/raw}
reps=${REPS:-7}
mkdir -p "$out"
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
[ -x ./rune ] || make -j2
venv=${TORCH_VENV:-/work/venv-torch}
if [ -z "${TORCH_PY:-}" ] && [ -x "$venv/bin/python" ]; then TORCH_PY=$venv/bin/python; fi
{ echo "# $(date -u +%FT%TZ) $(uname -m), rune $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# $(python3 scripts/bench_table.py --machine)"
  echo "# OMP_NUM_THREADS=$OMP_NUM_THREADS OMP_WAIT_POLICY=$OMP_WAIT_POLICY OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"; } > "$out/machine.txt"
cat "$out/machine.txt"
run() { echo "== $1"; shift; "$@" 2>&1 | tee "$out/$name.txt"; }
name=rune; run "rune bench (conv, carn, seg, asr)" ./rune bench --only conv,carn,seg,asr --reps "$reps"
for py in /usr/bin/python3 ${TORCH_PY:-}; do
  tag=$($py -c 'import torch; print(torch.__version__.split("+")[0])')
  name=torch-$tag-conv; run "PyTorch $tag conv (NCHW)" "$py" scripts/bench_conv.py "$reps"
  name=torch-$tag-conv-cl; run "PyTorch $tag conv (channels-last)" "$py" scripts/bench_conv.py "$reps" --channels-last
  name=torch-$tag-carn; run "PyTorch $tag CARN-M" "$py" scripts/bench_carn.py "$reps"
  name=torch-$tag-seg; run "PyTorch $tag segmenters" "$py" scripts/bench_seg.py "$reps"
  name=torch-$tag-asr; run "PyTorch $tag ASR step" "$py" scripts/bench_asr.py "$reps"
done
name=rune-again; run "rune bench again (drift check)" ./rune bench --only carn --reps "$reps"
echo
echo "== ratio table"
python3 scripts/bench_table.py "$out"
