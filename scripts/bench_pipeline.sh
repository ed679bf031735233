#!/usr/bin/env bash
# bench_pipeline.sh: the user-facing times beside bench_compare.sh's per-step ones: the wall time of
# `rune eval` on CamVid test for one method at x4 (per frame: degrade, SR, ESPNet on the SR, bilinear
# and HR frames), and frames per second of `rune upscale` (one process per frame: load, decode, SR,
# encode) at 480x360 and 2048x1024 output. Prints one line each and writes OUT/pipeline.txt and
# OUT/pipeline.csv (what,frames,wall_s,fps); OUT defaults to bench/raw.
#   FRAMES=N   eval only the first N test frames (default 0 = all 233)
#   REPS=N     upscale runs per size (default 5)
#   SR=FILE    the x4 SR checkpoint (default results/camvid/checkpoints/asr_x4_s1.h5, else weights/carn_m.h5)
#   DATA=DIR   CamVid root (default ../shared/data/camvid)
#   RUNE=BIN   the rune binary to time (default ./rune)
# Run on a quiet machine, with the thread settings of bench_compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/raw}
frames=${FRAMES:-0}
reps=${REPS:-5}
data=${DATA:-../shared/data/camvid}
R=${RUNE:-./rune} # RUNE=another binary times it the same way (a before/after pair)
sr=${SR:-results/camvid/checkpoints/asr_x4_s1.h5}
[ -f "$sr" ] || sr=weights/carn_m.h5
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
[ -x ./rune ] || make -j2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "what,frames,wall_s,fps" > "$tmp/pipeline.csv"

# record WHAT FRAMES SECONDS: one human line and one CSV row
record() {
  local fps
  fps=$(awk -v n="$2" -v s="$3" 'BEGIN { printf "%.3f", n / s }')
  printf '%-52s %5d frames %9.2f s %8s frames/s\n' "$1" "$2" "$3" "$fps"
  echo "$1,$2,$3,$fps" >> "$tmp/pipeline.csv"
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

bench_eval() {
  local n=$frames t0 t1
  [ "$n" -gt 0 ] || n=$(find "$data/test" -name '*.png' | wc -l)
  t0=$EPOCHREALTIME
  "$R" eval --task weights/espnet_camvid.h5 --data "$data" --scales 4 --method "asr:4:$sr" --frames "$frames" \
    --bootstrap 0 --no-figures --quiet --out "$tmp/eval" > "$tmp/eval.log"
  t1=$EPOCHREALTIME
  record "rune eval camvid test x4 ($(basename "$sr") + espnet)" "$n" "$(elapsed "$t0" "$t1")"
}

# A 512x256 LR frame (2048x1024 out), smooth and deterministic: SR time does not depend on content.
synthetic_lr() {
  python3 - "$1" <<'PY'
import struct, sys, zlib
w, h = 512, 256
raw = b"".join(b"\0" + bytes(v for x in range(w) for v in ((x // 2) % 256, (y + x // 4) % 256, (x * y // 64) % 256))
               for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
PY
}

# upscale_fps LR_PNG LABEL: reps runs of `rune upscale` x4, one process each
upscale_fps() {
  local t0 t1
  "$R" upscale --model "$sr" --scale 4 "$1" "$tmp/warm.png" > /dev/null # page cache, first-run costs
  t0=$EPOCHREALTIME
  for ((i = 0; i < reps; i++)); do "$R" upscale --model "$sr" --scale 4 "$1" "$tmp/out.png" > /dev/null; done
  t1=$EPOCHREALTIME
  record "rune upscale x4 -> $2 ($(basename "$sr"))" "$reps" "$(elapsed "$t0" "$t1")"
}

{
  echo "# $(date -u +%FT%TZ) rune $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $(python3 scripts/bench_table.py --machine)"
  echo "# OMP_NUM_THREADS=$OMP_NUM_THREADS OMP_WAIT_POLICY=$OMP_WAIT_POLICY OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"
  bench_eval
  frame=$(find "$data/test" -name '*.png' | sort | head -1)
  "$R" degrade --scale 4 --quality 0 "$frame" "$tmp/lr480.png" > /dev/null
  upscale_fps "$tmp/lr480.png" 480x360
  synthetic_lr "$tmp/lr2048.png"
  upscale_fps "$tmp/lr2048.png" 2048x1024
} | tee "$tmp/pipeline.txt"
cp "$tmp/pipeline.txt" "$tmp/pipeline.csv" "$out/"
