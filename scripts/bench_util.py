"""bench_util.py: what the PyTorch bench scripts share — the device switch, synchronised timing, BENCH lines.

On a GPU the scripts run at float32 without TF32 (rune's convolutions are float32 FMA too) and with
cudnn.benchmark on (rune measures cuDNN's algorithms per shape as well), so the comparison is like
for like. `BENCH <impl> <key> <ms>` lines are what scripts/gpu-bench.sh tabulates.
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


def bench_line(fmt, key, seconds):
    """The machine-readable line gpu-bench.sh reads: impl torch-nchw / torch-cl, key, ms."""
    impl = "torch-cl" if fmt == torch.channels_last else "torch-nchw"
    print("BENCH %s %s %.3f" % (impl, key, 1e3 * seconds), flush=True)
