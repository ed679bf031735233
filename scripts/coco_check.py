#!/usr/bin/env python3
"""coco_check.py: rune eval-det's AP checked against pycocotools and against darknet's formula on rune's own detections.

pycocotools is NOT a requirement of rune (nor of the README's setup, nor of `make test`): install it for
this script alone, in a venv under the repository (ignored by git), e.g.

    python3 -m venv .venv-coco && .venv-coco/bin/pip install pycocotools pillow
    .venv-coco/bin/python scripts/coco_check.py ...        (scripts/coco_check.sh does all of it)

Checked with pycocotools 2.0.11, numpy 2.4, Pillow 13 (Python 3.11). Subcommands:

  gt --data DIR -o GT.json
      A YOLO split (DIR/images/*.jpg|png, DIR/labels/*.txt "cls cx cy w h" normalised, names from
      DIR/config.yaml) as COCO ground truth, built the way rune reads it (data/ds_yolo.c): boxes in
      pixels of the image (size read from the file), corners clipped to it, in float32; image id =
      the file name's stem when it is all digits (coco128: the train2017 ids), else the image's place
      in name order; category id = the YOLO class index (rune's results file writes the same,
      profile/det_coco_results.c); iscrowd 0. "area" = box width x height in pixels: pycocotools
      splits AP into small/medium/large by this field, and COCO's own files hold the SEGMENTATION
      area there, smaller than the box's, so small/medium/large on converted YOLO labels are not
      COCO's (more objects land in the bigger bins). AP, AP50 and AP75 do not use it.

  eval --gt GT.json --dets DETS.json [--rune-coco LOG] [--rune-darknet LOG] [--label NAME] [--csv FILE]
      pycocotools COCOeval (bbox, its defaults: maxDets 100, 101 recall points) on rune's detections
      (`rune eval-det --json DETS.json`), and darknet's `detector map` formula re-implemented below
      on the same detections; prints both beside rune's numbers parsed from its stdout (LOG) and the
      differences. --csv appends one row per measure.

  table6 --data DIR --json DIR --table CSV --classes CSV [--csv FILE]
      Table 6 (`rune eval-det-asr ... --json DIR`) through pycocotools: for every method's results file
      DIR/NAME_xS.json, COCOeval (bbox) on the images of DIR/images.json with no per-image cap (as
      eval-det-asr keeps every detection), AP50 per class, mAP50 over classes with ground truth and the
      tail mAP50 over rune's tail classes (classes.csv); beside rune's table6.csv. Exit 1 when any
      differs by more than 0.1 points.

  fixture -o DIR
      A small synthetic GT + detections (crowd boxes, a class past the 100-per-image cap, non-contiguous
      category ids) with pycocotools' and the darknet formula's numbers: tests/fixtures/det_coco/, read
      by tests/unit/test_det_ap_fixture.c so that `make test` pins the agreement without pycocotools.
"""
import argparse
import json
import os
import random
import re
import struct
import sys


def f32(x):
    """x rounded to float32, as rune stores box corners."""
    return struct.unpack("f", struct.pack("f", x))[0]


# ---- YOLO split -> COCO ground truth ----

def yolo_names(root):
    names, inside = [], False
    for line in open(os.path.join(root, "config.yaml")):
        if line.startswith("names:"):
            inside = True
            continue
        if inside:
            if not line[:1].isspace():
                break
            m = re.match(r"\s*(\d+):\s*(.*?)\s*$", line)
            if m:
                names.append(m.group(2).strip("'\""))
    return names


def image_id(stem, index):
    """profile/det_coco_results.c's rule."""
    return int(stem) if stem.isdigit() and len(stem) <= 15 else index


