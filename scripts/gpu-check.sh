#!/usr/bin/env bash
# gpu-check.sh: on a machine with an NVIDIA GPU — run the CPU-vs-CUDA parity tests and the GPU
# benchmarks, writing logs under ${OUT:-gpu-logs}. Uses the pack from scripts/gpu-pack.sh (.gpu/)
# when present (the GPU machine may lack rune's Debian -dev packages), else builds with CUDA=1.
# cuDNN and cuBLAS may come only with PyTorch's wheels there: they are looked for, not assumed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-logs}
mkdir -p "$out"
{
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
    lscpu 2>/dev/null | grep -E 'Model name|^CPU\(s\)'
    nvcc --version 2>&1 | tail -n 2
    python3 -c 'import torch; print("torch", torch.__version__, "cudnn", torch.backends.cudnn.version())' 2>&1
} > "$out/env.txt"

# Library folders of the Python wheels that carry cuDNN, cuBLAS and the runtime, if any.
libdirs=$(python3 - <<'EOF' 2>/dev/null
import importlib, os
for m in ("nvidia.cudnn", "nvidia.cublas", "nvidia.cuda_runtime", "nvidia.cu13"):
    try:
        p = importlib.import_module(m).__path__[0]
    except Exception:
        continue
    for sub in ("lib", "lib64"):
        d = os.path.join(p, sub)
        if os.path.isdir(d):
            print(d)
EOF
)
for lib in libcudnn.so.9 libcublas.so.13 libcudart.so.13; do
    if ! printf '%s\n' $libdirs | while read -r d; do [ -e "$d/$lib" ] && exit 0; done; then
        d=$(dirname "$(find / -xdev -name "$lib*" 2>/dev/null | head -n1)" 2>/dev/null)
        [ -n "$d" ] && [ "$d" != . ] && libdirs="$libdirs $d"
    fi
done
cudalibs=$(printf '%s:' $libdirs)
echo "CUDA libraries from: ${cudalibs:-system}" | tee -a "$out/env.txt"

if [ -f .gpu/rune ]; then
    mkdir -p /tmp/rune-lib && tar xJf .gpu/lib.tar.xz -C /tmp/rune-lib
    export LD_LIBRARY_PATH="${cudalibs}/tmp/rune-lib/lib:${LD_LIBRARY_PATH:-}"
    bin=.gpu
    [ -d .gpu/shared ] && export RUNE_SHARED=$PWD/.gpu/shared # the shared files gpu-pack.sh carried
else
    export LD_LIBRARY_PATH="${cudalibs}${LD_LIBRARY_PATH:-}"
    # VIDEO=0: the GPU checks need no FFmpeg, which a GPU host set up before it may lack
    make -j"$(nproc)" BUILD=build/gpu CUDA=1 VIDEO=0 build/gpu/rune build/gpu/test_unit > "$out/build.txt" 2>&1 ||
        { echo "build failed: see $out/build.txt"; tail -n 20 "$out/build.txt"; exit 1; }
    bin=build/gpu
fi
ldd $bin/test_unit | grep -E 'not found|cud|cublas' >> "$out/env.txt"
cat "$out/env.txt"

echo "== CUDA parity tests"
export RUNE_BIN=$PWD/$bin/rune # tests that run the rune binary run this CUDA build
timeout 300 $bin/test_unit cuda 2>&1 | tee "$out/cuda-tests.txt"
if [ -x scripts/gpu-bench.sh ]; then
    echo "== GPU benchmarks"
    RUNE=$bin/rune timeout 420 scripts/gpu-bench.sh 2>&1 | tee "$out/gpu-bench.txt"
fi
