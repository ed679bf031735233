#!/usr/bin/env bash
# fig15.sh: the paper's Fig. 15 as issue 22 item 8 asks — six arms on the 10/5/2/10 Mbps schedule, CamVid test Seq05VD and 0001TP at 1 Hz, RUNS runs each, a dry check first.
#
#   scripts/fig15.sh [OUT] [dry|run|analyze]      (OUT default results/fig15; mode default run)
#
#   dry      the dry check only (below), then stop
#   run      the dry check, then every stream x arm x run, then the analysis (scripts/fig15_analyze.py)
#   analyze  the analysis of what OUT already holds
#
# Bandwidth scale: 10 Mbps stands for the stream's HR q90 bits at its frame rate: factor F = (the
# profile's HR q90 mean bytes per frame over all its frames) x 8 x FPS / 10e6, printed at the start and
# written to OUT/scale.txt; every step of the schedule is multiplied by F (serve-edge --bandwidth-scale).
# So at "10 Mbps" one HR q90 frame a second fits the link exactly, at 5 half of it, at 2 a fifth.
# Schedule: the paper's 10 / 5 / 2 / 10 Mbps over its ~25 s clip (changes at 5, 12, 19 s), stretched
# to the stream's duration (frames / FPS) so the four stages cover the same shares of it.
# Streams: CamVid test Seq05VD (171 frames) and 0001TP (62), labelled every 30th video frame = 1 s apart
# in the video: FPS 1 plays them at their real spacing.
# Arms (ARMS): cac, cac-share, standard (ASR without CAC), awstream-bilinear (AWStream, every scale
# rebuilt bilinearly: the paper's baseline; with PROFILE_BILINEAR, a profile made with xS=bilinear,
# its own Pareto picks too, otherwise the main profile's picks with --sr xS=bilinear, stated in the
# results), awstream-asr (AWStream on the profile's ASR models), cac-oracle (CAC's loop flagged by the
# frame's accuracy at the profile's reference configuration <= tail_cutoff). Threshold and signal come
# from the profile (THRESHOLD overrides every detector's threshold: experiments only, never Fig. 15).
# AWStream's extra profiling frame: AW_PROBE (default 2:90): HR q90 would take 1 s of the "10 Mbps" link
# and 5 s of the "2 Mbps" one, past the deadline; the cloud rebuilds x2 q90 with its SR model and uses it
# in place of HR.
# Dry check: (1) `rune serve-cloud --plan` at the schedule's scaled rates, per arm's controller: the
# tail pick must differ from the standard pick at one of them at least (else CAC = ASR-only by
# construction), cac-share's pair likewise (else it is CAC or standard), the standard picks must have a
# detector; (2) DRY_FRAMES frames of each stream through the cac arm (half at "10", half at "2"): the
# detector must flag some of the frames and not all. It stops with the reason (exit 3) when the arms
# cannot differ.
# Each run: OUT/STREAM/ARM/runK/{cloud.csv,edge.csv,summary.md,commands.txt,cloud.log,edge.log}.
# Cost: (171 + 62) s x 6 arms x 3 runs ~ 70 min plus start-up; one CPU cloud does ~2-3 frames/s.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/fig15}
MODE=${2:-run}
R=${RUNE:-./rune}
S=${RUNE_SHARED:-../shared}
DATA=${DATA:-$S/data/camvid}
SPLIT=${SPLIT:-test}
PROFILE=${PROFILE:-results/profile/profile.json}
PROFILE_BILINEAR=${PROFILE_BILINEAR:-}
STREAMS=${STREAMS:-"Seq05VD:171 0001TP:62"}
ARMS=${ARMS:-"cac cac-share standard awstream-bilinear awstream-asr cac-oracle"}
RUNS=${RUNS:-3}
FPS=${FPS:-1}
HR_BYTES=${HR_BYTES:-}      # HR q90 mean bytes per frame when the profile has no HR q90 configuration
THRESHOLD=${THRESHOLD:-}
DRY_FRAMES=${DRY_FRAMES:-10}
DEADLINE_MS=${DEADLINE_MS:-4000}
AW_PROBE=${AW_PROBE:-2:90}
PORT=${PORT:-$((23000 + $$ % 1000))}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=passive
case $MODE in dry|run|analyze) ;; *) echo "fig15.sh: mode $MODE: want dry, run or analyze" >&2; exit 2;; esac
[ -f "$PROFILE" ] || { echo "fig15.sh: no profile $PROFILE (PROFILE=...)" >&2; exit 1; }
mkdir -p "$OUT"

