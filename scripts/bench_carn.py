"""bench_carn.py: PyTorch baseline for `rune bench`'s CARN-M timings (Debian torch, CPU).

Run as:  OMP_WAIT_POLICY=passive OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/bench_carn.py [reps]
Times CARN-M inference 120x90 -> x4 and a x4 training step (batch 16 of 16x16 LR patches, L1,
forward + backward), in NCHW and channels-last, 2 threads; median (min, max) of reps.
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from gen_carn import Net  # noqa: E402  (the reference module of the fixtures)

torch.set_num_threads(2)


def timeit(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2], ts[0], ts[-1]


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    for fmt in (torch.contiguous_format, torch.channels_last):
        net = Net(True).to(memory_format=fmt)
        x = torch.rand(1, 3, 90, 120).to(memory_format=fmt)
        xb = torch.rand(16, 3, 16, 16).to(memory_format=fmt)
        yb = torch.rand(16, 3, 64, 64).to(memory_format=fmt)

        def infer():
            with torch.no_grad():
                net(x, 4)

        def step():
            net.zero_grad()
            loss = (net(xb, 4) - yb).abs().mean()
            loss.backward()

        name = "NCHW" if fmt == torch.contiguous_format else "channels-last"
        for what, fn in (("inference 120x90 -> x4", infer), ("train step 16x(16x16) x4", step)):
            med, lo, hi = timeit(fn, reps)
            print("torch %-13s carn_m %-26s median %8.1f ms  (min %.1f, max %.1f, %d reps)"
                  % (name, what, 1e3 * med, 1e3 * lo, 1e3 * hi, reps))


if __name__ == "__main__":
    main()
