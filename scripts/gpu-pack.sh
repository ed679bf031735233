#!/usr/bin/env bash
# gpu-pack.sh: builds rune and test_unit with CUDA=1 here and packs them, with the non-CUDA shared
# libraries they need, into .gpu/ (git-ignored), for a GPU machine that has the CUDA runtime but
# not rune's Debian -dev packages. scripts/gpu-check.sh uses the pack when it finds one.
# Usage: scripts/gpu-pack.sh   (then carry .gpu to the GPU machine)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/gpu
# .gpu/ is in .gitignore. x86-64-v3 (AVX2), not -march=native: the GPU host's CPU is not this one.
# VIDEO=0: no FFmpeg (serve-edge --source plays folders only there); its ~180 libraries would not fit the pack.
make -j"$(nproc)" BUILD=$build CUDA=1 VIDEO=0 ARCH=-march=x86-64-v3 $build/rune $build/test_unit >/dev/null
rm -rf .gpu && mkdir -p .gpu/lib
# glibc and the CUDA libraries come from the GPU machine itself; everything else travels.
ldd $build/test_unit $build/rune | awk '/=>/ {print $3}' | sort -u |
    grep -vE '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*)\.so|/usr/local/cuda|libcud|libcublas' |
    while read -r lib; do cp -L "$lib" .gpu/lib/; done
cp $build/rune $build/test_unit .gpu/
(cd .gpu && tar cJf lib.tar.xz lib && rm -rf lib)
# The shared files the CUDA tests read (the GPU machine gets the repo, not ../shared): Yolo-Fastest
# and one COCO image for the detect parity test. gpu-check.sh points RUNE_SHARED here.
shared=${RUNE_SHARED:-../shared}
for f in weights/darknet/yolo-fastest-1.1.cfg weights/darknet/yolo-fastest-1.1.weights weights/darknet/coco.names \
    data/coco-mini/000000037777.jpg; do
    if [ -f "$shared/$f" ]; then mkdir -p ".gpu/shared/$(dirname "$f")" && cp "$shared/$f" ".gpu/shared/$f"; fi
done
du -sh .gpu
