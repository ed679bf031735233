#!/usr/bin/env bash
# asan-commands.sh: builds rune with AddressSanitizer + UndefinedBehaviorSanitizer (leak checks on)
# into BUILD_DIR and runs a handful of quick subcommands on the embedded samples, as a user would;
# `make asan` covers the tests, this covers the command paths (flags, output files, error exits).
#   scripts/asan-commands.sh [BUILD_DIR]     (default: build/asan, which `make asan` also fills)
# Fails if any run reports a sanitizer error or a leak, if a good run fails, or if a bad-input run
# does not fail with rune's own message (exit 1, or 2 for a bad command line). Logs: BUILD_DIR/asan-commands/*.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${1:-build/asan}
make -j2 BUILD="$build" OPT=-O1 \
    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
    "$build/rune" >/dev/null || { echo "asan-commands: the ASan build failed" >&2; exit 1; }
R=$build/rune
out=$build/asan-commands
rm -rf "$out" && mkdir -p "$out"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive
frame=data/samples/camvid/test/Seq05VD_f00000.png
failed=0

# sanitized NAME WANT ARGS...: runs rune ARGS; WANT is ok (exit 0), fail (exit 1 with a "rune ..."
# message) or usage (exit 2 with the usage line).
sanitized() {
    local name=$1 want=$2 log=$out/$1.log rc
    shift 2
    local t0=$SECONDS
    "$R" "$@" >"$log" 2>&1
    rc=$?
    local why=""
    if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer" "$log"; then
        why="sanitizer report"
    elif [ "$want" = ok ] && [ $rc -ne 0 ]; then
        why="exit $rc"
    elif [ "$want" = fail ] && { [ $rc -ne 1 ] || ! grep -q "^rune " "$log"; }; then
        why="exit $rc without a clean error message"
    elif [ "$want" = usage ] && { [ $rc -ne 2 ] || ! grep -q "^usage: rune " "$log"; }; then
        why="exit $rc without the usage line"
    fi
    if [ -n "$why" ]; then
        echo "FAIL $name ($why): rune $*"
        grep -m1 -A12 -E "ERROR: |runtime error:" "$log" | sed 's/^/    /'
        [ "$want" != ok ] && sed 's/^/    /' "$log" | head -n 5
        failed=$((failed + 1))
    else
        echo "ok   $name ($((SECONDS - t0)) s)"
    fi
}

sanitized help ok --help
for c in degrade upscale segment eval eval-det train-sr finetune-asr mask-stats import; do sanitized "help_$c" ok "$c" --help; done
sanitized degrade ok degrade --scale 4 --quality 50 "$frame" "$out/degraded.jpg"
sanitized upscale ok upscale --model weights/carn_m.h5 --scale 4 "$frame" "$out/up.png"
sanitized segment ok segment --model weights/espnet_camvid.h5 --labels "$out/labels.png" "$frame" "$out/seg.png"
sanitized eval_seg ok eval-seg --model weights/espnet_camvid.h5 --data data/samples/camvid --split test \
    --csv "$out/eval_seg.csv"
sanitized eval ok eval --task weights/espnet_camvid.h5 --data data/samples/camvid --split test --scales 4 \
    --sr weights/carn_m.h5 --frames 2 --episode 1 --bootstrap 20 --no-figures --quiet --out "$out/eval"
sanitized train_sr ok train-sr --data data/samples/camvid --init weights/carn_m.h5 --out "$out/sr.h5" --steps 2 \
    --batch 2 --lr-patch 8 --ckpt-every 2 --quiet
sanitized finetune_asr ok finetune-asr --sr weights/carn_m.h5 --task weights/espnet_camvid.h5 \
    --data data/samples/camvid --out "$out/asr.h5" --steps 2 --batch 1 --crop 64 --ckpt-every 2 --quiet
sanitized mask_stats ok mask-stats --data data/samples/camvid --split test --small 0.005,0.01 --csv "$out/mask_stats.csv"
sanitized train_task ok train-task --data data/samples/camvid --split test --steps 2 --batch 2 --crop 64 --quiet \
    --out "$out/task.h5"
sanitized import_list ok import --list tests/fixtures/torchio_tiny_zip.pth
sanitized demo ok demo --out "$out/demo" --sr-steps 2 --asr-steps 2
sanitized bench_breakdown ok bench --only carn --reps 1 --breakdown
# bad input must fail cleanly, without a sanitizer report or a leak on the error path
sanitized bad_frame fail degrade --scale 4 "$out/no_such_frame.png" "$out/x.jpg"
sanitized bad_model fail segment --model weights/carn_m.h5 "$frame" "$out/x.png"
sanitized bad_patch fail train-sr --data data/samples/camvid --init weights/carn_m.h5 --out "$out/p.h5" --steps 2 \
    --lr-patch 1000 --quiet
