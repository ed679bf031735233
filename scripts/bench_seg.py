"""bench_seg.py: PyTorch timings of the frozen segmenters at the shapes `rune bench --only seg` times (bench/bench_seg.c).

Run with Debian's torch on the same machine and thread count as rune:
  OMP_WAIT_POLICY=passive OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/bench_seg.py [REPS]
The models are the test oracles of scripts/fixtures (gen_espnet.py, gen_swiftnet.py) with random
weights, in eval mode; "fwd" runs under no_grad, "fwd+dx" back-propagates sum(logits) to the input
only (parameters frozen), as ASR fine-tuning does through the task model. Every row runs in NCHW
and in channels-last (model and input), so the better of the two is PyTorch's best.
On a GPU (scripts/gpu-bench.sh): --device cuda --only swiftnet-2048 times SwiftNet's 2048x1024
forward in NCHW and channels-last.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from gen_espnet import ESPNetRef  # noqa: E402
from gen_swiftnet import SwiftNet  # noqa: E402
from bench_util import add_device_arg, bench_line, setup, sync  # noqa: E402


def espnet_fn(dev):
    m = ESPNetRef(12).eval().to(dev)
    mean = torch.tensor([110.33, 108.41, 105.03], device=dev).view(1, 3, 1, 1)
    std = torch.tensor([72.13, 72.69, 69.90], device=dev).view(1, 3, 1, 1)
    return m, lambda x: m((x.flip(1) * 255 - mean) / std / 255)


def swiftnet_fn(dev):
    m = SwiftNet(19).eval().to(dev)
    return m, lambda x: m(x * 255)


def bench(name, make, h, w, backward, reps, dev, fmt=torch.contiguous_format, key=None):
    m, f = make
    m.to(memory_format=fmt)
    for p in m.parameters():
        p.requires_grad_(False)
    x = torch.rand(1, 3, h, w, device=dev).to(memory_format=fmt)
    times, cpus = [], []
    warm = 1 if dev.type == "cpu" else 2  # the first GPU runs also autotune cuDNN
    for r in range(reps + warm):
        xi = x.clone().requires_grad_(backward)
        sync(dev)
        c0, t0 = time.process_time(), time.perf_counter()
        if backward:
            f(xi).sum().backward()
        else:
            with torch.no_grad():
                f(xi)
        sync(dev)
        t1, c1 = time.perf_counter(), time.process_time()
        if r >= warm:
            times.append((t1 - t0) * 1e3)
            cpus.append((c1 - c0) * 1e3)
    times.sort()
    print("%-34s %4dx%-4d %-8s %-6s median %8.1f ms  min %8.1f  max %8.1f  cpu/run %8.1f ms" % (
        name, w, h, "fwd+dx" if backward else "fwd", "cl" if fmt == torch.channels_last else "nchw",
        times[len(times) // 2], times[0], times[-1], sum(cpus) / len(cpus)), flush=True)
    if key is None:  # as rune bench names the CPU rows
        key = "%s_%s_%dx%d" % (name.split()[0], "fwd_dx" if backward else "fwd", w, h)
    bench_line(fmt, key, times[len(times) // 2] / 1e3, times[0] / 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reps", type=int, nargs="?", default=5)
    ap.add_argument("--only", choices=("swiftnet-2048",), help="just SwiftNet's 2048x1024 forward")
    add_device_arg(ap)
    a = ap.parse_args()
    dev = setup(a.device, threads=int(os.environ.get("OMP_NUM_THREADS", "2")))
    print("torch %s, %s, %d threads, reps=%d" % (torch.__version__, a.device, torch.get_num_threads(), a.reps))
    sw = swiftnet_fn(dev)
    if a.only:
        for fmt in (torch.contiguous_format, torch.channels_last):
            bench("swiftnet rn18 single scale, 19 cls", sw, 1024, 2048, False, a.reps, dev, fmt, "swiftnet_fwd")
        return
    esp = espnet_fn(dev)
    rows = (("espnet p2 q8, 12 classes", esp, 360, 480, False),
            ("espnet p2 q8, 12 classes", esp, 360, 480, True),
            ("swiftnet rn18 single scale, 19 cls", sw, 360, 480, False),
            ("swiftnet rn18 single scale, 19 cls", sw, 360, 480, True),
            ("swiftnet rn18 single scale, 19 cls", sw, 1024, 2048, False))
    for name, make, h, w, backward in rows:
        for fmt in (torch.contiguous_format, torch.channels_last):
            bench(name, make, h, w, backward, a.reps, dev, fmt)


if __name__ == "__main__":
    main()
