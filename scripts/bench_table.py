"""bench_table.py: the ratio table that closes scripts/bench_compare.sh: rune against each PyTorch on every workload.

Usage:  python3 scripts/bench_table.py [RAW_DIR]   the Markdown table on stdout, RAW_DIR/table.csv beside
                                                  the raw files (RAW_DIR defaults to bench/raw)
        python3 scripts/bench_table.py --machine  the machine line bench_compare.sh records (CPU model,
                                                  clock, AVX-512/AMX flags, threads)

Stdlib only, so it runs with any python3. It reads the `BENCH <impl> <key> <median ms> <min ms>`
lines of RAW_DIR/rune.txt (rune bench) and of RAW_DIR/torch-<version>-<suite>.txt (the
scripts/bench_*.py runs; impl torch-nchw or torch-cl). For each row: rune's median, each PyTorch's
NCHW and channels-last medians, the best of them, and ratio = best PyTorch / rune (> 1: rune is
faster); rows under the target ratio (issue 15: 1.2) are marked.
"""
import csv
import glob
import os
import re
import sys

TARGET = 1.2

# The rows, in its order: (BENCH key, workload).
ROWS = [
    ("carn_train", "CARN-M training step (16 x 16x16 LR, x4, L1)"),
    ("carn_infer_480x360", "CARN-M inference 120x90 -> 480x360"),
    ("asr_espnet_480x360", "ASR step 480x360 (CARN-M + frozen ESPNet)"),
    ("espnet_fwd_480x360", "ESPNet 480x360 forward"),
    ("espnet_fwd_dx_480x360", "ESPNet 480x360 forward + input gradient"),
    ("swiftnet_fwd_480x360", "SwiftNet-RN18 480x360 forward"),
    ("swiftnet_fwd_dx_480x360", "SwiftNet-RN18 480x360 forward + input gradient"),
    ("swiftnet_fwd_2048x1024", "SwiftNet-RN18 2048x1024 forward"),
]
SUITE = re.compile(r"^torch-(.+)-(conv-cl|conv|carn|seg|asr)\.txt$")
FORMATS = (("torch-nchw", "NCHW"), ("torch-cl", "channels-last"))


def read_bench(path, into):
    """Adds {(impl, key): (median, min)} from path's BENCH lines to into."""
    with open(path, errors="replace") as f:
        for line in f:
            w = line.split()
            if len(w) >= 4 and w[0] == "BENCH":
                try:
                    med = float(w[3])
                    into[(w[1], w[2])] = (med, float(w[4]) if len(w) > 4 else med)
                except ValueError:
                    pass
    return into


def version_key(tag):
    return [int(p) if p.isdigit() else 0 for p in re.split(r"[.a-z]+", tag) if p] or [0]


def torch_results(raw):
    """{version: {(impl, key): (median, min)}} from the torch-*.txt files, versions oldest first."""
    by_tag = {}
    for path in glob.glob(os.path.join(raw, "torch-*.txt")):
        m = SUITE.match(os.path.basename(path))
        if m:
            read_bench(path, by_tag.setdefault(m.group(1), {}))
    return {t: by_tag[t] for t in sorted(by_tag, key=version_key)}


def conv_rows(rune):
    """The per-shape conv rows rune bench printed, in its order."""
    return [(k, "conv " + k[5:].replace("_", " ")) for (impl, k) in rune if impl == "rune" and k.startswith("conv_")]


def cpuinfo():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return {}
    info = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = (s.strip() for s in line.split(":", 1))
            info.setdefault(k, v)
    return info