def yolo_to_coco(root):
    from PIL import Image

    img_dir = os.path.join(root, "images") if os.path.isdir(os.path.join(root, "images")) else root
    files = sorted(f for f in os.listdir(img_dir) if f.lower().endswith((".jpg", ".jpeg", ".png")) and not f.startswith("."))
    names = yolo_names(root)
    images, anns = [], []
    for i, fn in enumerate(files):
        stem = os.path.splitext(fn)[0]
        w, h = Image.open(os.path.join(img_dir, fn)).size
        iid = image_id(stem, i)
        images.append({"id": iid, "file_name": fn, "width": w, "height": h})
        lab = os.path.join(root, "labels", stem + ".txt")
        if not os.path.exists(lab):
            continue
        for line in open(lab):
            if not line.strip():
                continue
            c, cx, cy, bw, bh = line.split()
            cx, cy, bw, bh = map(float, (cx, cy, bw, bh))
            clip = lambda v, hi: f32(min(max(v, 0.0), hi))
            x0, y0 = clip((cx - bw / 2) * w, w), clip((cy - bh / 2) * h, h)
            x1, y1 = clip((cx + bw / 2) * w, w), clip((cy + bh / 2) * h, h)
            anns.append({"id": len(anns) + 1,  # pycocotools takes id 0 for "unmatched": start at 1
                         "image_id": iid, "category_id": int(c), "iscrowd": 0,
                         "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0)})
    cats = [{"id": k, "name": n} for k, n in enumerate(names)]
    return {"images": images, "annotations": anns, "categories": cats}


# ---- pycocotools ----

def coco_eval(gt_path, dets_path):
    """COCOeval bbox with its defaults; returns (stats, per-IoU mAP list, its IoU thresholds)."""
    import contextlib
    import io

    import numpy as np
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(dets_path)
        e = COCOeval(gt, dt, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    prec = e.eval["precision"][:, :, :, 0, -1]  # [T, R, K] at area "all", maxDets 100
    per_iou = [float(np.mean(p[p > -1])) for p in prec]
    return [float(s) for s in e.stats], per_iou, [float(t) for t in e.params.iouThrs]


# ---- darknet's validate_detector_map (AlexeyAB src/detector.c) on given detections ----

def iou_xywh(a, b):
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def darknet_ap(prec, rec, points):
    """Its two loops as its -Ofast binary runs them: points 0 = area under the curve, else `points` recall points."""
    n = len(prec)
    if n == 0:
        return 0.0
    if points == 0:
        ap, last_rec, last_prec = 0.0, rec[-1], prec[-1]
        for k in range(n - 2, -1, -1):
            dr = last_rec - rec[k]
            last_rec = rec[k]
            last_prec = max(last_prec, prec[k])
            ap += dr * last_prec
        return ap + last_rec * last_prec
    s, step = 0.0, 1.0 / (points - 1)  # darknet's -Ofast builds hoist the reciprocal: p * (1/(N-1))
    for p in range(points):
        want = p * step
        s += max([pr for pr, rc in zip(prec, rec) if rc >= want], default=0.0)
    return s / points


def darknet_map(gt, dets, iou_thr=0.5, points=0):
    """mAP over every category of the ground truth (0 for those without boxes), as darknet divides
    by its class count. Each detection takes its best same-class box with IoU > iou_thr (strictly),
    claimed or not; in descending score, a box claimed already makes it a false positive. A detection
    matching nothing that overlaps a crowd box (darknet's `difficult`) by IoU > iou_thr is dropped."""
    boxes = {}
    npos = {c["id"]: 0 for c in gt["categories"]}
    for a in gt["annotations"]:
        boxes.setdefault((a["image_id"], a["category_id"]), []).append(a)
        if not a.get("iscrowd", 0):
            npos[a["category_id"]] += 1
    claimed, ranked = set(), {c: [] for c in npos}
    for d in sorted(dets, key=lambda d: -d["score"]):  # stable; darknet's qsort is not (ties are rare)
        cands = boxes.get((d["image_id"], d["category_id"]), [])
        best, best_iou = None, 0.0
        for g in cands:
            v = iou_xywh(d["bbox"], g["bbox"])
            if not g.get("iscrowd", 0) and v > iou_thr and v > best_iou:
                best, best_iou = g["id"], v
        if best is None and any(g.get("iscrowd", 0) and iou_xywh(d["bbox"], g["bbox"]) > iou_thr for g in cands):
            continue
        tp = best is not None and best not in claimed
        if tp:
            claimed.add(best)
        if d["category_id"] in ranked:
            ranked[d["category_id"]].append(tp)
    aps = {}
    for c, flags in ranked.items():
        tp = fp = 0
        prec, rec = [], []
        for f in flags:
            tp, fp = tp + f, fp + (not f)
            prec.append(tp / (tp + fp))
            rec.append(tp / npos[c] if npos[c] else 0.0)
        aps[c] = darknet_ap(prec, rec, points) if npos[c] else 0.0
    with_gt = [c for c in npos if npos[c]]
    return sum(aps.values()) / len(aps), sum(aps[c] for c in with_gt) / max(len(with_gt), 1)


# ---- rune's stdout ----

def rune_numbers(coco_log, darknet_log):
    out = {}
    if coco_log:
        t = open(coco_log).read()
        m = re.search(r"COCO AP@\[\.50:\.95\] = ([\d.]+) %, AP@\.50 = ([\d.]+) %, AP@\.75 = ([\d.]+) %", t)
        if m:
            out["AP"], out["AP50"], out["AP75"] = (float(x) for x in m.groups())
    if darknet_log:
        m = re.search(r"mAP@0\.50 = ([\d.]+) % over \d+ model classes", open(darknet_log).read())
        if m:
            out["darknet mAP@0.5"] = float(m.group(1))
    return out


def cmd_eval(a):
    gt = json.load(open(a.gt))
    dets = json.load(open(a.dets))
    stats, _, _ = coco_eval(a.gt, a.dets)
    dk_all, dk_gt = darknet_map(gt, dets, 0.5, 0)
    ref = {"AP": 100 * stats[0], "AP50": 100 * stats[1], "AP75": 100 * stats[2], "darknet mAP@0.5": 100 * dk_all}
    rune = rune_numbers(a.rune_coco, a.rune_darknet)
    print(f"{a.label}: {len(gt['images'])} images, {len(gt['annotations'])} boxes, {len(dets)} detections")
    print(f"  {'measure':<18} {'rune':>8} {'reference':>10} {'diff':>7}  reference")
    rows = []
    for k, v in ref.items():
        r = rune.get(k)
        who = "darknet formula (python)" if k.startswith("darknet") else "pycocotools"
        diff = f"{r - v:+7.2f}" if r is not None else "      -"
        print(f"  {k:<18} {r if r is not None else float('nan'):8.2f} {v:10.2f} {diff}  {who}")
        rows.append((a.label, k, r, v, who))
    print(f"  pycocotools APs/APm/APl (area field; see the header) = {100 * stats[3]:.2f} / {100 * stats[4]:.2f} / "
          f"{100 * stats[5]:.2f}; darknet formula over classes with ground truth only = {100 * dk_gt:.2f}")
    if a.csv:
        new = not os.path.exists(a.csv)
        with open(a.csv, "a") as f:
            if new:
                f.write("run,measure,rune,reference,diff,reference_tool\n")
            for lab, k, r, v, who in rows:
                f.write(f"{lab},{k},{'' if r is None else f'{r:.2f}'},{v:.4f},"
                        f"{'' if r is None else f'{r - v:+.4f}'},{who}\n")
    bad = [k for k, v in ref.items() if k in rune and abs(rune[k] - v) > 0.1]
    if bad:
        print(f"  DISAGREE by more than 0.1 points: {', '.join(bad)}")
    return 1 if bad else 0


# ---- Table 6 (eval-det-asr --json) ----

def per_class_ap50(gt, dets_path, image_ids):
    """{category id: AP50} from COCOeval over image_ids, every detection kept, classes with ground truth."""
    import contextlib
    import io

    import numpy as np
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO()
        g.dataset = gt
        g.createIndex()
        dets = json.load(open(dets_path))
        d = g.loadRes(dets) if dets else COCO()
        e = COCOeval(g, d, "bbox")
        e.params.imgIds = image_ids
        e.params.maxDets = [1, 10, 10 ** 9]  # no 100-per-image cap
        e.evaluate()
        e.accumulate()
    prec = e.eval["precision"][0, :, :, 0, -1]  # [R, K] at IoU .5, area "all", the uncapped maxDets
    out = {}
    for k, cat in enumerate(e.params.catIds):
        p = prec[:, k]
        if (p > -1).any():
            out[cat] = float(np.mean(p[p > -1]))
    return out


def cmd_table6(a):
    import csv

    gt = yolo_to_coco(a.data)
    ids = json.load(open(os.path.join(a.json, "images.json")))
    keep = set(ids)
    gt["images"] = [im for im in gt["images"] if im["id"] in keep]
    gt["annotations"] = [an for an in gt["annotations"] if an["image_id"] in keep]
    tail = [int(r["class_id"]) for r in csv.DictReader(open(a.classes)) if r["tail"] == "1"]
    rows, bad = [], []
    for r in csv.DictReader(open(a.table)):
        name, scale = r["method"], int(r["scale"]) if r["scale"] not in ("", "1") else 1
        path = os.path.join(a.json, f"{name}_x{scale}.json")
        ap = per_class_ap50(gt, path, ids)
        m = 100 * sum(ap.values()) / len(ap)
        t = 100 * sum(ap.get(c, 0.0) for c in tail) / len(tail) if tail else float("nan")
        rm, rt = 100 * float(r["map50"]), 100 * float(r["tail_map50"])
        rows.append((f"x{scale} {name}", rm, m, rt, t))
        if abs(rm - m) > 0.1 or abs(rt - t) > 0.1:
            bad.append(f"x{scale} {name}")
    print(f"Table 6 through pycocotools: {len(ids)} images, {len(gt['annotations'])} boxes, tail = {len(tail)} classes")
    print(f"  {'method':<14} {'rune mAP50':>10} {'pycocotools':>11} {'diff':>6}   {'rune tail':>9} {'pycocotools':>11} {'diff':>6}")
    for lab, rm, m, rt, t in rows:
        print(f"  {lab:<14} {rm:10.2f} {m:11.2f} {rm - m:+6.2f}   {rt:9.2f} {t:11.2f} {rt - t:+6.2f}")
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("method,rune_map50,pycocotools_map50,diff,rune_tail_map50,pycocotools_tail_map50,tail_diff\n")
            for lab, rm, m, rt, t in rows:
                f.write(f"{lab},{rm:.4f},{m:.4f},{rm - m:+.4f},{rt:.4f},{t:.4f},{rt - t:+.4f}\n")
    if bad:
        print(f"  DISAGREE by more than 0.1 points: {', '.join(bad)}")
    return 1 if bad else 0


# ---- the synthetic fixture ----

def q(x):
    return round(x * 4) / 4  # quarter pixels: exact in float32 and double, so IoUs agree to the bit


def fixture_data(seed=11):
    rnd = random.Random(seed)
    cat_ids = [1, 3, 7, 8, 12]  # non-contiguous, as COCO's
    images, anns, dets = [], [], []
    scores = rnd.sample(range(1, 4096), 4000)  # distinct k/4096 scores: no ties to order
    take = lambda: scores.pop() / 4096
    for i in range(8):
        iid = 100 + 7 * i
        images.append({"id": iid, "file_name": f"{iid}.jpg", "width": 200, "height": 150})
        for _ in range(rnd.randint(1, 6)):
            c = rnd.choice(cat_ids[:4])  # category 12 has detections but no ground truth
            x, y = q(rnd.uniform(0, 160)), q(rnd.uniform(0, 110))
            w, h = q(rnd.uniform(4, 40)), q(rnd.uniform(4, 40))
            crowd = 1 if rnd.random() < 0.12 else 0
            anns.append({"id": len(anns) + 1, "image_id": iid, "category_id": c, "iscrowd": crowd,
                         "bbox": [x, y, w, h], "area": w * h})
            for _ in range(rnd.randint(0, 3)):  # jittered copies: IoUs from ~0.3 to 1
                j = lambda v, s: q(v + rnd.uniform(-s, s))
                dc = c if rnd.random() < 0.9 else rnd.choice(cat_ids)
                dets.append({"image_id": iid, "category_id": dc, "score": take(),
                             "bbox": [j(x, w * 0.1), j(y, h * 0.1), max(1.0, j(w, w * 0.15)), max(1.0, j(h, h * 0.15))]})
        for _ in range(rnd.randint(1, 4)):  # background false positives
            dets.append({"image_id": iid, "category_id": rnd.choice(cat_ids), "score": take(),
                         "bbox": [q(rnd.uniform(0, 170)), q(rnd.uniform(0, 120)), q(rnd.uniform(3, 30)), q(rnd.uniform(3, 30))]})
    # one image and class past pycocotools' 100-detection cap: 120 boxes, the true ones scored low
    iid = images[0]["id"]
    for k in range(3):
        anns.append({"id": len(anns) + 1, "image_id": iid, "category_id": 8, "iscrowd": 0,
                     "bbox": [10.0 + 40 * k, 100.0, 20.0, 20.0], "area": 400.0})
    for k in range(120):
        x = 10.0 + 40 * (k % 3)
        bb = [x, 100.0, 20.0, 20.0] if k >= 110 else [q(rnd.uniform(0, 180)), q(rnd.uniform(0, 20)), 12.0, 12.0]
        dets.append({"image_id": iid, "category_id": 8, "score": take() if k < 110 else 0.0001 * (k - 109), "bbox": bb})
    cats = [{"id": c, "name": f"class{c}"} for c in cat_ids]
    return {"images": images, "annotations": anns, "categories": cats}, dets


def cmd_fixture(a):
    os.makedirs(a.out, exist_ok=True)
    gt, dets = fixture_data()
    gp, dp = os.path.join(a.out, "gt.json"), os.path.join(a.out, "dets.json")
    json.dump(gt, open(gp, "w"), indent=0)
    json.dump(dets, open(dp, "w"), indent=0)
    stats, per_iou, thrs = coco_eval(gp, dp)
    expect = {"coco_iou_thrs": thrs, "coco_map_per_iou": per_iou, "coco_ap": stats[0], "coco_ap50": stats[1], "coco_ap75": stats[2]}
    for pts in (0, 11, 101):
        expect[f"darknet_map_points{pts}"] = darknet_map(gt, dets, 0.5, pts)[0]
    expect["written_by"] = "scripts/coco_check.py fixture (pycocotools COCOeval bbox defaults; darknet: the python re-implementation)"
    json.dump(expect, open(os.path.join(a.out, "expected.json"), "w"), indent=1)
    print(json.dumps(expect, indent=1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gt")
    g.add_argument("--data", required=True)
    g.add_argument("-o", "--out", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--gt", required=True)
    e.add_argument("--dets", required=True)
    e.add_argument("--rune-coco")
    e.add_argument("--rune-darknet")
    e.add_argument("--label", default="run")
    e.add_argument("--csv")
    t = sub.add_parser("table6")
    t.add_argument("--data", required=True)
    t.add_argument("--json", required=True)
    t.add_argument("--table", required=True)
    t.add_argument("--classes", required=True)
    t.add_argument("--csv")
    f = sub.add_parser("fixture")
    f.add_argument("-o", "--out", required=True)
    a = p.parse_args()
    if a.cmd == "gt":
        json.dump(yolo_to_coco(a.data), open(a.out, "w"))
        return 0
    if a.cmd == "eval":
        return cmd_eval(a)
    if a.cmd == "table6":
        return cmd_table6(a)
    return cmd_fixture(a)


if __name__ == "__main__":
    sys.exit(main())
