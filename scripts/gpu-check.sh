#!/usr/bin/env bash
# gpu-check.sh: on a machine with an NVIDIA GPU — build with CUDA, run the CPU-vs-CUDA parity tests,
# write logs under ${OUT:-gpu-logs}. cuDNN may come only with PyTorch's wheels there: it is looked
# for rather than assumed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-logs}
mkdir -p "$out"
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
cudnn=$(python3 -c 'import nvidia.cudnn as m; print(m.__path__[0] + "/lib")' 2>/dev/null ||
        dirname "$(find / -name 'libcudnn.so*' 2>/dev/null | head -n1)" 2>/dev/null || true)
[ -n "$cudnn" ] && export LD_LIBRARY_PATH="$cudnn:${LD_LIBRARY_PATH:-}"
echo "cuDNN from: ${cudnn:-system}" | tee "$out/env.txt"
make -j"$(nproc)" BUILD=build/gpu CUDA=1 build/gpu/rune build/gpu/test_unit 2>&1 | tail -n 20 > "$out/build.txt"
build/gpu/test_unit cuda 2>&1 | tee "$out/cuda-tests.txt"
