#!/usr/bin/env python3
"""serve_analyze.py: the online experiment's numbers and figures from the per-frame CSVs only.

    scripts/serve_analyze.py OUT --profile P --runs "schedule ..." --ctls "cac standard awstream"

Reads OUT/RUN/CTL/{cloud,edge}.csv (rune serve-cloud / rune serve-edge) and writes OUT/RESULTS.md
(per-run summary, reaction times, Table 7), OUT/fig15_RUN.{dat,gp} (accuracy relative to HR per
second and throughput over time per controller: the paper's Fig. 15) and OUT/table7.dat.
Standard library only."""
import argparse, csv, json, math, os, statistics

COLORS = {"cac": "#d62728", "standard": "#1f77b4", "awstream": "#ff7f0e", "fixed": "#2ca02c"}
NAMES = {"cac": "CAC (ASR + CAC)", "standard": "ASR without CAC", "awstream": "AWStream", "fixed": "fixed"}


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(x):
    try:
        v = float(x)
        return v if math.isfinite(v) else None
    except (TypeError, ValueError):
        return None


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    k = (len(v) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def fmt(x, d=1):
    return "-" if x is None else f"{x:.{d}f}"


def reaction(edge, cloud, tail_src, horizon=10):
    """Per tail episode (consecutive captured frames whose HR prediction has a small-region ratio below
    the threshold: a property of the content, the same for every controller): time and frames from the
    episode's first frame to the first frame the edge SENT with the tail configuration (0 when it was
    already sent so). None = not within the episode + horizon frames."""
    frames = sorted((int(r["frame_id"]), r) for r in edge if r["kind"] == "frame")
    by_id = {i: r for i, r in frames}
    sent_tail = sorted(i for i, r in frames if r["status"] == "sent" and r["tail"] == "1")
    out, prev = [], False
    ids = [i for i, _ in frames]
    for k, i in enumerate(ids):
        t = int(by_id[i]["src_index"]) in tail_src
        if t and not prev:
            end = i
            while end + 1 in by_id and int(by_id[end + 1]["src_index"]) in tail_src:
                end += 1
            hit = next((j for j in sent_tail if j >= i), None)
            if hit is not None and hit <= end + horizon:
                ms = (int(by_id[hit]["capture_us"]) - int(by_id[i]["capture_us"])) / 1000
                out.append((i, end - i + 1, ms, hit - i))
            else:
                out.append((i, end - i + 1, None, None))
        prev = t
    return out


def detect_reaction(edge, cloud):
    """From each frame the cloud DETECTED as tail while the edge was not in the tail configuration to the
    first later frame sent with it: the controller's own loop delay (CAC's ~500 ms in the paper)."""
    sent_tail = sorted(int(r["frame_id"]) for r in edge if r["kind"] == "frame" and r["status"] == "sent" and r["tail"] == "1")
    cap = {int(r["frame_id"]): int(r["capture_us"]) for r in edge if r["kind"] == "frame"}
    out = []
    for r in cloud:
        if r["status"] != "processed" or r["probe"] == "1" or r["tail_detected"] != "1" or r["tail_cfg"] == "1":
            continue
        i = int(r["frame_id"])
        hit = next((j for j in sent_tail if j > i), None)
        if hit is not None and hit in cap and i in cap:
            out.append(((cap[hit] - cap[i]) / 1000, hit - i))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--profile", required=True)
    ap.add_argument("--runs", default="schedule")
    ap.add_argument("--ctls", default="cac standard awstream")
    a = ap.parse_args()
    prof = json.load(open(a.profile))
    runs, ctls = a.runs.split(), a.ctls.split()
    md = ["# The online loop on CamVid Seq05VD (rune serve-cloud + rune serve-edge on loopback)", "",
          "Made by `scripts/serve_experiment.sh` (commands of each run in `RUN/CTL/commands.txt`) and "
          "`scripts/serve_analyze.py` from the per-frame CSVs alone. Accuracy = per-frame mIoU (%) of the "
          "cloud's prediction against the segmenter's prediction on the HR frame (\"vs HR\", the paper's "
          "Fig. 15) and against the CamVid label; tail = the 10th percentile of the per-frame values.", ""]
    thr_doc = (prof.get("threshold") or {}).get("value")
    lat = {}
    for run in runs:
        md += [f"## {run}", ""]
        # an edge row "unconfirmed" is a sent frame's second row (it may be lost in flight): one row per capture here
        data = {c: ([r for r in rows(f"{a.out}/{run}/{c}/edge.csv") if r["status"] != "unconfirmed"],
                    rows(f"{a.out}/{run}/{c}/cloud.csv")) for c in ctls}
        thr = None
        for c in ctls:
            sp = f"{a.out}/{run}/{c}/summary.md"
            if os.path.exists(sp):
                for w in open(sp).read().split(","):
                    if "threshold" in w:
                        thr = num(w.split()[-1])
        thr = thr if thr is not None else (thr_doc if thr_doc is not None else 0.01)
        tail_src = set()
        for c in ctls:
            for r in data[c][1]:
                v = num(r.get("ratio_hr"))
                if v is not None and v < thr:
                    tail_src.add(int(r["src_index"]))
        md += ["| controller | captured | sent | dropped (reasons) | probes | processed | stale | acc vs HR | tail acc vs HR | "
               "acc vs label | tail acc vs label | kbit/s sent | frames in tail config |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        t0 = None
        series = {}
        for c in ctls:
            edge, cloud = data[c]
            fr = [r for r in edge if r["kind"] == "frame"]
            if not fr:
                md.append(f"| {NAMES.get(c, c)} | (no run) |")
                continue
            start = min(int(r["capture_us"]) for r in fr)
            sent = [r for r in edge if r["status"] == "sent"]
            drops = {}
            for r in fr:
                if r["status"] == "dropped":
                    drops[r["reason"]] = drops.get(r["reason"], 0) + 1
            proc = [r for r in cloud if r["status"] == "processed" and r["probe"] != "1"]
            ah = [100 * num(r["acc_hr"]) for r in proc if num(r["acc_hr"]) is not None]
            al = [100 * num(r["acc_label"]) for r in proc if num(r["acc_label"]) is not None]
            dur = max(1e-9, (max(int(r["send_us"]) for r in sent) - start) / 1e6) if sent else 1
            kb = sum(int(r["bytes"]) for r in sent) * 8 / 1000 / dur
            md.append(f"| {NAMES.get(c, c)} | {len(fr)} | {sum(r['kind'] == 'frame' for r in sent)} | "
                      f"{sum(drops.values())} ({', '.join(f'{k} {v}' for k, v in sorted(drops.items())) or '-'}) | "
                      f"{sum(r['kind'] != 'frame' for r in sent)} | {len(proc)} | "
                      f"{sum(r['status'] == 'stale' for r in cloud)} | {fmt(statistics.mean(ah) if ah else None)} | "
                      f"{fmt(pct(ah, 10))} | {fmt(statistics.mean(al) if al else None)} | {fmt(pct(al, 10))} | {kb:.1f} | "
                      f"{sum(r['tail'] == '1' for r in sent if r['kind'] == 'frame')} |")
            # per second: accuracy of the frames captured in it, bits sent in it
            acc_s, kb_s = {}, {}
            for r in proc:
                v = num(r["acc_hr"])
                if v is not None:
                    acc_s.setdefault(int((int(r["capture_us"]) - start) / 1e6), []).append(100 * v)
            for r in sent:  # each message's bits spread over its time on the link (first byte .. last byte)
                b = int(r["bytes"]) * 8 / 1000
                t1 = (int(r["send_us"]) - start) / 1e6
                t0 = (int(r["start_us"]) - start) / 1e6 if r.get("start_us") else t1
                t0 = min(t0, t1)
                if t1 - t0 < 1e-6:
                    kb_s[int(t1)] = kb_s.get(int(t1), 0) + b
                    continue
                sec = int(t0)
                while sec < t1:
                    ov = min(t1, sec + 1) - max(t0, sec)
                    if ov > 0:
                        kb_s[sec] = kb_s.get(sec, 0) + b * ov / (t1 - t0)
                    sec += 1
            series[c] = (acc_s, kb_s)
            for r in proc:
                s = int(r["scale"])
                for k in ("encode_ms", "queue_ms", "transmit_ms", "network_ms", "wait_ms", "decode_ms", "sr_ms", "infer_ms", "ratio_ms", "e2e_ms"):
                    v = num(r.get(k))
                    if v is not None:
                        lat.setdefault((c, s), {}).setdefault(k, []).append(v)
        md += ["", f"Tail content: {len(tail_src)} of the frames have an HR-prediction small-region ratio below the "
               f"threshold {thr:.4g}.", "", "Reaction time, per tail episode (first frame of a run of tail-content frames -> "
               "first frame the edge sent with the tail configuration; \"-\" = not within the episode + 10 frames):", "",
               "| controller | episodes | reacted | median ms | p90 ms | max ms | median frames | values (ms) |", "|---|---|---|---|---|---|---|---|"]
        for c in ctls:
            edge, cloud = data[c]
            if not edge:
                continue
            ep = reaction(edge, cloud, tail_src)
            ms = [e[2] for e in ep if e[2] is not None]
            fr = [e[3] for e in ep if e[3] is not None]
            md.append(f"| {NAMES.get(c, c)} | {len(ep)} | {len(ms)} | {fmt(pct(ms, 50), 0)} | {fmt(pct(ms, 90), 0)} | "
                      f"{fmt(max(ms) if ms else None, 0)} | {fmt(pct(fr, 50), 1)} | "
                      f"{' '.join(fmt(e[2], 0) for e in ep[:40])} |")
        md += ["", "Controller loop delay (a frame the cloud detected as tail while the edge was in the standard "
               "configuration -> the first later frame sent with the tail configuration):", "",
               "| controller | detections | median ms | p90 ms | max ms | median frames | max frames |", "|---|---|---|---|---|---|---|"]
        for c in ctls:
            edge, cloud = data[c]
            d = detect_reaction(edge, cloud)
            ms, fr = [x[0] for x in d], [x[1] for x in d]
            md.append(f"| {NAMES.get(c, c)} | {len(d)} | {fmt(pct(ms, 50), 0)} | {fmt(pct(ms, 90), 0)} | "
                      f"{fmt(max(ms) if ms else None, 0)} | {fmt(pct(fr, 50), 1)} | {fmt(max(fr) if fr else None, 0)} |")
        md.append("")
        # Fig. 15
        secs = sorted(set(k for c in series for k in list(series[c][0]) + list(series[c][1])))
        with open(f"{a.out}/fig15_{run}.dat", "w") as f:
            f.write("# t_s " + " ".join(f"acc_{c} kbps_{c}" for c in series) + " tail_content\n")
            tail_sec = set()
            for c in series:
                for r in data[c][0]:
                    if r["kind"] == "frame" and int(r["src_index"]) in tail_src:
                        tail_sec.add(int((int(r["capture_us"]) - min(int(x["capture_us"]) for x in data[c][0])) / 1e6))
                break
            for s in secs:
                vals = []
                for c in series:
                    acc = series[c][0].get(s)
                    vals += [fmt(statistics.mean(acc), 2) if acc else "NaN", fmt(series[c][1].get(s, 0), 2)]
                f.write(f"{s} {' '.join(vals)} {1 if s in tail_sec else 0}\n")
        cols = list(series)
        with open(f"{a.out}/fig15_{run}.gp", "w") as f:
            f.write(f"""set terminal pngcairo size 1000,700 font ",10"
set output "{a.out}/fig15_{run}.png"
set multiplot layout 2,1 title "Fig. 15 ({run}): CamVid Seq05VD, 480x360 at 2 fps, capacity scaled to the frame size"
set ylabel "mIoU vs HR (%)"; set yrange [0:100]; set key top horizontal center; set grid
set style fill transparent solid 0.15 noborder
plot "{a.out}/fig15_{run}.dat" using 1:(${2 * len(cols) + 2}*100) with boxes lc rgb "gray" title "tail content (HR ratio < threshold)", \\
""")
            f.write(", \\\n".join(f'     "" using 1:{2 + 2 * i} with linespoints lw {2 if c == "cac" else 1} lc rgb "{COLORS.get(c, "black")}" pt {7 if c == "cac" else 6} ps 0.6 title "{NAMES.get(c, c)}"' for i, c in enumerate(cols)))
            f.write(f"""
set ylabel "throughput (kbit/s)"; set xlabel "time (s)"; set yrange [0:*]; set key top horizontal center
plot """)
            f.write(", \\\n     ".join(f'"{a.out}/fig15_{run}.dat" using 1:{3 + 2 * i} with steps lw {2 if c == "cac" else 1} lc rgb "{COLORS.get(c, "black")}" title "{NAMES.get(c, c)}"' for i, c in enumerate(cols)))
            f.write("\nunset multiplot\n")
    # Table 7
    md += ["## Table 7: per-frame latency by stage (ms, mean over processed frames of all runs)", "",
           "encode/queue/transmit are the edge's stamps (transmit = the shaped link); network = loopback delivery; "
           "wait = in the cloud before processing; decode/SR/inference/ratio = the cloud's stages; e2e = capture to "
           "the controller's decision.", "",
           "| controller | scale | frames | encode | queue | transmit | network | wait | decode | SR | inference | ratio | e2e | SR+inference share of e2e |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    with open(f"{a.out}/table7.dat", "w") as f:
        f.write("# controller scale frames encode queue transmit network wait decode sr infer ratio e2e\n")
        for (c, s) in sorted(lat):
            d = lat[(c, s)]
            m = {k: statistics.mean(v) for k, v in d.items()}
            n = len(d.get("e2e_ms", []))
            share = (m.get("sr_ms", 0) + m.get("infer_ms", 0)) / m["e2e_ms"] * 100 if m.get("e2e_ms") else float("nan")
            md.append(f"| {NAMES.get(c, c)} | x{s} | {n} | " + " | ".join(fmt(m.get(k)) for k in (
                "encode_ms", "queue_ms", "transmit_ms", "network_ms", "wait_ms", "decode_ms", "sr_ms", "infer_ms", "ratio_ms", "e2e_ms")) + f" | {share:.0f}% |")
            f.write(f"{c} {s} {n} " + " ".join(fmt(m.get(k), 3) for k in (
                "encode_ms", "queue_ms", "transmit_ms", "network_ms", "wait_ms", "decode_ms", "sr_ms", "infer_ms", "ratio_ms", "e2e_ms")) + "\n")
    open(f"{a.out}/RESULTS.md", "w").write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