sanitized bad_pth fail import --list tests/fixtures/torchio_bad_deflate.pth
sanitized bad_data fail eval-seg --model weights/espnet_camvid.h5 --data "$out/no_such_dir" --split test
sanitized bad_task fail finetune-asr --sr weights/carn_m.h5 --task weights/carn_m.h5 --data data/samples/camvid \
    --out "$out/bad.h5" --steps 2 --batch 1 --crop 64 --quiet
# finetune-asr's data and threshold, refused before any model loads: a --small outside (0, 1); a
# label map of another size than its frame (a half-size frame beside a full-size label); a list
# whose annotation folder is missing; a folder of frames without labels
asr_bad() { local name=$1 want=$2 data=$3; shift 3
    sanitized "$name" "$want" finetune-asr --sr weights/carn_m.h5 --task weights/espnet_camvid.h5 --data "$data" \
        --out "$out/$name.h5" --steps 2 --batch 1 --crop 64 --quiet "$@"; }
asr_bad bad_small usage data/samples/camvid --small 1.5
mkdir -p "$out/badsize/train" "$out/badsize/trainannot" "$out/noannot/train"
"$R" degrade --scale 2 --quality 0 "$frame" "$out/badsize/train/Seq05VD_f00000.png" >/dev/null 2>&1
cp data/samples/camvid/testannot/Seq05VD_f00000.png "$out/badsize/trainannot/"
cp "$frame" "$out/noannot/train/"
for d in badsize noannot; do echo "train/Seq05VD_f00000.png trainannot/Seq05VD_f00000.png" > "$out/$d/train.txt"; done
asr_bad bad_label_size fail "$out/badsize"
asr_bad bad_no_annot fail "$out/noannot"
asr_bad bad_no_labels fail data/samples/camvid/test
sanitized bad_mask_stats fail mask-stats --data "$out/noannot" --dataset camvid --split train
# a profile whose model file changed since it was measured: refused before listening
echo "another model" > "$out/changed.h5"
sed "s#\"weights/carn_m.h5\"#\"$out/changed.h5\"#" data/samples/serve_profile.json > "$out/changed_profile.json"
sanitized serve_cloud_changed_model fail serve-cloud --listen tcp://127.0.0.1:29871 --profile "$out/changed_profile.json" --threshold 0.085
# serve-edge --source through FFmpeg: a missing video, and a file that is no video (libavformat refuses it)
sanitized serve_edge_source_missing fail serve-edge --connect tcp://127.0.0.1:1 --source "$out/none.mkv" --wait-cloud 0
cp data/samples/serve_profile.json "$out/not_a_video.mp4"
sanitized serve_edge_source_garbage fail serve-edge --connect tcp://127.0.0.1:1 --source "$out/not_a_video.mp4" --wait-cloud 0
# serve-reconcile on a hand-written pair of CSVs (a summary row covering two frames; every frame accounted for)
printf 'edge,frame_id,probe,status\ne,1,0,sent\ne,2,0,sent\ne,3,0,sent\n' > "$out/rec_edge.csv"
printf 'edge,frame_id,probe,status,reason\ne,1,0,processed,none\ne,3,,stale_summary,2\n' > "$out/rec_cloud.csv"
sanitized serve_reconcile ok serve-reconcile "$out/rec_edge.csv" "$out/rec_cloud.csv" --json "$out/rec.json"
sanitized bad_flag usage eval-seg --model weights/espnet_camvid.h5 --no-such-flag
# detection metrics on the shared COCO sample and Yolo-Fastest, where ../shared is there (a clone has none)
yf=../shared/weights/darknet/yolo-fastest-1.1
if [ -d ../shared/data/coco-mini ] && [ -f $yf.weights ]; then
    sanitized eval_det_coco ok eval-det --model $yf.cfg --weights $yf.weights --data ../shared/data/coco-mini \
        --format coco --ap coco --json "$out/dets.json" --csv "$out/det.csv"
    sanitized eval_det_darknet ok eval-det --model $yf.cfg --weights $yf.weights --data ../shared/data/coco-mini \
        --format coco --ap darknet --points 101
    mkdir -p "$out/empty"
    sanitized eval_det_empty fail eval-det --model $yf.cfg --weights $yf.weights --data "$out/empty" --format yolo
    sanitized eval_det_no_labels fail eval-det --model $yf.cfg --weights $yf.weights --data "$out" --format yolo
    sanitized eval_det_bad_ap usage eval-det --model $yf.cfg --weights $yf.weights --data ../shared/data/coco-mini --ap voc
    sanitized eval_det_asr_json ok eval-det-asr --model $yf.cfg --weights $yf.weights --data ../shared/data/coco128 \
        --scales 4 --method carn:4:weights/carn_m.h5 --limit 2 --out "$out/t6" --json "$out/t6/json" --quiet
else
    echo "asan-commands: ../shared (coco-mini, Yolo-Fastest) absent, eval-det runs skipped"
fi

if [ $failed -gt 0 ]; then
    echo "asan-commands: $failed run(s) failed (logs in $out)"
    exit 1
fi
echo "asan-commands: all runs clean"
