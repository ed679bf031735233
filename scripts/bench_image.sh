#!/bin/sh
# bench_image.sh: rune's image I/O speed (bench/bench_image.c) next to libjpeg-turbo's own tjbench,
# on a 480x360 CamVid frame and a 2048x1024 upscale of it (the same pixels for both tools).
#   scripts/bench_image.sh [FRAME.png]     (default: the first embedded sample frame)
# Needs gcc, libpng, libturbojpeg, and tjbench + pngtopnm (Debian: libjpeg-turbo-progs, netpbm).
# Independent of the Makefile; builds into build/bench_image/. One thread throughout.
set -eu
cd "$(dirname "$0")/.."
frame=${1:-data/samples/camvid/test/Seq05VD_f00000.png}
out=build/bench_image
mkdir -p "$out"
# shellcheck disable=SC2046 # pkg-config output is meant to split
gcc -std=c11 -D_GNU_SOURCE -O3 -march=native -I. $(pkg-config --cflags libpng libturbojpeg) -DBENCH_IMAGE_MAIN \
    -o "$out/bench_image" bench/bench_image.c data/image.c data/png.c data/jpeg.c data/resize.c data/degrade.c \
    util/err.c $(pkg-config --libs libpng libturbojpeg) -lm
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores; $(date -u +%Y-%m-%d)"
echo "libjpeg-turbo $(pkg-config --modversion libturbojpeg), libpng $(pkg-config --modversion libpng)"
echo
"$out/bench_image" "$frame"
"$out/bench_image" "$frame" "$out/big.png"
pngtopnm "$frame" >"$out/small.ppm"
pngtopnm "$out/big.png" >"$out/big.ppm"
for q in 95 70; do
    for f in small big; do
        echo
        echo "== tjbench $f.ppm q$q 4:2:0 (RGB pixels, compress + decompress)"
        tjbench "$out/$f.ppm" $q -rgb -subsamp 420 -benchtime 2 -warmup 0.5 -nowrite -quiet 2>&1 |
            grep -v '^$' | sed 's/^/  /'
    done
done
