"""bench_seg.py: PyTorch timings of the frozen segmenters at the shapes `rune bench --only seg` times (bench/bench_seg.c).

Run with Debian's torch on the same machine and thread count as rune:
  OMP_WAIT_POLICY=passive OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/bench_seg.py [REPS]
The models are the test oracles of scripts/fixtures (gen_espnet.py, gen_swiftnet.py) with random
weights, in eval mode; "fwd" runs under no_grad, "fwd+dx" back-propagates sum(logits) to the input
only (parameters frozen), as ASR fine-tuning does through the task model.
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from gen_espnet import ESPNetRef  # noqa: E402
from gen_swiftnet import SwiftNet  # noqa: E402


def espnet_fn():
    m = ESPNetRef(12).eval()
    mean = torch.tensor([110.33, 108.41, 105.03]).view(1, 3, 1, 1)
    std = torch.tensor([72.13, 72.69, 69.90]).view(1, 3, 1, 1)
    return m, lambda x: m((x.flip(1) * 255 - mean) / std / 255)


def swiftnet_fn():
    m = SwiftNet(19).eval()
    return m, lambda x: m(x * 255)


def bench(name, make, h, w, backward, reps):
    m, f = make
    for p in m.parameters():
        p.requires_grad_(False)
    x = torch.rand(1, 3, h, w)
    times, cpus = [], []
    for r in range(reps + 1):  # the first run is the warm-up
        xi = x.clone().requires_grad_(backward)
        c0, t0 = time.process_time(), time.perf_counter()
        if backward:
            f(xi).sum().backward()
        else:
            with torch.no_grad():
                f(xi)
        t1, c1 = time.perf_counter(), time.process_time()
        if r:
            times.append((t1 - t0) * 1e3)
            cpus.append((c1 - c0) * 1e3)
    times.sort()
    print("%-34s %4dx%-4d %-8s median %8.1f ms  min %8.1f  max %8.1f  cpu/run %8.1f ms" % (
        name, w, h, "fwd+dx" if backward else "fwd", times[len(times) // 2], times[0], times[-1],
        sum(cpus) / len(cpus)), flush=True)


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    print("torch %s, %d threads, reps=%d" % (torch.__version__, torch.get_num_threads(), reps))
    esp, sw = espnet_fn(), swiftnet_fn()
    bench("espnet p2 q8, 12 classes", esp, 360, 480, False, reps)
    bench("espnet p2 q8, 12 classes", esp, 360, 480, True, reps)
    bench("swiftnet rn18 single scale, 19 cls", sw, 360, 480, False, reps)
    bench("swiftnet rn18 single scale, 19 cls", sw, 360, 480, True, reps)
    bench("swiftnet rn18 single scale, 19 cls", sw, 1024, 2048, False, reps)


if __name__ == "__main__":
    main()
