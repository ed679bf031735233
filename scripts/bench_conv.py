"""bench_conv.py: PyTorch's conv2d forward+backward at the shapes of bench/bench_conv.c, for comparison.

Run with Debian's torch: OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/bench_conv.py [reps] [--channels-last]
On a GPU (scripts/gpu-bench.sh): --device cuda times the CARN-M shapes (those with a weight
gradient), NCHW and channels-last, and prints their summed medians as the conv_carn BENCH line.
Prints the same columns as `rune bench` (median ms of fwd, bwd, total; process CPU ms; GFLOP/s of
the total). TORCH_THREADS=n overrides the 2 threads (1 thread + CPU time compares kernels robustly
on a busy machine).
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

from bench_util import bench_line, conv_key, setup, sync

# name, n, cin, h, w, cout, k, stride, pad, dil, groups, wgrad (keep in step with bench/bench_conv.c)
SHAPES = [
    ("carn 3x3 g4 64->64 16x16", 16, 64, 16, 16, 64, 3, 1, 1, 1, 4, True),
    ("carn 3x3 g4 64->64 64x64", 16, 64, 64, 64, 64, 3, 1, 1, 1, 4, True),
    ("carn 1x1 64->64 16x16", 16, 64, 16, 16, 64, 1, 1, 0, 1, 1, True),
    ("carn 1x1 128->64 64x64", 16, 128, 64, 64, 64, 1, 1, 0, 1, 1, True),
    ("carn 1x1 256->64 64x64", 16, 256, 64, 64, 64, 1, 1, 0, 1, 1, True),
    ("carn 3x3 g4 64->256 64x64", 16, 64, 64, 64, 256, 3, 1, 1, 1, 4, True),
    ("carn 3x3 g4 64->256 180x240", 1, 64, 180, 240, 256, 3, 1, 1, 1, 4, True),
    ("carn 3x3 64->3 360x480", 1, 64, 360, 480, 3, 3, 1, 1, 1, 1, True),
    ("r18 7x7/2 3->64 360x480", 1, 3, 360, 480, 64, 7, 2, 3, 1, 1, False),
    ("r18 3x3 64->64 90x120", 1, 64, 90, 120, 64, 3, 1, 1, 1, 1, False),
    ("r18 3x3/2 64->128 90x120", 1, 64, 90, 120, 128, 3, 2, 1, 1, 1, False),
    ("r18 3x3 128->128 45x60", 1, 128, 45, 60, 128, 3, 1, 1, 1, 1, False),
    ("r18 3x3/2 128->256 45x60", 1, 128, 45, 60, 256, 3, 2, 1, 1, 1, False),
    ("r18 3x3 256->256 23x30", 1, 256, 23, 30, 256, 3, 1, 1, 1, 1, False),
    ("r18 3x3 512->512 12x15", 1, 512, 12, 15, 512, 3, 1, 1, 1, 1, False),
    ("r18 1x1/2 64->128 90x120", 1, 64, 90, 120, 128, 1, 2, 0, 1, 1, False),
    ("r18 3x3/2 256->512 23x30", 1, 256, 23, 30, 512, 3, 2, 1, 1, 1, False),
    ("r18 1x1/2 128->256 45x60", 1, 128, 45, 60, 256, 1, 2, 0, 1, 1, False),
    ("r18 1x1/2 256->512 23x30", 1, 256, 23, 30, 512, 1, 2, 0, 1, 1, False),
]


def bench(shape, reps, channels_last, dev):
    """Prints one shape's line; returns its median total (forward + backward) in ms."""
    name, n, cin, h, w, cout, k, s, p, d, g, wgrad = shape
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = (torch.rand(n, cin, h, w, device=dev) - 0.5).to(memory_format=fmt).requires_grad_(True)
    wt = (torch.rand(cout, cin // g, k, k, device=dev) - 0.5).to(memory_format=fmt).requires_grad_(wgrad)
    b = (torch.rand(cout, device=dev) - 0.5).requires_grad_(True) if wgrad else None
    fwd, bwd, tot, cpu = [], [], [], []
    warm = 1 if dev.type == "cpu" else 2  # the first GPU runs also autotune cuDNN
    for r in range(reps + warm):
        x.grad = wt.grad = None
        sync(dev)
        c0, t0 = time.process_time(), time.perf_counter()
        y = F.conv2d(x, wt, b, stride=s, padding=p, dilation=d, groups=g)
        sync(dev)
        t1 = time.perf_counter()
        y.backward(torch.ones_like(y))
        sync(dev)
        t2, c2 = time.perf_counter(), time.process_time()
        if r >= warm:
            fwd.append((t1 - t0) * 1e3), bwd.append((t2 - t1) * 1e3), tot.append((t2 - t0) * 1e3)
            cpu.append((c2 - c0) * 1e3)
    fwd.sort(), bwd.sort(), tot.sort(), cpu.sort()
    oh, ow = y.shape[2], y.shape[3]
    flop = 2.0 * n * cout * oh * ow * (cin // g) * k * k * (3 if wgrad else 2)
    m = len(tot) // 2
    print(f"{name:<28} {'dx,dw' if wgrad else 'dx':<5} fwd {fwd[m]:7.2f}  bwd {bwd[m]:7.2f}  total {tot[m]:7.2f} ms "
          f"(min {tot[0]:7.2f}, max {tot[-1]:7.2f}, cpu {cpu[m]:7.2f})  {flop / (tot[m] * 1e6):6.1f} GFLOP/s")
    if dev.type == "cpu":  # per-shape rows for bench_table.py (on a GPU only the sum below counts)
        bench_line(fmt, conv_key(name), tot[m] / 1e3, tot[0] / 1e3)
    return tot[m]


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 5
    gpu = "--device" in sys.argv and sys.argv[sys.argv.index("--device") + 1:][:1] == ["cuda"]
    dev = setup("cuda" if gpu else "cpu", threads=int(os.environ.get("TORCH_THREADS", "2")))
    for cl in (False, True) if gpu else ("--channels-last" in sys.argv,):
        print(f"torch {torch.__version__} conv2d forward+backward on {dev.type}, median of {reps} runs, "
              f"{torch.get_num_threads()} threads, {'channels-last' if cl else 'NCHW'}")
        total = sum(bench(s, reps, cl, dev) for s in SHAPES if s[11] or not gpu)
        if gpu:
            bench_line(torch.channels_last if cl else torch.contiguous_format, "conv_carn", total / 1e3)


if __name__ == "__main__":
    main()
