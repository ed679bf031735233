#!/usr/bin/env python3
"""fig15_analyze.py: Fig. 15's numbers and figures from scripts/fig15.sh's per-frame CSVs alone.

    scripts/fig15_analyze.py OUT --profile P --streams "Seq05VD:171 0001TP:62" --arms "cac ..." --runs 3 --scale F

Reads OUT/STREAM/ARM/runK/{cloud,edge}.csv and writes OUT/RESULTS.md, OUT/fig15_STREAM.{dat,gp} (per-second
accuracy vs HR, mean over runs with the runs' range, and throughput; the paper's Fig. 15) and OUT/fig15_runs.csv
(one row per stream x arm x run: every number the tables summarise).

Per run, over the stream frames the cloud processed: mean per-frame mIoU vs the HR prediction (the paper's
metric) and vs the label; the worst-frame percentiles p90 = the 10th and p99 = the 1st percentile of the
per-frame values (90 % / 99 % of the frames do at least this well); the mean over the true tail frames
(those cac-oracle's runs flagged: accuracy at the profile's reference configuration <= its tail_cutoff, a
property of the frame, the same for every arm); the detector's recall and precision against them. Across
runs: the mean and a 95 % t interval (RUNS - 1 degrees of freedom); "vs standard" = the paired difference
to ASR-only of the same run index. Standard library only."""
import argparse, csv, math, os, statistics, sys

NAMES = {"cac": "CAC", "cac-share": "cac-share", "standard": "ASR only (standard)", "awstream-bilinear": "AWStream (bilinear)",
         "awstream-asr": "AWStream (ASR)", "cac-oracle": "CAC-oracle"}
COLORS = {"cac": "#d62728", "cac-share": "#9467bd", "standard": "#1f77b4", "awstream-bilinear": "#ff7f0e",
          "awstream-asr": "#8c564b", "cac-oracle": "#2ca02c"}
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_analyze import num, pct, rows  # noqa: E402 (the CSV readers and numpy's percentile, shared)


def mean(v):
    return statistics.mean(v) if v else None


def interval(v):
    """(mean, half-width of the 95 % t interval) over runs; half None with one run."""
    v = [x for x in v if x is not None]
    if not v:
        return None, None
    if len(v) < 2:
        return v[0], None
    return statistics.mean(v), T95.get(len(v) - 1, 1.96) * statistics.stdev(v) / math.sqrt(len(v))


def fmt(x, d=1):
    return "-" if x is None else f"{x:.{d}f}"


def fmt_ci(v, d=1, scale=100):
    m, h = interval([None if x is None else scale * x for x in v])
    return "-" if m is None else f"{m:.{d}f}" + ("" if h is None else f" ± {h:.{d}f}")


def processed(cloud):
    return [r for r in cloud if r["status"] == "processed" and r["probe"] != "1"]


def truth_tail(out, seq, runs):
    """src_index -> True/False from cac-oracle's runs (tail_detected = reference accuracy <= tail_cutoff)."""
    t = {}
    for k in range(1, runs + 1):
        for r in processed(rows(f"{out}/{seq}/cac-oracle/run{k}/cloud.csv")):
            if num(r.get("acc_ref")) is not None:
                t[int(r["src_index"])] = r["tail_detected"] == "1"
    return t


def run_stats(out, seq, arm, k, truth):
    cloud, edge = rows(f"{out}/{seq}/{arm}/run{k}/cloud.csv"), rows(f"{out}/{seq}/{arm}/run{k}/edge.csv")
    if not cloud and not edge:
        return None
    proc = processed(cloud)
    s = {"stream": seq, "arm": arm, "run": k, "processed": len(proc)}
    frames = [r for r in edge if r.get("kind") == "frame" and r.get("status") != "unconfirmed"]
    s["captured"] = len(frames)
    s["dropped"] = sum(r["status"] == "dropped" for r in frames)
    s["stale"] = sum(r["status"] == "stale" for r in cloud)
    for key, col in (("hr", "acc_hr"), ("label", "acc_label")):
        v = [num(r[col]) for r in proc if num(r[col]) is not None]
        s[f"mean_{key}"], s[f"p90_{key}"], s[f"p99_{key}"] = mean(v), pct(v, 10), pct(v, 1)
        tv = [num(r[col]) for r in proc if num(r[col]) is not None and truth.get(int(r["src_index"]))]
        s[f"tail_{key}"] = mean(tv)
    flagged = [truth.get(int(r["src_index"])) for r in proc if r["tail_detected"] == "1"]
    tails = [r["tail_detected"] == "1" for r in proc if truth.get(int(r["src_index"]))]
    s["flagged"] = sum(r["tail_detected"] == "1" for r in proc) / len(proc) if proc else None
    s["tail_cfg"] = sum(r["tail_cfg"] == "1" for r in proc) / len(proc) if proc else None
    s["recall"] = sum(tails) / len(tails) if tails else None
    known = [f for f in flagged if f is not None]
    s["precision"] = sum(known) / len(known) if known else None
    sent = [r for r in edge if r.get("status") == "sent"]
    if sent and frames:
        start = min(int(r["capture_us"]) for r in frames)
        dur = max(1e-9, (max(int(r["send_us"]) for r in sent) - start) / 1e6)
        s["kbps"] = sum(int(r["bytes"]) for r in sent) * 8 / 1000 / dur
    else:
        s["kbps"] = None
    s["per_sec"] = per_second(proc, frames)
    return s


