#!/bin/sh
# repro.sh: detection ASR on coco128 (Table 6) — import Yolo-Fastest, SR x4, ASR (small boxes) and the L1-only control, eval.
# Run from the repo root: RUNE=./rune RUNS=runs/detasr sh results/coco/repro.sh ; each step's wall time goes to $RUNS/times.txt.
set -e
RUNE=${RUNE:-./rune}
RUNS=${RUNS:-runs/detasr}
COCO=${COCO:-../shared/data/coco128}
STEPS=${STEPS:-300}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=passive OPENBLAS_CORETYPE=SkylakeX
mkdir -p "$RUNS/train96"
t() { # t NAME CMD... : run, log, time
    name=$1; shift
    s=$(date +%s)
    "$@" > "$RUNS/$name.log" 2>&1
    echo "$name $(( $(date +%s) - s )) s: $*" >> "$RUNS/times.txt"
}
# the training split: the first 96 images by sorted name (the last 32 are the evaluation split)
ls "$COCO/images" | sort | head -96 | while read f; do ln -sf "$(cd "$COCO/images" && pwd)/$f" "$RUNS/train96/$f"; done
[ -f "$RUNS/yf.h5" ] || t import $RUNE import ../shared/weights/darknet/yolo-fastest-1.1.cfg ../shared/weights/darknet/yolo-fastest-1.1.weights -o "$RUNS/yf.h5"
[ -f "$RUNS/sr_x4.h5" ] || t train_sr $RUNE train-sr --data "$RUNS/train96" --out "$RUNS/sr_x4.h5" --init weights/carn_m.h5 --scale 4 --steps 300 --ckpt-every 100 --batch 16
t asr_x4 $RUNE finetune-asr --task-kind det --sr "$RUNS/sr_x4.h5" --task "$RUNS/yf.h5" --data "$COCO" --out "$RUNS/asr_x4.h5" \
    --scale 4 --batch 2 --steps $STEPS --ckpt-every 50 --lr 5e-5 --resume
t l1_x4 $RUNE finetune-asr --task-kind det --beta 0 --sr "$RUNS/sr_x4.h5" --task "$RUNS/yf.h5" --data "$COCO" \
    --out "$RUNS/l1_x4.h5" --scale 4 --batch 2 --steps $STEPS --ckpt-every 50 --lr 5e-5 --resume
t eval $RUNE eval-det-asr --model "$RUNS/yf.h5" --data "$COCO" --scales 2,4 --sr "$RUNS/sr_x4.h5" \
    --asr "$RUNS/asr_x4.h5" --method l1:4:"$RUNS/l1_x4.h5" --method sr:2:weights/carn_m.h5 --method div2k:4:weights/carn_m.h5 \
    --out results/coco
# CloudSeg-style baseline (Eq. 2: MSE to the detector's head outputs on hr), same schedule; then Table 6 again with it
t cloudseg_x4 $RUNE finetune-asr --task-kind det --loss cloudseg --sr "$RUNS/sr_x4.h5" --task "$RUNS/yf.h5" --data "$COCO" \
    --out "$RUNS/cloudseg_x4.h5" --scale 4 --batch 2 --steps $STEPS --ckpt-every 50 --lr 5e-5 --resume
# x2: the same pipeline (SR from the published x2 head, then ASR and the L1-only control)
[ -f "$RUNS/sr_x2.h5" ] || t train_sr_x2 $RUNE train-sr --data "$RUNS/train96" --out "$RUNS/sr_x2.h5" --init weights/carn_m.h5 --scale 2 --steps 300 --ckpt-every 100 --batch 16
t asr_x2 $RUNE finetune-asr --task-kind det --sr "$RUNS/sr_x2.h5" --task "$RUNS/yf.h5" --data "$COCO" --out "$RUNS/asr_x2.h5" \
    --scale 2 --batch 2 --steps $STEPS --ckpt-every 50 --lr 5e-5 --resume
t l1_x2 $RUNE finetune-asr --task-kind det --beta 0 --sr "$RUNS/sr_x2.h5" --task "$RUNS/yf.h5" --data "$COCO" \
    --out "$RUNS/l1_x2.h5" --scale 2 --batch 2 --steps $STEPS --ckpt-every 50 --lr 5e-5 --resume
# Table 6 with everything (this is the committed results/coco/table6.*)
t eval_all $RUNE eval-det-asr --model "$RUNS/yf.h5" --data "$COCO" --scales 2,4 \
    --method sr:2:"$RUNS/sr_x2.h5" --method asr:2:"$RUNS/asr_x2.h5" --method l1:2:"$RUNS/l1_x2.h5" --method div2k:2:weights/carn_m.h5 \
    --method sr:4:"$RUNS/sr_x4.h5" --method cloudseg:4:"$RUNS/cloudseg_x4.h5" --method asr:4:"$RUNS/asr_x4.h5" \
    --method l1:4:"$RUNS/l1_x4.h5" --method div2k:4:weights/carn_m.h5 --out results/coco
