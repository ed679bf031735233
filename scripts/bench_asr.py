"""bench_asr.py: PyTorch twin of `rune bench --only asr` — one ASR fine-tuning step on a 480x360 frame.

CARN-M x4 (120x90 -> 480x360) forward+backward, ESPNet-CamVid (frozen, eval BN) forward+backward
to its input, 0.95*L1 + 0.05*CE on a detail mask, Adam step; NCHW and channels-last; median of reps.
Run as: OMP_WAIT_POLICY=passive OPENBLAS_CORETYPE=SkylakeX python3 scripts/bench_asr.py [reps]
On a GPU (scripts/gpu-bench.sh): --device cuda --size 1024x2048 --task espnet,swiftnet (the frozen
task model: ESPNet and/or SwiftNet-RN18).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
from gen_carn import Net  # noqa: E402  (test oracles of the fixtures)
from gen_espnet import ESPNetRef  # noqa: E402
from gen_swiftnet import SwiftNet  # noqa: E402
from bench_util import add_device_arg, bench_line, setup, time_runs  # noqa: E402


def task_model(name):
    """The frozen task model and how it takes an RGB [0,1] frame."""
    if name == "espnet":
        m = ESPNetRef(12)
        return m, m
    m = SwiftNet(19)
    return m, lambda x: m(x * 255)


def step_fn(channels_last, task_name, h, w, dev):
    sr, (task, run_task) = Net(True), task_model(task_name)
    task.eval()
    for p in task.parameters():
        p.requires_grad_(False)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    sr, task = sr.to(dev, memory_format=fmt), task.to(dev, memory_format=fmt)
    opt = torch.optim.Adam(sr.parameters(), lr=1e-5)
    lr = torch.rand(1, 3, h // 4, w // 4, device=dev).to(memory_format=fmt)
    hr = torch.rand(1, 3, h, w, device=dev).to(memory_format=fmt)
    label = torch.randint(0, 11, (1, h, w), device=dev)
    weight = (torch.rand(1, h, w, device=dev) < 0.1).float()

    def step():
        y = sr(lr, 4)
        nll = torch.nn.functional.cross_entropy(run_task(y), label, reduction="none")
        la = (nll * weight).sum() / weight.sum()
        loss = 0.95 * torch.nn.functional.l1_loss(y, hr) + 0.05 * la
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reps", type=int, nargs="?", default=5)
    ap.add_argument("--size", default="360x480", help="HR frame HxW (the LR input is a quarter each side)")
    ap.add_argument("--task", default="espnet", help="frozen task model(s): espnet, swiftnet or both, comma-separated")
    add_device_arg(ap)
    a = ap.parse_args()
    dev = setup(a.device, threads=int(os.environ.get("OMP_NUM_THREADS", "2")))
    h, w = (int(v) for v in a.size.split("x"))
    for task in a.task.split(","):
        for cl in (False, True):
            fn = step_fn(cl, task, h, w, dev)
            med, lo, hi = time_runs(fn, a.reps, dev, warmup=1 if dev.type == "cpu" else 2)
            name = "asr step %dx%d %s (%s)" % (w, h, task, "channels-last" if cl else "NCHW")
            print("torch %s %-34s median %8.1f ms  (min %.1f, max %.1f, %d reps)" %
                  (torch.__version__, name, 1e3 * med, 1e3 * lo, 1e3 * hi, a.reps), flush=True)
            # keys as rune bench's: on the CPU they name the frame size
            key = "asr_" + task if dev.type == "cuda" else "asr_%s_%dx%d" % (task, w, h)
            bench_line(torch.channels_last if cl else torch.contiguous_format, key, med, lo)


if __name__ == "__main__":
    main()
