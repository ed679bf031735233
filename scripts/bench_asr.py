"""bench_asr.py: PyTorch twin of `rune bench --only asr` — one ASR fine-tuning step on a 480x360 frame.

CARN-M x4 (120x90 -> 480x360) forward+backward, ESPNet-CamVid (frozen, eval BN) forward+backward
to its input, 0.95*L1 + 0.05*CE on a detail mask, Adam step; NCHW and channels-last; median of reps.
Run as: OMP_WAIT_POLICY=passive OPENBLAS_CORETYPE=SkylakeX python3 scripts/bench_asr.py [reps]
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from gen_carn import Net  # noqa: E402  (test oracles of the fixtures)
from gen_espnet import ESPNetRef  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))


def step_fn(channels_last):
    sr, task = Net(True), ESPNetRef(12).eval()
    for p in task.parameters():
        p.requires_grad_(False)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    sr, task = sr.to(memory_format=fmt), task.to(memory_format=fmt)
    opt = torch.optim.Adam(sr.parameters(), lr=1e-5)
    lr = torch.rand(1, 3, 90, 120).to(memory_format=fmt)
    hr = torch.rand(1, 3, 360, 480).to(memory_format=fmt)
    label = torch.randint(0, 11, (1, 360, 480))
    weight = (torch.rand(1, 360, 480) < 0.1).float()

    def step():
        y = sr(lr, 4)
        nll = torch.nn.functional.cross_entropy(task(y), label, reduction="none")
        la = (nll * weight).sum() / weight.sum()
        loss = 0.95 * torch.nn.functional.l1_loss(y, hr) + 0.05 * la
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for cl in (False, True):
        fn = step_fn(cl)
        fn()
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        ts.sort()
        name = "asr step 480x360 (%s)" % ("channels-last" if cl else "NCHW")
        print("torch %s %-34s median %8.1f ms  (min %.1f, max %.1f, %d reps)" %
              (torch.__version__, name, 1e3 * ts[reps // 2], 1e3 * ts[0], 1e3 * ts[-1], reps))


if __name__ == "__main__":
    main()