# --- the bandwidth scale ----------------------------------------------------------------------
hr_bytes() { # the profile's HR q90 mean bytes per frame over all its frames (or HR_BYTES)
    if [ -n "$HR_BYTES" ]; then echo "$HR_BYTES"; return; fi
    python3 - "$PROFILE" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
c = [c for c in p.get("configs", []) if c.get("scale") == 1 and c.get("quality") == 90]
if not c:
    sys.exit("fig15.sh: the profile has no HR q90 configuration (profile with --hr-qualities ...90, or set HR_BYTES)")
c = c[0]
if c.get("bytes_all") is not None:
    print(c["bytes_all"]); sys.exit()
n = p["dataset"]["frames"]; nt = len(p.get("tail_frames") or [])
bs, bt = c.get("bytes_std"), c.get("bytes_tail")
print(bs if not nt or bt is None else bt if nt == n or bs is None else (bs * (n - nt) + bt * nt) / n)
PY
}
HRB=$(hr_bytes)
SCALE=$(python3 -c "print('%.6g' % ($HRB * 8 * $FPS / 10e6))")
M10=$(python3 -c "print('%.6g' % (10 * $SCALE))"); M5=$(python3 -c "print('%.6g' % (5 * $SCALE))")
M2=$(python3 -c "print('%.6g' % (2 * $SCALE))")
echo "fig15: bandwidth scale: HR q90 = $HRB bytes/frame x 8 x $FPS fps = $M10 Mbps stands for 10 Mbps: factor $SCALE" \
     "(5 -> $M5, 2 -> $M2 Mbps)" | tee "$OUT/scale.txt"

schedule() { # frames -> the stretched 10/5/2/10 schedule (seconds from the stream's start)
    python3 -c "d = $1 / $FPS; print('0:10,%.1f:5,%.1f:2,%.1f:10' % (d * 5 / 25, d * 12 / 25, d * 19 / 25))"
}

bilinear_sr() { # xS=bilinear for every scale the profile names
    python3 -c "import json; print(','.join('x%d=bilinear' % s['scale'] for s in json.load(open('$PROFILE')).get('sr', []) if s['scale'] > 1))"
}

controller_of() { case $1 in awstream-*) echo awstream;; *) echo "$1";; esac; }

# --- one run of one arm -----------------------------------------------------------------------
run_arm() { # seq frames arm dir bandwidth-spec
    local seq=$1 n=$2 arm=$3 d=$4 bw=$5 prof=$PROFILE sr=()
    if [ "$arm" = awstream-bilinear ]; then
        if [ -n "$PROFILE_BILINEAR" ]; then prof=$PROFILE_BILINEAR; else sr=(--sr "$(bilinear_sr)"); fi
    fi
    mkdir -p "$d"; PORT=$((PORT + 1)); local ep=tcp://127.0.0.1:$PORT
    local cloud=("$R" serve-cloud --listen "$ep" --profile "$prof" --controller "$(controller_of "$arm")" --data "$DATA"
                 --dataset camvid --split "$SPLIT" --seq "$seq" --csv "$d/cloud.csv" --summary "$d/summary.md" --edges 1
                 --fps "$FPS" --duration $((n * 3 / FPS + 300)) --aw-probe "$AW_PROBE" ${THRESHOLD:+--threshold $THRESHOLD} "${sr[@]}")
    local edge=("$R" serve-edge --connect "$ep" --id robot --frames "$DATA" --dataset camvid --split "$SPLIT" --seq "$seq"
                --fps "$FPS" --max-frames "$n" --bandwidth "$bw" --bandwidth-scale "$SCALE" --deadline-ms "$DEADLINE_MS"
                --csv "$d/edge.csv" --wait-cloud 120 --linger 15)
    echo "${cloud[*]}" > "$d/commands.txt"; echo "${edge[*]}" >> "$d/commands.txt"
    timeout $((n * 3 / FPS + 400)) "${cloud[@]}" > "$d/cloud.log" 2>&1 & local cpid=$!
    local erc=0 crc=0
    timeout $((n * 3 / FPS + 300)) "${edge[@]}" > "$d/edge.log" 2>&1 || erc=$?
    wait $cpid || crc=$?
    [ $erc -eq 0 ] && [ $crc -eq 0 ] || echo "fig15: $d: edge exit $erc, cloud exit $crc (logs there)" >&2
    return 0
}

