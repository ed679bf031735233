#!/usr/bin/env bash
# serve_bench.sh: the online loop's speed on this machine (bench/RESULTS.md, "The online loop").
#   scripts/serve_bench.sh [OUT]   (default bench/serve)
# (a) latency: one edge at 1 fps (the cloud idle between frames), 480x360 frames at x4 through ASR x4
#     + ESPNet: each stage's mean and share of the end-to-end time;
# (b) throughput: 1, 2 and 4 edges, each at 4 fps with no bandwidth limit, for 30 s: the frames one
#     cloud processes per second (the rest are "stale": replaced by a newer frame of the same edge);
# (c) memory: 4 edges at 4 fps for MEM_S (150) seconds, the cloud's VmRSS every 5 s.
# The fixed controller at x4 q70 keeps every frame the same work.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench/serve}
R=${RUNE:-./rune}
SR=${SR:-results/camvid/checkpoints/asr_x4_s1.h5}
MEM_S=${MEM_S:-150}
PORT=${PORT:-$((24000 + $$ % 1000))}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=passive
mkdir -p "$OUT"

run() { # name edges fps seconds
    local name=$1 n=$2 fps=$3 secs=$4 d=$OUT/$1
    PORT=$((PORT + 1)); local ep=tcp://127.0.0.1:$PORT
    mkdir -p "$d"
    "$R" serve-cloud --listen "$ep" --profile data/samples/serve_profile.json --controller fixed --fixed 4:70 \
        --sr "x4=$SR" --csv "$d/cloud.csv" --summary "$d/summary.md" --edges "$n" --duration $((secs + 120)) \
        > "$d/cloud.log" 2>&1 & local cpid=$!
    echo "serve-cloud --listen $ep --profile data/samples/serve_profile.json --controller fixed --fixed 4:70 --sr x4=$SR --edges $n" > "$d/commands.txt"
    : > "$d/rss.dat"
    ( t0=$(date +%s); while kill -0 $cpid 2>/dev/null; do
        echo "$(( $(date +%s) - t0 )) $(awk '/VmRSS/{print $2}' /proc/$cpid/status 2>/dev/null)" >> "$d/rss.dat"; sleep 5; done ) &
    local mon=$! pids=()
    for i in $(seq 1 "$n"); do
        "$R" serve-edge --connect "$ep" --id "edge$i" --frames data/samples/camvid --dataset frames --fps "$fps" --loop \
            --duration "$secs" --csv "$d/edge$i.csv" --wait-cloud 60 --linger 10 --deadline-ms 5000 --quiet \
            > "$d/edge$i.log" 2>&1 & pids+=($!)
    done
    echo "serve-edge --connect $ep --id edgeI --frames data/samples/camvid --dataset frames --fps $fps --loop --duration $secs (x$n)" >> "$d/commands.txt"
    for p in "${pids[@]}"; do wait "$p" || true; done
    wait $cpid || true; kill $mon 2>/dev/null || true
    echo "== $name"; grep -E "frames processed|^\| edge" -A0 "$d/summary.md" | head -3
}

run latency 1 1 20
run edges1 1 4 30
run edges2 2 4 30
run edges4 4 4 "$MEM_S"
python3 - "$OUT" <<'EOF'
import csv, statistics, sys
out = sys.argv[1]
def rows(p): return [r for r in csv.DictReader(open(p)) if r["status"] == "processed"]
lat = rows(f"{out}/latency/cloud.csv")
keys = ["encode_ms", "queue_ms", "transmit_ms", "network_ms", "wait_ms", "decode_ms", "sr_ms", "infer_ms", "ratio_ms"]
e2e = statistics.mean(float(r["e2e_ms"]) for r in lat)
print(f"latency ({len(lat)} frames, x4 q70): e2e {e2e:.1f} ms")
for k in keys:
    m = statistics.mean(float(r[k]) for r in lat)
    print(f"  {k:12s} {m:8.1f} ms  {100 * m / e2e:5.1f} %")
for n in (1, 2, 4):
    r = list(csv.DictReader(open(f"{out}/edges{n}/cloud.csv")))
    p = [x for x in r if x["status"] == "processed"]
    t = (max(int(x["done_us"]) for x in p) - min(int(x["recv_us"]) for x in p)) / 1e6
    per = {}
    for x in p: per[x["edge"]] = per.get(x["edge"], 0) + 1
    print(f"edges {n}: {len(p)} processed, {sum(x['status'] == 'stale' for x in r)} stale in {t:.1f} s = {len(p) / t:.2f} frames/s "
          f"(per edge {sorted(per.values())}); mean e2e {statistics.mean(float(x['e2e_ms']) for x in p):.0f} ms")
rss = [l.split() for l in open(f"{out}/edges4/rss.dat") if len(l.split()) == 2]
print("rss kB over time (edges4):", " ".join(f"{a}s:{b}" for a, b in rss))
EOF
