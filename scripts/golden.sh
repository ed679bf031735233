#!/usr/bin/env bash
# golden.sh: runs a fixed set of subcommands on small real inputs and writes their outputs to
# OUTDIR, so that a refactoring can be checked for unchanged behaviour:
#   scripts/golden.sh /tmp/before; (change); scripts/golden.sh /tmp/after; scripts/golden.sh --diff /tmp/before /tmp/after
# Timings, rates and dates are masked before comparing; everything else must match byte for byte.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --diff ]; then
    rc=0
    for f in $(cd "$2" && find . -type f | sort); do
        case "$f" in
            *.png|*.jpg) cmp -s "$2/$f" "$3/$f" || { echo "DIFF $f"; rc=1; }; continue;;
            # HDF5 files hold write times: compare their data (h5diff, from hdf5-tools) when possible
            # JSON is compared as data, so a change of writer (layout, number spelling) is no difference
            *.json) python3 scripts/json_same.py "$2/$f" "$3/$f" || { echo "DIFF $f"; rc=1; }; continue;;
            *.h5) command -v h5diff >/dev/null && { h5diff -q "$2/$f" "$3/$f" || { echo "DIFF $f"; rc=1; }; }; continue;;
        esac
        diff -q <(scripts/golden.sh --mask "$2" < "$2/$f") <(scripts/golden.sh --mask "$3" < "$3/$f") >/dev/null ||
            { echo "DIFF $f"; diff <(scripts/golden.sh --mask "$2" < "$2/$f") <(scripts/golden.sh --mask "$3" < "$3/$f") | head -n 6; rc=1; }
    done
    for f in $(cd "$3" && find . -type f | sort); do [ -e "$2/$f" ] || { echo "NEW $f"; rc=1; }; done
    [ $rc -eq 0 ] && echo "golden: identical"
    exit $rc
fi
if [ "${1:-}" = --mask ]; then
    # seconds, rates, ETAs, dates and temp paths vary run to run
    sed -E -e "s#${2:-@@}#OUT#g" -e 's/[0-9]+(\.[0-9]+)? ?(s|ms|min|frames\/s|steps\/s|img\/s|it\/s|fps)\b/T/g' \
        -e 's/(wall|time|seconds|elapsed|eta|ETA)[^,]*/\1 T/g' -e 's/20[0-9]{2}-[0-9]{2}-[0-9]{2}[T ][0-9:.Z]*/DATE/g' \
        -e 's#/tmp/[A-Za-z0-9_.-]+#/tmp/X#g' -e 's/\r/\n/g' | grep -v -E '^\s*$'
    exit 0
fi
dest=${1:?usage: scripts/golden.sh OUTDIR | --diff A B}
# Every run writes to the same folder, so that paths recorded inside outputs (checkpoint
# attributes, logs) match between two runs; the results are then moved to OUTDIR.
out=runs/golden
rm -rf "$out"
R=${RUNE:-./rune}
S=${RUNE_SHARED:-../shared}
mkdir -p "$out"
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive
frame=data/samples/camvid/test/$(ls data/samples/camvid/test | head -n1)
run() { local name=$1; shift; "$R" "$@" > "$out/$name.log" 2>&1; echo "rc=$?" >> "$out/$name.log"; }
run demo demo --out "$out/demo" --sr-steps 6 --asr-steps 4
run degrade degrade --scale 4 --quality 50 "$frame" "$out/degraded.jpg"
run segment segment --model weights/espnet_camvid.h5 --labels "$out/seg_labels.png" "$frame" "$out/seg.png"
run upscale upscale --model weights/carn_m.h5 --scale 4 "$frame" "$out/up.png"
run eval_seg eval-seg --model weights/espnet_camvid.h5 --data data/samples/camvid --split test --csv "$out/eval_seg.csv"
run eval eval --task weights/espnet_camvid.h5 --data data/samples/camvid --split test --scales 4 --sr weights/carn_m.h5 \
    --bootstrap 50 --no-figures --quiet --out "$out/eval"
run train_task train-task --data data/samples/camvid --split test --steps 3 --batch 2 --crop 64 --quiet \
    --out "$out/task.h5"
run train_sr train-sr --data data/samples/camvid --out "$out/sr.h5" --init weights/carn_m.h5 --steps 3 --batch 2 \
    --ckpt-every 3 --quiet
run finetune_asr finetune-asr --sr weights/carn_m.h5 --task weights/espnet_camvid.h5 --data data/samples/camvid \
    --out "$out/asr.h5" --steps 2 --batch 1 --crop 96 --ckpt-every 2 --quiet
if [ -d "$S/weights/darknet" ]; then
    cfg=$S/weights/darknet/yolo-fastest-1.1.cfg; wts=$S/weights/darknet/yolo-fastest-1.1.weights
    img=$S/data/coco128/images/$(ls "$S/data/coco128/images" | head -n1)
    run detect detect --model "$cfg" --weights "$wts" --json "$out/det.json" "$img" "$out/det.png"
    run eval_det eval-det --model "$cfg" --weights "$wts" --data "$S/data/coco128" --format yolo --limit 8 \
        --csv "$out/eval_det.csv"
    run eval_det_coco eval-det --model "$cfg" --weights "$wts" --data "$S/data/coco-mini" --format coco
    run eval_det_asr eval-det-asr --model "$cfg" --weights "$wts" --data "$S/data/coco128" --scales 2 --limit 4 \
        --out "$out/eval_det_asr" --quiet
    run finetune_det finetune-asr --task-kind det --sr weights/carn_m.h5 --task "$cfg" --weights "$wts" --scale 2 \
        --data "$S/data/coco128" --out "$out/asr_det.h5" --steps 2 --batch 1 --ckpt-every 2 --quiet
    run eval_sr eval-sr --model weights/carn_m.h5 --scale 4 --data "$S/data/sr-bench/Set5" --csv "$out/eval_sr.csv"
fi
rm -rf "$dest" && mkdir -p "$(dirname "$dest")" && mv "$out" "$dest"
echo "golden: wrote $dest"
