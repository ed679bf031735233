#!/bin/sh
# bench_json.sh: jansson vs cJSON parse speed on a large COCO annotation file, made here by
# replicating ../shared/data/coco-mini's images and annotations with new ids (no large one is shared).
#   scripts/bench_json.sh [MB] [REPEATS]     (default: about 80 MB, best of 3)
# Needs gcc, python3, libjansson-dev and libcjson-dev. Independent of the Makefile; builds into build/bench_json/.
set -eu
cd "$(dirname "$0")/.."
mb=${1:-80}
reps=${2:-3}
out=build/bench_json
src=${RUNE_SHARED:-../shared}/data/coco-mini/ann_file.json
mkdir -p "$out"
# shellcheck disable=SC2046 # pkg-config output is meant to split
gcc -std=c11 -D_GNU_SOURCE -O2 -o "$out/bench_json" scripts/bench_json.c $(pkg-config --cflags --libs jansson libcjson)
big=$out/coco_${mb}mb.json
[ -f "$big" ] || python3 - "$src" "$big" "$mb" <<'PY'
import json, sys
src, dst, mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
d = json.load(open(src))
one = len(json.dumps({"images": d["images"], "annotations": d["annotations"]}, separators=(",", ":")))
copies = max(1, int(mb * 1e6 / one))
imgs, anns, aid = [], [], 1
for c in range(copies):  # copy c: image ids offset by c * 10^7, annotation ids counted up
    for im in d["images"]:
        imgs.append(dict(im, id=im["id"] + c * 10**7))
    for a in d["annotations"]:
        anns.append(dict(a, image_id=a["image_id"] + c * 10**7, id=aid))
        aid += 1
d["images"], d["annotations"] = imgs, anns
json.dump(d, open(dst, "w"), separators=(",", ":"))  # compact, as COCO ships its files
print(f"{dst}: {copies} copies, {len(imgs)} images, {len(anns)} annotations")
PY
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores; $(date -u +%Y-%m-%d)"
echo "jansson $(pkg-config --modversion jansson), cJSON $(pkg-config --modversion libcjson); gcc -O2; best of $reps"
for lib in jansson cjson jansson cjson; do # twice, interleaved, to show the spread on a shared machine
    "$out/bench_json" "$lib" "$big" "$reps"
done
