#!/bin/sh
# fuzz.sh: builds the libFuzzer harnesses in fuzz/ with clang (ASan + UBSan) and runs each for N seconds.
#   scripts/fuzz.sh [SECONDS] [png|jpeg|annotations|wire|frame|reconcile|shaper|profile ...]     (default: 60 s each, all eight harnesses)
# Independent of the Makefile: it compiles the few sources each harness needs. The working corpus
# (seeded from fuzz/seeds/<target>) and any crash/leak/timeout inputs land in build/fuzz/.
# Inputs under fuzz/regress/<target> (past findings) are replayed first.
# Reproduce a finding with: build/fuzz/fuzz_<target> build/fuzz/crashes_<target>/<file>
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-png jpeg annotations wire frame reconcile shaper profile}
out=build/fuzz
cc=${FUZZ_CC:-clang}
mkdir -p "$out"
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -I. $(pkg-config --cflags libpng libturbojpeg jansson)
        -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
libs="$(pkg-config --libs libpng libturbojpeg jansson) -lm"
status=0
for t in $targets; do
    [ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz.sh: no harness fuzz/fuzz_$t.c" >&2; exit 2; }
    echo "== building fuzz_$t"
    case $t in
        annotations) srcs="data/ds_common.c data/ds_coco.c data/ds_yolo.c data/ds_visdrone.c";;
        wire) srcs="serve/wire.c";;
        frame) srcs="serve/wire.c serve/admit.c data/image.c data/png.c data/jpeg.c data/degrade.c data/resize.c";;
        reconcile) srcs="serve/reconcile.c serve/wire.c";;
        shaper) srcs="serve/shaper.c";;
        profile) srcs="profile/profile_json.c profile/signals.c profile/tail.c profile/seg_metrics.c util/sort.c util/progress.c";;
        *) srcs="data/image.c data/png.c data/jpeg.c";;
    esac
    dict=""
    [ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
    # shellcheck disable=SC2086 # word splitting of the flag lists is intended
    $cc $cflags -o "$out/fuzz_$t" "fuzz/fuzz_$t.c" $srcs util/err.c $libs
    mkdir -p "$out/corpus_$t" "$out/crashes_$t"
    if [ -d "fuzz/regress/$t" ]; then # past findings must stay fixed
        echo "== replaying fuzz/regress/$t"
        "$out/fuzz_$t" -timeout=10 fuzz/regress/"$t"/* >"$out/regress_$t.log" 2>&1 ||
            { echo "fuzz.sh: a past finding is back (see $out/regress_$t.log)" >&2; status=1; }
    fi
    cp fuzz/seeds/"$t"/* "$out/corpus_$t/"
    echo "== running fuzz_$t for ${secs}s"
    # shellcheck disable=SC2086 # $dict is empty or one flag
    # frame: what one FRAME may cost the cloud; an admitted 1920x1080 payload decodes into 6 MB, so
    # 512 MB is the harness's whole budget (libFuzzer's own corpus and ASan's shadow included)
    rss=2048; [ "$t" = frame ] && rss=512
    "$out/fuzz_$t" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb="$rss" \
        $dict -artifact_prefix="$out/crashes_$t/" -print_final_stats=1 \
        "$out/corpus_$t" 2>"$out/fuzz_$t.log" || status=1
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|ERROR|SUMMARY" "$out/fuzz_$t.log" || true
    echo "   corpus: $(ls "$out/corpus_$t" | wc -l) inputs; findings: $(ls "$out/crashes_$t" | wc -l) (log $out/fuzz_$t.log)"
done
exit $status
