#!/usr/bin/env bash
# gpu-bench.sh: rune on the GPU beside PyTorch + cuDNN on the same card, in one script: a CARN-M
# training step (batch 16, 64x64 HR), CARN-M x4 inference 512x256 -> 2048x1024, SwiftNet-RN18
# forward at 2048x1024 and an ASR step at 2048x1024 through a frozen ESPNet and SwiftNet; prints
# each side's log, then a table of medians (ms) and rune's speed relative to PyTorch's NCHW and
# channels-last runs (> 1: rune faster). Both sides float32 (PyTorch's TF32 off), cuDNN autotuned.
# Then per-op breakdowns of rune's slowest rows (rune bench --breakdown).
# The first row, CARN-M's conv layers alone (cuDNN through rune vs F.conv2d), stands even when a
# whole-model row fails. Run by scripts/gpu-check.sh with RUNE=<rune binary built with CUDA=1>; REPS (default 10).
set -uo pipefail
cd "$(dirname "$0")/.."
rune=${RUNE:-./rune}
reps=${REPS:-10}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/card: /'
date -u +"date: %F %TZ"

# Each rune benchmark in its own process: one that fails leaves the others standing, and says so.
for key in conv_carn carn_train carn_infer swiftnet_fwd asr_espnet asr_swiftnet; do
    timeout 120 "$rune" bench --device cuda --only "$key" --reps "$reps" 2>&1 | tee -a "$log" ||
        echo "rune $key: FAILED (exit ${PIPESTATUS[0]}): its row shows no rune time" | tee -a "$log"
done
# The conv-heavy rows again with convolutions on cuDNN's legacy API only (the rows above take, per
# shape and pass, the faster of it and the backend graph API): the difference is what the graph
# path bought. Their BENCH lines are renamed "rune-legacy" for the table.
# LEGACY=0 skips them (and BREAKDOWN=0 the breakdowns below) when device time is short.
[ "${LEGACY:-1}" = 0 ] || for key in swiftnet_fwd carn_infer asr_espnet; do
    RUNE_CUDNN_API=legacy timeout 120 "$rune" bench --device cuda --only "$key" --reps "$reps" 2>&1 |
        sed 's/^BENCH rune /BENCH rune-legacy /' | tee -a "$log" ||
        echo "rune $key (legacy cuDNN API): FAILED (exit ${PIPESTATUS[0]})" | tee -a "$log"
done
export PYTHONUNBUFFERED=1
timeout 120 python3 scripts/bench_conv.py "$reps" --device cuda 2>&1 | tee -a "$log"
timeout 120 python3 scripts/bench_carn.py "$reps" --device cuda --infer 256x512 2>&1 | tee -a "$log"
timeout 120 python3 scripts/bench_seg.py "$reps" --device cuda --only swiftnet-2048 2>&1 | tee -a "$log"
timeout 180 python3 scripts/bench_asr.py "$reps" --device cuda --size 1024x2048 --task espnet,swiftnet 2>&1 |
    tee -a "$log"

python3 - "$log" <<'PY'
import sys
rows = [("conv_carn", "CARN-M's training conv shapes alone, fwd+bwd, summed"),
        ("carn_train", "CARN-M train step, 16 x 64x64 HR (fwd+bwd)"),
        ("carn_infer", "CARN-M x4 inference 512x256 -> 2048x1024"),
        ("swiftnet_fwd", "SwiftNet-RN18 forward 2048x1024"),
        ("asr_espnet", "ASR step 2048x1024, frozen ESPNet"),
        ("asr_swiftnet", "ASR step 2048x1024, frozen SwiftNet-RN18")]
ms = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 4 and f[0] == "BENCH":  # impl key median_ms [min_ms]
        ms[(f[1], f[2])] = float(f[3])
def cell(v):
    return "%.2f" % v if v is not None else "-"
def ratio(a, b):
    return "%.2f" % (b / a) if a and b else "-"
print()
print("| benchmark | rune ms | rune ms, legacy cuDNN API | PyTorch NCHW ms | PyTorch channels-last ms | rune speed vs NCHW | vs channels-last |")
print("|---|---|---|---|---|---|---|")
for key, what in rows:
    r, n, c = ms.get(("rune", key)), ms.get(("torch-nchw", key)), ms.get(("torch-cl", key))
    lg = ms.get(("rune-legacy", key))
    print("| %s | %s | %s | %s | %s | %s | %s |" % (what, cell(r), cell(lg), cell(n), cell(c), ratio(r, n), ratio(r, c)))
missing = [k for k, _ in rows if ("rune", k) not in ms]
if missing:
    print("\nno rune time for: %s (see the log above)" % ", ".join(missing))
PY

# Where rune's time goes: per-op tables (forward and backward by op, the step's host calls) for the
# three rows furthest behind, printed after the table and kept out of its log (their BENCH lines
# come from 3 reps). Each op is waited for there, so the steps run longer than the medians above.
[ "${BREAKDOWN:-1}" = 0 ] && exit 0
echo
echo "== per-op breakdowns (rune bench --breakdown)"
for key in asr_espnet swiftnet_fwd carn_infer; do
    echo "-- $key"
    timeout 90 "$rune" bench --device cuda --only "$key" --reps 3 --breakdown 2>&1 | grep -v '^BENCH ' ||
        echo "rune $key --breakdown: FAILED (exit ${PIPESTATUS[0]})"
done