# --- the dry check ----------------------------------------------------------------------------
dry_plan() { # every arm's controller must run on the profile; the picks must differ somewhere
    local ctls="" a
    for a in $ARMS; do ctls="$ctls $(controller_of "$a")"; done
    for c in $(echo "$ctls" | tr ' ' '\n' | sort -u); do
        "$R" serve-cloud --profile "$PROFILE" --controller "$c" --fps "$FPS" ${THRESHOLD:+--threshold $THRESHOLD} \
            --plan "$M10,$M5,$M2" > "$OUT/dry/plan_$c.csv" 2> "$OUT/dry/plan_$c.err" ||
            { echo "DRY CHECK FAILED: arm controller $c cannot run on $PROFILE: $(cat "$OUT/dry/plan_$c.err")" >&2; exit 3; }
    done
    cp "$OUT/dry/plan_$(controller_of "${ARMS%% *}").csv" "$OUT/dry/plan.csv"
    echo "fig15: the plan at the schedule's rates (10 / 5 / 2 Mbps scaled; edge at $FPS fps):"
    column -s, -t < "$OUT/dry/plan.csv" || cat "$OUT/dry/plan.csv"
    python3 - "$OUT/dry/plan.csv" "$ARMS" <<'PY'
import csv, sys
rows, arms = list(csv.DictReader(open(sys.argv[1]))), sys.argv[2].split()
bad = []
if any(a in arms for a in ("cac", "cac-oracle")) and not any(r["tail_differs"] == "1" for r in rows):
    bad.append("at every rate of the schedule the tail pick equals the standard pick (targets %s): CAC and "
               "cac-oracle would send exactly what ASR-only sends" % ", ".join(r["target_mbps"] for r in rows))
if "cac-share" in arms and not any(r["share_differs"] == "1" for r in rows):
    bad.append("cac-share has no pair that differs from the standard pick at these rates (share_flag/share_other: %s)"
               % ", ".join(r["share_flag"] + "/" + r["share_other"] for r in rows))
if any(a in arms for a in ("cac", "cac-share")) and any(r["det_standard"] == "-" for r in rows):
    bad.append("no detector for the standard pick at %s Mbps: CAC could never enter the tail configuration there"
               % ", ".join(r["mbps"] for r in rows if r["det_standard"] == "-"))
for b in bad:
    print("DRY CHECK FAILED: " + b, file=sys.stderr)
sys.exit(3 if bad else 0)
PY
}

dry_live() { # DRY_FRAMES frames per stream through the cac arm: the detector flags some, not all
    local st seq n half
    for st in $STREAMS; do
        seq=${st%%:*}; n=$DRY_FRAMES; half=$(python3 -c "print('%.1f' % ($n / 2 / $FPS))")
        run_arm "$seq" "$n" cac "$OUT/dry/$seq" "0:10,$half:2"
    done
    python3 - "$OUT/dry" $STREAMS <<'PY'
import csv, math, os, sys
out, total, flagged, lines = sys.argv[1], 0, 0, []
for st in sys.argv[2:]:
    seq = st.split(":")[0]
    p = os.path.join(out, seq, "cloud.csv")
    rows = [r for r in csv.DictReader(open(p))] if os.path.exists(p) else []
    rows = [r for r in rows if r["status"] == "processed" and r["probe"] != "1"]
    f = sum(r["tail_detected"] == "1" for r in rows)
    vals = [float(r["signal_value"]) for r in rows if r.get("signal_value") not in (None, "", "nan")]
    thr = sorted(set(r["det_threshold"] + "/" + r["det_direction"] + "@x" + r["det_scale"] + "q" + r["det_quality"] for r in rows))
    cfg = sorted(set(r["config"] for r in rows))
    lines.append(f"  {seq}: {len(rows)} frames processed, {f} flagged; {rows[0]['signal'] if rows else '-'} "
                 f"{min(vals) if vals else float('nan'):.4g}..{max(vals) if vals else float('nan'):.4g}; "
                 f"detectors {' '.join(thr) or '-'}; configurations {' '.join(cfg) or '-'}")
    total += len(rows); flagged += f
print("fig15: the detector on the dry frames:\n" + "\n".join(lines))
if total == 0:
    sys.exit("DRY CHECK FAILED: no frame was processed in the dry runs (see OUT/dry/*/cloud.log, edge.log)")
if flagged == 0:
    print("DRY CHECK FAILED: the detector flags none of the %d frames: CAC would stay in the standard "
          "configuration (= ASR-only)" % total, file=sys.stderr); sys.exit(3)
if flagged == total:
    print("DRY CHECK FAILED: the detector flags all %d frames: CAC would sit in the tail configuration (= a fixed "
          "tail controller, not a content-aware one)" % total, file=sys.stderr); sys.exit(3)
print("fig15: dry check passed: the picks differ at the schedule's rates, the detector flags %d of %d frames" % (flagged, total))
PY
}

if [ "$MODE" != analyze ]; then
    mkdir -p "$OUT/dry"
    dry_plan
    dry_live
    [ "$MODE" = dry ] && exit 0
    for st in $STREAMS; do
        seq=${st%%:*}; n=${st#*:}; bw=$(schedule "$n")
        for k in $(seq 1 "$RUNS"); do
            for arm in $ARMS; do
                echo "== $seq / $arm / run $k: $n frames at $FPS fps, schedule $bw (x$SCALE)"
                run_arm "$seq" "$n" "$arm" "$OUT/$seq/$arm/run$k" "$bw"
            done
        done
    done
fi
python3 scripts/fig15_analyze.py "$OUT" --profile "$PROFILE" --streams "$STREAMS" --arms "$ARMS" --runs "$RUNS" \
    --scale "$SCALE" ${PROFILE_BILINEAR:+--profile-bilinear "$PROFILE_BILINEAR"}
if command -v gnuplot > /dev/null; then for gp in "$OUT"/fig15_*.gp; do [ -f "$gp" ] && gnuplot "$gp"; done; fi
echo "fig15: wrote $OUT/RESULTS.md"
