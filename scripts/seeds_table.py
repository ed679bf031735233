#!/usr/bin/env python3
"""seeds_table.py: Table 3 and the bootstrap differences of several `rune eval` runs (one per seed) side by side.

    scripts/seeds_table.py results/camvid/seed1 results/camvid/seed2 > results/camvid/seeds.md

Reads each folder's table3.csv, table5.csv and diffs.csv (as `rune eval` writes them) and prints
Markdown: per scale and method, tail-class mIoU, mIoU and PSNR per seed and their mean; then each
difference with its 95 % interval per seed and whether the seeds agree on its sign (both intervals
clear of zero on the same side, or opposite, or mixed). Methods shared by every seed (bilinear, sr, hr) show one value
when the seeds give the same number.
"""
import csv
import os
import sys

ORDER = ["bilinear", "sr", "l1only", "cloudseg", "asr", "asrall", "hr"]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def rank(method):
    return ORDER.index(method) if method in ORDER else len(ORDER)


def cell(vals, fmt="{:.2f}"):
    if all(v is None for v in vals):
        return "—"
    if len(set(vals)) == 1:
        return fmt.format(vals[0])
    mean = sum(vals) / len(vals)
    return " / ".join(fmt.format(v) for v in vals) + " (" + fmt.format(mean) + ")"


def num(row, key):
    v = row.get(key, "")
    try:
        x = float(v)
    except ValueError:
        return None
    return None if x != x else x


def table3(dirs):
    rows = [{(int(r["scale"]), r["method"]): r for r in read(os.path.join(d, "table3.csv"))} for d in dirs]
    t5 = [{(int(r["scale"]), r["method"]): r for r in read(os.path.join(d, "table5.csv"))} for d in dirs]
    keys = sorted(set.intersection(*(set(r) for r in rows)), key=lambda k: (k[0] if k[1] != "hr" else 99, rank(k[1])))
    seeds = " / ".join(os.path.basename(d.rstrip("/")) for d in dirs)
    print(f"| scale | method | tail-class mIoU ({seeds} (mean)) | mIoU | PSNR |")
    print("|---|---|---|---|---|")
    for k in keys:
        tail = [num(r[k], "tail_miou") for r in rows]
        miou = [num(r[k], "miou") for r in rows]
        psnr = [num(t[k], "psnr") if k in t else None for t in t5]
        scale = "—" if k[1] == "hr" else f"x{k[0]}"
        print(f"| {scale} | {k[1]} | {cell(tail)} | {cell(miou)} | {cell(psnr)} |")


def verdict(cis):
    if all(lo > 0 for _, lo, _ in cis):
        return "higher in every seed"
    if all(hi < 0 for _, _, hi in cis):
        return "lower in every seed"
    if any(lo > 0 for _, lo, _ in cis) and any(hi < 0 for _, _, hi in cis):
        return "opposite in different seeds"
    return "mixed (an interval spans 0)"


def diffs(dirs):
    rows = [read(os.path.join(d, "diffs.csv")) for d in dirs]
    index = [{(int(r["scale"]), r["a"], r["b"], r["metric"]): r for r in rs} for rs in rows]
    keys = [(int(r["scale"]), r["a"], r["b"], r["metric"]) for r in rows[0]]
    keys = [k for k in keys if all(k in ix for ix in index)]
    print()
    print("| scale | a − b | metric | " + " | ".join(os.path.basename(d.rstrip("/")) for d in dirs) + " | sign |")
    print("|---|---|---|" + "---|" * len(dirs) + "---|")
    for k in sorted(keys, key=lambda k: (k[0], keys.index(k))):
        cis = [(float(ix[k]["diff"]), float(ix[k]["lo"]), float(ix[k]["hi"])) for ix in index]
        cells = " | ".join(f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]" for d, lo, hi in cis)
        metric = "tail" if k[3] == "tail_miou" else "mIoU"
        print(f"| x{k[0]} | {k[1]} − {k[2]} | {metric} | {cells} | {verdict(cis)} |")


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
    table3(dirs)
    diffs(dirs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
