#!/usr/bin/env bash
# sr_converge.sh: trains the x6/x8 SR heads longer than repro.sh does, scoring CamVid *val* PSNR every
# 250 steps, to show whether the committed heads (repro.sh: 1000 / 1500 steps) had stopped improving.
#
#   SCALES="6 8" STEPS=4000 HALVE=1000 RUNE=build/rune OUT=runs/sr_converge scripts/sr_converge.sh
#
# Writes OUT/sr_xS.h5, OUT/sr_xS_{loss,val}.csv (resumable: --resume), OUT/curve.png (gnuplot) and
# OUT/summary.csv: the val PSNR at the committed length and the best, per scale.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNE=${RUNE:-build/rune} OUT=${OUT:-runs/sr_converge} SCALES=${SCALES:-"6 8"}
STEPS=${STEPS:-4000} HALVE=${HALVE:-1000} LR=${LR:-2e-4} VAL_FRAMES=${VAL_FRAMES:-16}
CAMVID=${CAMVID:-../shared/data/camvid}
mkdir -p "$OUT"
committed() { [ "$1" = 6 ] && echo 1000 || echo 1500; } # repro.sh's sr_steps
for s in $SCALES; do
  t0=$(date +%s)
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "$RUNE" train-sr --data "$CAMVID" --val "$CAMVID/val" --val-frames "$VAL_FRAMES" \
    --init weights/carn_m.h5 --scale "$s" --steps "$STEPS" --ckpt-every 250 --lr "$LR" --lr-halve-every "$HALVE" \
    --seed 1 --out "$OUT/sr_x$s.h5" --resume --quiet
  echo "sr_converge: x$s done in $(( $(date +%s) - t0 )) s"
done
{
  echo "scale,committed_steps,val_psnr_at_committed,best_step,best_val_psnr,gain_db,bilinear_psnr"
  for s in $SCALES; do
    awk -F, -v s="$s" -v c="$(committed "$s")" 'NR > 1 { if ($1 == c) at = $2; if ($2 > best) { best = $2; bs = $1 }; bl = $3 }
      END { printf "%s,%s,%.4f,%s,%.4f,%.4f,%.4f\n", s, c, at, bs, best, best - at, bl }' "$OUT/sr_x${s}_val.csv"
  done
} > "$OUT/summary.csv"
cat "$OUT/summary.csv"
plots=()
for s in $SCALES; do
  plots+=("'$OUT/sr_x${s}_val.csv' using 1:2 with linespoints title 'x$s SR (val PSNR)'"
          "'$OUT/sr_x${s}_val.csv' using 1:3 with lines dashtype 2 title 'x$s bilinear'")
done
if command -v gnuplot > /dev/null; then
  gnuplot <<GP
set datafile separator ','
set terminal pngcairo size 900,500
set output '$OUT/curve.png'
set xlabel 'training step'
set ylabel 'PSNR on CamVid val (dB)'
set key bottom right
set title 'x6 / x8 CARN-M heads: held-out (val) PSNR while training (lr $LR halved every $HALVE)'
plot $(IFS=,; echo "${plots[*]}")
GP
  echo "sr_converge: wrote $OUT/curve.png"
fi
