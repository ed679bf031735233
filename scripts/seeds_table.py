#!/usr/bin/env python3
"""seeds_table.py: Table 3 and the bootstrap differences of several `rune eval` runs (one per seed), summarised over seeds.

    scripts/seeds_table.py results/camvid/seed1 results/camvid/seed2 ... > results/camvid/seeds.md

Reads each folder's table3.csv, table5.csv and diffs.csv (as `rune eval` writes them) and prints
Markdown for any number of seeds:
  - per scale and method: tail-class mIoU, mIoU and PSNR as mean ± sample standard deviation over the
    seeds, and the tail-class mIoU of each seed (a method shared by every seed, such as bilinear, sr
    or hr, shows its one value);
  - per difference (a − b, per metric): mean ± sd over seeds, a 95 % t-interval of that mean over
    seeds (the test frames fixed: it measures seed-to-seed spread only), how many seeds' 95 %
    paired-bootstrap intervals (over test frames) lie above 0, below 0 or span it, each seed's
    difference with its interval, and a verdict.
A row missing from some folders is summarised over the folders that have it (its seed count says so).
"""
import csv
import math
import os
import sys

ORDER = ["bilinear", "sr", "l1only", "cloudseg", "asr", "asrall", "hr"]
# two-sided 95 % quantiles of Student's t, by degrees of freedom (1..30); beyond, the normal's
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def rank(method):
    return ORDER.index(method) if method in ORDER else len(ORDER)


def num(row, key):
    v = row.get(key, "") if row else ""
    try:
        x = float(v)
    except ValueError:
        return None
    return None if x != x else x


def mean_sd(vals):
    """Mean and sample standard deviation (None with one value)."""
    n = len(vals)
    m = sum(vals) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (n - 1)) if n > 1 else None
    return m, sd


def t975(df):
    return T975[df - 1] if df <= len(T975) else 1.960


def summary(vals, signed=False):
    """'mean ± sd' of the values present; a value shared by every seed alone."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return "—"
    f = "{:+.2f}" if signed else "{:.2f}"
    if len(set(vals)) == 1:
        return f.format(vals[0])
    m, sd = mean_sd(vals)
    return f.format(m) + (" ± {:.2f}".format(sd) if sd is not None else "")


def per_seed(vals):
    present = [v for v in vals if v is not None]
    if present and len(set(present)) == 1 and len(present) == len(vals):
        return "same in every seed"
    return " / ".join("—" if v is None else "{:.2f}".format(v) for v in vals)


def table3(dirs, names):
    rows = [{(int(r["scale"]), r["method"]): r for r in read(os.path.join(d, "table3.csv"))} for d in dirs]
    t5 = [{(int(r["scale"]), r["method"]): r for r in read(os.path.join(d, "table5.csv"))} for d in dirs]
    keys = sorted(set().union(*(set(r) for r in rows)), key=lambda k: (k[0] if k[1] != "hr" else 99, rank(k[1])))
    print("| scale | method | seeds | tail-class mIoU (mean ± sd) | mIoU (mean ± sd) | PSNR (mean ± sd) | "
          f"tail-class mIoU per seed ({' / '.join(names)}) |")
    print("|---|---|---:|---:|---:|---:|---|")
    for k in keys:
        tail = [num(r.get(k), "tail_miou") for r in rows]
        miou = [num(r.get(k), "miou") for r in rows]
        psnr = [num(t.get(k), "psnr") for t in t5]
        n = sum(k in r for r in rows)
        scale = "—" if k[1] == "hr" else f"x{k[0]}"
        print(f"| {scale} | {k[1]} | {n} | {summary(tail)} | {summary(miou)} | {summary(psnr)} | {per_seed(tail)} |")


def verdict(pos, neg, n):
    if n == 1:
        return "higher (one seed)" if pos else "lower (one seed)" if neg else "not significant (one seed)"
    if pos == n:
        return "higher in every seed"
    if neg == n:
        return "lower in every seed"
    if pos and neg:
        return f"opposite in different seeds ({pos} higher, {neg} lower)"
    if pos:
        return f"higher in {pos} of {n}, never lower"
    if neg:
        return f"lower in {neg} of {n}, never higher"
    return "no seed significant"


def diffs(dirs, names):
    rows = [read(os.path.join(d, "diffs.csv")) for d in dirs]
    index = [{(int(r["scale"]), r["a"], r["b"], r["metric"]): r for r in rs} for rs in rows]
    keys = []
    for rs in rows:  # first appearance order: the order of eval's --diffs
        for r in rs:
            k = (int(r["scale"]), r["a"], r["b"], r["metric"])
            if k not in keys:
                keys.append(k)
    print()
    print("Differences a − b (percentage points). Per seed: the difference and its 95 % paired-bootstrap "
          "interval over test frames; > 0 / < 0 / spans 0 count the seeds whose interval lies above 0, below 0 "
          "or across it. The t-interval is of the mean over seeds, with the test frames fixed.")
    print()
    print("| scale | a − b | metric | seeds | mean ± sd | 95 % t-interval over seeds | > 0 | < 0 | spans 0 | "
          f"per seed ({' / '.join(names)}) | verdict |")
    print("|---|---|---|---:|---:|---|---:|---:|---:|---|---|")
    for k in sorted(keys, key=lambda k: (k[0], keys.index(k))):
        cis = [(float(ix[k]["diff"]), float(ix[k]["lo"]), float(ix[k]["hi"])) if k in ix else None for ix in index]
        have = [c for c in cis if c is not None]
        n = len(have)
        pos = sum(lo > 0 for _, lo, _ in have)
        neg = sum(hi < 0 for _, _, hi in have)
        m, sd = mean_sd([d for d, _, _ in have])
        spread = f"{m:+.2f}" + (f" ± {sd:.2f}" if sd is not None else "")
        tint = "—"
        if sd is not None:
            h = t975(n - 1) * sd / math.sqrt(n)
            tint = f"[{m - h:+.2f}, {m + h:+.2f}]"
        cells = " / ".join("—" if c is None else f"{c[0]:+.2f} [{c[1]:+.2f}, {c[2]:+.2f}]" for c in cis)
        metric = "tail" if k[3] == "tail_miou" else "mIoU"
        print(f"| x{k[0]} | {k[1]} − {k[2]} | {metric} | {n} | {spread} | {tint} | {pos} | {neg} | {n - pos - neg} | "
              f"{cells} | {verdict(pos, neg, n)} |")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    dirs = argv[1:]
    for d in dirs:
        for name in ("table3.csv", "table5.csv", "diffs.csv"):
            if not os.path.isfile(os.path.join(d, name)):
                print(f"seeds_table: {d}/{name} missing (a `rune eval` output folder?)", file=sys.stderr)
                return 1
    names = [os.path.basename(d.rstrip("/")) for d in dirs]
    table3(dirs, names)
    diffs(dirs, names)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
