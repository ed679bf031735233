"""bench_carn.py: PyTorch baseline for `rune bench`'s CARN-M timings (CPU, or the GPU with --device cuda).

Run as:  OMP_WAIT_POLICY=passive OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/bench_carn.py [reps]
Times CARN-M inference 120x90 -> x4 and a x4 training step (batch 16 of 16x16 LR patches, L1,
forward + backward), in NCHW and channels-last, 2 threads; median (min, max) of reps.
On a GPU (scripts/gpu-bench.sh): --device cuda --infer 256x512 (LR HxW: 2048x1024 out).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from gen_carn import Net  # noqa: E402  (the reference module of the fixtures)
from bench_util import add_device_arg, bench_line, setup, time_runs  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reps", type=int, nargs="?", default=10)
    ap.add_argument("--infer", default="90x120", help="LR HxW of the inference timing")
    add_device_arg(ap)
    a = ap.parse_args()
    dev = setup(a.device, threads=2)
    ih, iw = (int(v) for v in a.infer.split("x"))
    for fmt in (torch.contiguous_format, torch.channels_last):
        net = Net(True).to(dev, memory_format=fmt)
        x = torch.rand(1, 3, ih, iw, device=dev).to(memory_format=fmt)
        xb = torch.rand(16, 3, 16, 16, device=dev).to(memory_format=fmt)
        yb = torch.rand(16, 3, 64, 64, device=dev).to(memory_format=fmt)

        def infer():
            with torch.no_grad():
                net(x, 4)

        def step():
            net.zero_grad()
            loss = (net(xb, 4) - yb).abs().mean()
            loss.backward()

        name = "NCHW" if fmt == torch.contiguous_format else "channels-last"
        # keys as rune bench's: on the CPU the inference key names its output size
        infer_key = "carn_infer" if dev.type == "cuda" else "carn_infer_%dx%d" % (4 * iw, 4 * ih)
        for what, key, fn in (("inference %dx%d -> x4" % (iw, ih), infer_key, infer),
                              ("train step 16x(16x16) x4", "carn_train", step)):
            med, lo, hi = time_runs(fn, a.reps, dev, warmup=1 if dev.type == "cpu" else 2)
            print("torch %-13s carn_m %-26s median %8.1f ms  (min %.1f, max %.1f, %d reps)"
                  % (name, what, 1e3 * med, 1e3 * lo, 1e3 * hi, a.reps))
            bench_line(fmt, key, med, lo)


if __name__ == "__main__":
    main()
