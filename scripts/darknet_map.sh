#!/bin/sh
# darknet_map.sh: AlexeyAB darknet's `detector map` beside `rune eval-det --ap darknet` on coco128, end to end (darknet built outside this repo).
#
#   DARKNET=/path/to/darknet sh scripts/darknet_map.sh [--png] [MODEL...]
#
# MODEL: yolo-fastest-1.1 and/or yolo-fastest-1.1-xl (default both; cfg + weights from $SHARED/weights/darknet).
# --png: first decode every image with rune (TurboJPEG; `rune degrade --scale 1 --quality 0`) to PNG, so
#   both tools read the same pixels: darknet decodes JPEG with stb_image, whose pixels differ slightly.
# POINTS (env, default 0): darknet's -points, passed to both (0 = area under the curve, 11, 101).
# Darknet itself is never vendored: get it from github.com/AlexeyAB/darknet into e.g. /tmp/darknet-src
# and build there with `make GPU=0 CUDNN=0 OPENCV=0 AVX=1 OPENMP=1` (checked at 59596d7, Dec 2025).
# WORK (default runs/darknet_map) gets the layout darknet's map wants (images/train2017/X.jpg beside
# labels/train2017/X.txt: it finds labels by that path; coco128's plain images/ and labels/ are not
# recognised), the .data and list files, both tools' logs and results.csv.
set -eu
: "${DARKNET:?set DARKNET=/path/to/darknet (AlexeyAB, built outside this repo)}"
RUNE=${RUNE:-./rune}
SHARED=${SHARED:-../shared}
WORK=${WORK:-runs/darknet_map}
POINTS=${POINTS:-0}
png=0
if [ "${1:-}" = --png ]; then png=1; shift; fi
models=${*:-yolo-fastest-1.1 yolo-fastest-1.1-xl}
W=$(cd "$SHARED/weights/darknet" && pwd)
SRC=$(cd "$SHARED/data/coco128" && pwd)
RUNE=$(cd "$(dirname "$RUNE")" && pwd)/$(basename "$RUNE")
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
ext=jpg; [ $png = 1 ] && ext=png
D=$WORK/coco128_$ext
rm -rf "$D"
mkdir -p "$D/images/train2017" "$D/labels/train2017"
for f in "$SRC"/images/*.jpg; do
    b=$(basename "$f" .jpg)
    if [ $png = 1 ]; then "$RUNE" degrade --scale 1 --quality 0 "$f" "$D/images/train2017/$b.png" > /dev/null
    else ln -s "$f" "$D/images/train2017/$b.jpg"; fi
done
for f in "$SRC"/labels/*.txt; do ln -s "$f" "$D/labels/train2017/"; done
mkdir -p "$D/rune"  # rune's yolo layout (DIR/images, DIR/labels) over the same files
ln -s ../images/train2017 "$D/rune/images"
ln -s ../labels/train2017 "$D/rune/labels"
cp "$SRC/config.yaml" "$D/rune/"
ls "$D"/images/train2017/*.$ext > "$D/list.txt"
printf 'classes=80\nvalid=%s\nnames=%s\nbackup=%s\n' "$D/list.txt" "$W/coco.names" "$WORK" > "$D/coco128.data"
[ -f "$WORK/results.csv" ] || echo "model,input,points,darknet_map,rune_map,diff" > "$WORK/results.csv"
for m in $models; do
    log=$WORK/${m}_$ext
    (cd "$WORK" && OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$DARKNET" detector map "$D/coco128.data" "$W/$m.cfg" "$W/$m.weights" \
        -points "$POINTS" > "$log.darknet.txt" 2> "$log.darknet.err")
    "$RUNE" eval-det --model "$W/$m.cfg" --weights "$W/$m.weights" --data "$D/rune" --format yolo --ap darknet --points "$POINTS" \
        > "$log.rune.txt" 2> "$log.rune.err" || { cat "$log.rune.err" >&2; exit 1; }
    dk=$(sed -n 's/.*mean average precision (mAP@0.50) = [0-9.]*, or \([0-9.]*\) %.*/\1/p' "$log.darknet.txt")
    rn=$(sed -n 's/^mAP@0.50 = \([0-9.]*\) % over .* model classes.*/\1/p' "$log.rune.txt")
    diff=$(awk -v a="$rn" -v b="$dk" 'BEGIN { printf "%+.2f", a - b }')
    echo "$m ($ext, -points $POINTS): darknet detector map $dk %, rune eval-det --ap darknet $rn % ($diff)"
    echo "$m,$ext,$POINTS,$dk,$rn,$diff" >> "$WORK/results.csv"
done
