#!/usr/bin/env bash
# serve_workers_bench.sh: serve-cloud --workers on this machine (bench/RESULTS.md, "A cloud past one process"); not in CI.
#   scripts/serve_workers_bench.sh scale [OUT]   1 vs 2 workers, 8 edges at 4 fps each for SCALE_S (40) s: offered
#       32 frames/s, far over what one worker segments (~2/s at 480x360), so each run is saturated; processed
#       frames/s and p50/p95 end-to-end latency of the processed frames, from the workers' CSVs.
#       OMP_NUM_THREADS is 1 in both (a worker per core); "1w-omp2" is today's single cloud with both cores.
#   scripts/serve_workers_bench.sh soak [OUT]    64 edges at 0.5 fps on 2 workers for SOAK_S (300) s; VmRSS of the
#       broker and each worker every 10 s (rss.dat); flat = the last minute's max within RSS_MARGIN (10 %) of the
#       first minute's max (the per-edge state is bounded and the frames are one size, so memory must not grow
#       with time; 10 % leaves room for the allocator's fragmentation, which is not growth).
# Fixed controller at x4 q70 with bilinear x4 keeps every frame the same work.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-scale}
OUT=${2:-bench/serve_workers}
R=${RUNE:-./rune}
SCALE_S=${SCALE_S:-40}
SOAK_S=${SOAK_S:-300}
RSS_MARGIN=${RSS_MARGIN:-0.10}
PORT=${PORT:-$((26000 + $$ % 1000))}
export OMP_WAIT_POLICY=passive
mkdir -p "$OUT"

# name workers edges fps seconds -> $OUT/name/{cloud*.csv,cloud.log,rss.dat}
run() {
    local name=$1 w=$2 n=$3 fps=$4 secs=$5 d=$OUT/$1
    PORT=$((PORT + 1)); local ep=tcp://127.0.0.1:$PORT
    rm -rf "$d"; mkdir -p "$d"
    "$R" serve-cloud --workers "$w" --listen "$ep" --profile data/samples/serve_profile.json --controller fixed --fixed 4:70 \
        --sr x2=bilinear,x4=bilinear --max-edges $((n + 8)) --csv "$d/cloud.csv" --edges "$n" --duration $((secs + 60)) \
        > "$d/cloud.log" 2>&1 & local cpid=$!
    sleep 3
    : > "$d/rss.dat"
    ( t0=$(date +%s); while kill -0 $cpid 2>/dev/null; do
        line="$(( $(date +%s) - t0 )) $(awk '/VmRSS/{print $2}' /proc/$cpid/status 2>/dev/null)"
        for p in $(pgrep -P $cpid); do line="$line $(awk '/VmRSS/{print $2}' /proc/$p/status 2>/dev/null)"; done
        echo "$line" >> "$d/rss.dat"; sleep 10; done ) & local mpid=$!
    local pids=()
    for i in $(seq 1 "$n"); do
        "$R" serve-edge --connect "$ep" --id "e$i" --frames data/samples/camvid --dataset frames --loop --fps "$fps" \
            --duration "$secs" --csv "$d/edge$i.csv" --wait-cloud 30 --linger 5 --quiet > "$d/edge$i.log" 2>&1 & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    wait $cpid || true
    kill $mpid 2>/dev/null || true
    python3 - "$d" "$secs" <<'EOF'
import csv, glob, sys
d, secs = sys.argv[1], float(sys.argv[2])
e2e, n = [], 0
for f in glob.glob(d + "/cloud*.csv"):
    for row in csv.DictReader(open(f)):
        if row["status"] == "processed":
            n += 1
            e2e.append(float(row["e2e_ms"]))
e2e.sort()
q = lambda p: e2e[min(len(e2e) - 1, int(p * len(e2e)))] if e2e else float("nan")
print(f"{d}: {n} processed in {secs:.0f} s = {n / secs:.2f} frames/s; e2e p50 {q(0.5):.0f} ms, p95 {q(0.95):.0f} ms")
EOF
}

if [ "$MODE" = scale ]; then
    OMP_NUM_THREADS=2 run 1w-omp2 1 8 4 "$SCALE_S"
    OMP_NUM_THREADS=1 run 1w 1 8 4 "$SCALE_S"
    OMP_NUM_THREADS=1 run 2w 2 8 4 "$SCALE_S"
else
    OMP_NUM_THREADS=1 run soak64 2 64 0.5 "$SOAK_S"
    python3 - "$OUT/soak64/rss.dat" "$RSS_MARGIN" <<'EOF'
import sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) >= 2]
margin = float(sys.argv[2])
end = rows[-1][0]
first = [r for r in rows if r[0] <= 60]
last = [r for r in rows if r[0] >= end - 60]
for col, name in [(1, "broker")] + [(k + 2, f"worker {k}") for k in range(len(rows[0]) - 2)]:
    a = max(r[col] for r in first if len(r) > col)
    b = max(r[col] for r in last if len(r) > col)
    print(f"{name}: first minute max {a / 1024:.1f} MiB, last minute max {b / 1024:.1f} MiB: "
          f"{'flat' if b <= a * (1 + margin) else 'GROWS'} (margin {margin:.0%})")
EOF
fi
