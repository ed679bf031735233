#!/bin/sh
# repro.sh: detection ASR on coco128 (Table 6) — import Yolo-Fastest, SR x2/x4, per seed ASR (small boxes), the
# all-boxes and L1-only controls and the CloudSeg baseline, then Table 6 per seed with paired-bootstrap differences.
# Run from the repo root: sh results/coco/repro.sh ; each step's wall time goes to $RUNS/times.txt, and every
# fine-tune resumes where it stopped, so the script can be rerun after an interruption.
set -e
RUNE=${RUNE:-./rune}
RUNS=${RUNS:-runs/detasr}
COCO=${COCO:-../shared/data/coco128}
STEPS=${STEPS:-300}
SEEDS=${SEEDS:-"1 2"}
OUT=${OUT:-results/coco}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=passive
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
for s in 4 2; do
    t train_sr_x$s $RUNE train-sr --data "$RUNS/train96" --out "$RUNS/sr_x$s.h5" --init weights/carn_m.h5 --scale $s \
        --steps 300 --ckpt-every 100 --batch 16 --resume
done
ft() { # ft NAME SCALE SEED extra... : one fine-tune from sr_xSCALE (seed 1 keeps the names without a suffix)
    name=$1 s=$2 seed=$3; shift 3
    [ "$seed" = 1 ] || name=${name}_s$seed
    t $name $RUNE finetune-asr --task-kind det --sr "$RUNS/sr_x$s.h5" --task "$RUNS/yf.h5" --data "$COCO" \
        --out "$RUNS/$name.h5" --scale $s --batch 2 --steps $STEPS --ckpt-every 50 --lr 5e-5 --seed $seed --resume --quiet "$@"
}
for seed in $SEEDS; do
    ft asr_x4 4 $seed                    # small boxes only (the paper's detection ASR)
    ft asrall_x4 4 $seed --mask all      # control: every box
    ft cloudseg_x4 4 $seed --loss cloudseg # Eq. 2: MSE to the detector's head outputs on hr
    ft l1_x4 4 $seed --beta 0            # control: same schedule, L1 only
    ft asr_x2 2 $seed
    ft l1_x2 2 $seed --beta 0
done
for seed in $SEEDS; do
    sfx=; dir=$OUT; [ "$seed" = 1 ] || { sfx=_s$seed; dir=$OUT/seed$seed; }
    t eval_s$seed $RUNE eval-det-asr --model "$RUNS/yf.h5" --data "$COCO" --scales 2,4 --quiet \
        --method sr:2:"$RUNS/sr_x2.h5" --method asr:2:"$RUNS/asr_x2$sfx.h5" --method l1:2:"$RUNS/l1_x2$sfx.h5" \
        --method div2k:2:weights/carn_m.h5 --method sr:4:"$RUNS/sr_x4.h5" --method cloudseg:4:"$RUNS/cloudseg_x4$sfx.h5" \
        --method asr:4:"$RUNS/asr_x4$sfx.h5" --method asrall:4:"$RUNS/asrall_x4$sfx.h5" --method l1:4:"$RUNS/l1_x4$sfx.h5" \
        --method div2k:4:weights/carn_m.h5 --out "$dir" \
        --diffs asr-sr,asr-l1,asr-bilinear,asr-cloudseg,asr-asrall,asr-hr,asrall-sr,asrall-l1,cloudseg-sr,l1-sr,sr-bilinear
done
