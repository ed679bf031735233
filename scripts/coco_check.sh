#!/bin/sh
# coco_check.sh: rune eval-det's AP beside pycocotools' (and darknet's formula) on coco128 and coco-mini, both Yolo-Fastest models.
# Needs a venv with pycocotools (not a rune requirement):
#   python3 -m venv .venv-coco && .venv-coco/bin/pip install pycocotools pillow
# Writes runs/coco_check/ (rune's logs and results files, the converted ground truth, check.csv);
# exits non-zero when any measure differs by more than 0.1 points.
set -eu
RUNE=${RUNE:-./rune}
PY=${PY:-.venv-coco/bin/python}
SHARED=${SHARED:-../shared}
OUT=${OUT:-runs/coco_check}
W=$SHARED/weights/darknet
if ! "$PY" -c "import pycocotools" 2>/dev/null; then
    echo "coco_check.sh: no pycocotools in $PY; python3 -m venv .venv-coco && .venv-coco/bin/pip install pycocotools pillow" >&2
    exit 2
fi
mkdir -p "$OUT"
rm -f "$OUT/check.csv"
"$PY" scripts/coco_check.py gt --data "$SHARED/data/coco128" -o "$OUT/coco128_gt.json"
fail=0
for m in yolo-fastest-1.1 yolo-fastest-1.1-xl; do
    for ds in coco128 coco-mini; do
        if [ "$ds" = coco128 ]; then fmt=yolo gt=$OUT/coco128_gt.json; else fmt=coco gt=$SHARED/data/coco-mini/ann_file.json; fi
        run="$RUNE eval-det --model $W/$m.cfg --weights $W/$m.weights --data $SHARED/data/$ds --format $fmt"
        $run --ap coco --json "$OUT/${ds}_$m.json" > "$OUT/${ds}_${m}_coco.txt" 2>/dev/null
        $run --ap darknet > "$OUT/${ds}_${m}_darknet.txt" 2>/dev/null
        "$PY" scripts/coco_check.py eval --gt "$gt" --dets "$OUT/${ds}_$m.json" --rune-coco "$OUT/${ds}_${m}_coco.txt" \
            --rune-darknet "$OUT/${ds}_${m}_darknet.txt" --label "$ds $m" --csv "$OUT/check.csv" || fail=1
    done
done
# Table 6's own pipeline (eval-det-asr: square resize, degrade, reconstruct, detect) through pycocotools:
# bilinear, the published CARN-M at x2/x4 and hr on coco128's eval split (the trained detection SR
# models are not in the repository; the scoring code is the same for any method).
$RUNE eval-det-asr --model "$W/yolo-fastest-1.1.cfg" --weights "$W/yolo-fastest-1.1.weights" --data "$SHARED/data/coco128" \
    --scales 2,4 --method carn:2:weights/carn_m.h5 --method carn:4:weights/carn_m.h5 --out "$OUT/table6" \
    --json "$OUT/table6/json" --quiet > "$OUT/table6.txt" 2>&1
"$PY" scripts/coco_check.py table6 --data "$SHARED/data/coco128" --json "$OUT/table6/json" --table "$OUT/table6/table6.csv" \
    --classes "$OUT/table6/classes.csv" --csv "$OUT/table6_check.csv" || fail=1
exit $fail
