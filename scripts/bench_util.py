"""bench_util.py: what the PyTorch bench scripts share — the device switch, synchronised timing, BENCH lines.

On a GPU the scripts run at float32 without TF32 (rune's convolutions are float32 FMA too) and with
cudnn.benchmark on (rune measures cuDNN's algorithms per shape as well), so the comparison is like
for like. `BENCH <impl> <key> <median ms> <min ms>` lines (impl torch-nchw or torch-cl) are what
scripts/gpu-bench.sh and scripts/bench_table.py tabulate, beside rune bench's `BENCH rune ...`.
"""
import time

import torch


def add_device_arg(parser):
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: time on the GPU (synchronised, cuDNN autotuned, no TF32)")


def setup(device, threads=None):
    """The torch.device to run on; sets CPU threads or the GPU's float32 settings."""
    if device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: torch sees no GPU")
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    elif threads:
        torch.set_num_threads(threads)
    return torch.device(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_runs(fn, reps, device, warmup=1):
    """Median, min and max seconds of reps runs of fn after warmup runs, each waited for."""
    for _ in range(warmup):
        fn()
    sync(device)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync(device)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2], ts[0], ts[-1]


def bench_line(fmt, key, seconds, min_seconds=None):
    """The machine-readable line gpu-bench.sh and bench_table.py read: impl torch-nchw / torch-cl,
    key, median ms, min ms (the median again when no min is given)."""
    impl = "torch-cl" if fmt == torch.channels_last else "torch-nchw"
    lo = seconds if min_seconds is None else min_seconds
    print("BENCH %s %s %.3f %.3f" % (impl, key, 1e3 * seconds, 1e3 * lo), flush=True)


def conv_key(name):
    """The BENCH key of a conv shape row, as bench/bench_conv.c writes it: "carn 3x3 g4 64->64 16x16"
    -> "conv_carn_3x3_g4_64-64_16x16"."""
    return "conv_" + name.replace("->", "-").replace("/", "s").replace(" ", "_")