def per_second(proc, frames):
    """second of the stream -> (mean acc vs HR, mean acc vs label) of the frames captured in it."""
    if not frames:
        return {}
    start = min(int(r["capture_us"]) for r in frames)
    acc = {}
    for r in proc:
        sec = int((int(r["capture_us"]) - start) / 1e6)
        acc.setdefault(sec, ([], []))
        for i, col in enumerate(("acc_hr", "acc_label")):
            if num(r[col]) is not None:
                acc[sec][i].append(num(r[col]))
    return {t: (mean(h), mean(l)) for t, (h, l) in acc.items()}


COLS = [("mean_hr", "acc vs HR"), ("p90_hr", "p90 vs HR"), ("p99_hr", "p99 vs HR"), ("tail_hr", "tail frames vs HR"),
        ("mean_label", "acc vs label"), ("p90_label", "p90 vs label"), ("p99_label", "p99 vs label"),
        ("tail_label", "tail frames vs label")]


def stream_tables(seq, arms, stats, truth, md):
    md += [f"## {seq}", "",
           f"True tail frames (cac-oracle's flag: reference accuracy <= tail_cutoff): "
           f"{sum(truth.values())} of {len(truth)} frames scored" if truth else
           "True tail frames: unknown (no cac-oracle run with acc_ref)", "",
           "Accuracy (% mIoU, mean over runs ± 95 % t interval over runs; p90/p99 = the 10th/1st percentile of the "
           "per-frame values of a run):", "",
           "| arm | runs | " + " | ".join(c[1] for c in COLS) + " |", "|---|---|" + "---|" * len(COLS)]
    for a in arms:
        ss = stats.get(a, [])
        if not ss:
            md.append(f"| {NAMES.get(a, a)} | 0 |" + " - |" * len(COLS))
            continue
        md.append(f"| {NAMES.get(a, a)} | {len(ss)} | " + " | ".join(fmt_ci([s[c] for s in ss]) for c, _ in COLS) + " |")
    md += ["", "Against ASR only (paired by run index; percentage points, ± 95 % t interval):", "",
           "| arm | acc vs HR | p90 vs HR | tail frames vs HR | acc vs label | p90 vs label | tail frames vs label |",
           "|---|---|---|---|---|---|---|"]
    base = {s["run"]: s for s in stats.get("standard", [])}
    for a in arms:
        if a == "standard":
            continue
        cells = []
        for c in ("mean_hr", "p90_hr", "tail_hr", "mean_label", "p90_label", "tail_label"):
            d = [s[c] - base[s["run"]][c] for s in stats.get(a, [])
                 if s["run"] in base and s[c] is not None and base[s["run"]][c] is not None]
            cells.append(fmt_ci(d))
        md.append(f"| {NAMES.get(a, a)} | " + " | ".join(cells) + " |")
    md += ["", "Loop (means over runs): frames captured / processed / dropped at the edge / stale at the cloud, share of "
           "processed frames flagged and sent in the tail (or flag) configuration, the detector's recall and precision "
           "against the true tail frames, kbit/s sent:", "",
           "| arm | captured | processed | dropped | stale | flagged % | tail config % | recall % | precision % | kbit/s |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for a in arms:
        ss = stats.get(a, [])
        if not ss:
            continue
        m = lambda c, f=1: mean([s[c] for s in ss if s[c] is not None])
        md.append(f"| {NAMES.get(a, a)} | {fmt(m('captured'), 0)} | {fmt(m('processed'), 0)} | {fmt(m('dropped'), 1)} | "
                  f"{fmt(m('stale'), 1)} | {fmt_ci([s['flagged'] for s in ss])} | {fmt_ci([s['tail_cfg'] for s in ss])} | "
                  f"{fmt_ci([s['recall'] for s in ss])} | {fmt_ci([s['precision'] for s in ss])} | {fmt(m('kbps'))} |")
    md.append("")


def figure(out, seq, arms, stats, scale):
    secs = sorted({t for a in arms for s in stats.get(a, []) for t in s["per_sec"]})
    cols = [a for a in arms if stats.get(a)]
    with open(f"{out}/fig15_{seq}.dat", "w") as f:
        f.write("# t_s " + " ".join(f"hr_{a} hrmin_{a} hrmax_{a} label_{a}" for a in cols) + "\n")
        for t in secs:
            vals = []
            for a in cols:
                hr = [s["per_sec"][t][0] for s in stats[a] if t in s["per_sec"] and s["per_sec"][t][0] is not None]
                lab = [s["per_sec"][t][1] for s in stats[a] if t in s["per_sec"] and s["per_sec"][t][1] is not None]
                vals += [fmt(100 * mean(hr), 2) if hr else "NaN", fmt(100 * min(hr), 2) if hr else "NaN",
                         fmt(100 * max(hr), 2) if hr else "NaN", fmt(100 * mean(lab), 2) if lab else "NaN"]
            f.write(f"{t} {' '.join(vals)}\n")
    with open(f"{out}/fig15_{seq}.gp", "w") as f:
        f.write(f'set terminal pngcairo size 1100,500 font ",10"\nset output "{out}/fig15_{seq}.png"\n'
                f'set title "Fig. 15 ({seq}): per-second mIoU vs HR, mean over runs (bars: the runs\' range); '
                f'capacity x{scale}"\nset ylabel "mIoU vs HR (%)"; set xlabel "time (s)"; set yrange [0:100]; '
                f'set key bottom horizontal center; set grid\nplot ')
        f.write(", \\\n     ".join(
            f'"{out}/fig15_{seq}.dat" using 1:{2 + 4 * i} with linespoints lc rgb "{COLORS.get(a, "black")}" pt 7 ps 0.4 '
            f'title "{NAMES.get(a, a)}", "" using 1:{2 + 4 * i}:{3 + 4 * i}:{4 + 4 * i} with yerrorbars lc rgb '
            f'"{COLORS.get(a, "black")}" pt -1 notitle' for i, a in enumerate(cols)) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--profile", required=True)
    ap.add_argument("--profile-bilinear", default="")
    ap.add_argument("--streams", default="Seq05VD:171 0001TP:62")
    ap.add_argument("--arms", default="cac cac-share standard awstream-bilinear awstream-asr cac-oracle")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", default="?")
    a = ap.parse_args()
    arms = a.arms.split()
    md = ["# Fig. 15: CAC, cac-share, CAC-oracle, ASR only and AWStream on the 10/5/2/10 Mbps schedule", "",
          f"Made by `scripts/fig15.sh` (each run's commands in `STREAM/ARM/runK/commands.txt`; the bandwidth scale in "
          f"`scale.txt`: x{a.scale}, so that 10 Mbps = the profile's HR q90 bits per frame at the stream's frame rate) "
          f"and `scripts/fig15_analyze.py` from the per-frame CSVs alone. Profile `{a.profile}`"
          + (f"; AWStream (bilinear) used `{a.profile_bilinear}`" if a.profile_bilinear else
             "; AWStream (bilinear) used the same profile's picks with every scale rebuilt bilinearly") + ".", ""]
    with open(f"{a.out}/fig15_runs.csv", "w", newline="") as f:
        keys = ["stream", "arm", "run", "captured", "processed", "dropped", "stale"] + [c for c, _ in COLS] + \
               ["flagged", "tail_cfg", "recall", "precision", "kbps"]
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for st in a.streams.split():
            seq = st.split(":")[0]
            truth = truth_tail(a.out, seq, a.runs)
            stats = {}
            for arm in arms:
                for k in range(1, a.runs + 1):
                    s = run_stats(a.out, seq, arm, k, truth)
                    if s:
                        stats.setdefault(arm, []).append(s)
                        w.writerow(s)
            stream_tables(seq, arms, stats, truth, md)
            figure(a.out, seq, arms, stats, a.scale)
    open(f"{a.out}/RESULTS.md", "w").write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