def max_mhz():
    """The CPU's rated maximum clock from sysfs (lscpu's "CPU max MHz"), else None."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") as f:
            return int(f.read()) / 1000
    except (OSError, ValueError):
        return None


def machine_line():
    info = cpuinfo()
    flags = set(info.get("flags", "").split())
    has = ["%s %s" % (f, "yes" if f in flags else "no")
           for f in ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16")]
    clock = "%s MHz now" % info.get("cpu MHz", "?").split(".")[0]
    mx = max_mhz()
    if mx:
        clock += ", %.0f MHz max" % mx
    threads = os.environ.get("OMP_NUM_THREADS", "(default)")
    return "%s; %s; %d logical CPUs; %s; OMP_NUM_THREADS=%s" % (
        info.get("model name", "unknown CPU"), clock, os.cpu_count() or 0, ", ".join(has), threads)


def ms(v):
    return "-" if v is None else ("%.1f" % v if v >= 10 else "%.2f" % v)


def table(raw):
    rune = read_bench(os.path.join(raw, "rune.txt"), {}) if os.path.exists(os.path.join(raw, "rune.txt")) else {}
    torch = torch_results(raw)
    cols = [(tag, impl, "torch %s %s" % (tag, label)) for tag in torch for impl, label in FORMATS]
    header = ["workload", "rune ms"] + [c[2] + " ms" for c in cols] + ["best PyTorch ms", "ratio (best PyTorch / rune)", "below %.1fx" % TARGET]
    md, rows = [], []
    md.append("| " + " | ".join(header) + " |")
    md.append("|---|" + "---:|" * (len(header) - 2) + "---|")
    for key, what in ROWS + conv_rows(rune):
        r = rune.get(("rune", key))
        peers = [(torch[tag].get((impl, key)), name) for tag, impl, name in cols]
        have = [(v[0], name) for v, name in peers if v]
        best = min(have) if have else None
        ratio = best[0] / r[0] if best and r else None
        mark = "" if ratio is None else ("**yes**" if ratio < TARGET else "")
        md.append("| " + " | ".join([what, ms(r and r[0])] + [ms(v and v[0]) for v, _ in peers] +
                                    [ms(best and best[0]), "-" if ratio is None else "%.2f" % ratio, mark]) + " |")
        rows.append([key, what, r and r[0], r and r[1]] + [v and v[0] for v, _ in peers] +
                    [best and best[0], best and best[1], ratio and round(ratio, 3), "" if ratio is None else int(ratio < TARGET)])
    csv_header = ["key", "workload", "rune_ms", "rune_min_ms"] + \
        ["torch_%s_%s_ms" % (tag, "cl" if impl == "torch-cl" else "nchw") for tag, impl, _ in cols] + \
        ["best_torch_ms", "best_torch", "ratio", "below_target"]
    return md, csv_header, rows, rune


def drift_line(raw, rune):
    """rune bench --only carn runs again at the end of bench_compare.sh: how far the machine drifted."""
    again_path = os.path.join(raw, "rune-again.txt")
    if not os.path.exists(again_path):
        return None
    again = read_bench(again_path, {})
    parts = ["%s %s -> %s ms" % (k, ms(rune[("rune", k)][0]), ms(again[("rune", k)][0]))
             for k in ("carn_infer_480x360", "carn_train") if ("rune", k) in rune and ("rune", k) in again]
    return "drift check (rune first pass -> again at the end): " + "; ".join(parts) if parts else None


def main():
    if sys.argv[1:] == ["--machine"]:
        print(machine_line())
        return
    raw = sys.argv[1] if len(sys.argv) > 1 else "bench/raw"
    md, csv_header, rows, rune = table(raw)
    machine = os.path.join(raw, "machine.txt")
    if os.path.exists(machine):
        with open(machine) as f:
            print("\n".join("machine: " + line.lstrip("# ").rstrip() for line in f if line.strip()))
    print("medians in ms; ratio > 1: rune faster; target: at least %.1fx the best PyTorch on every row" % TARGET)
    print()
    print("\n".join(md))
    d = drift_line(raw, rune)
    if d:
        print("\n" + d)
    out = os.path.join(raw, "table.csv")
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(csv_header)
        w.writerows([["" if v is None else v for v in row] for row in rows])
    print("\n(table written to %s)" % out)


if __name__ == "__main__":
    main()
