#!/usr/bin/env bash
# profile.sh: the wall time of a small `rune profile` sweep in one process and over mpirun ranks
# (bench/RESULTS.md, issue 16). Needs an MPI=1 build (make MPI=1 BUILD=build/mpi build/mpi/rune)
# and ../shared/data/camvid. Usage: bench/mpi/profile.sh [FRAMES] [NP...]
set -euo pipefail
cd "$(dirname "$0")/../.."
frames=${1:-8}; shift $(( $# > 0 ? 1 : 0 ))
nps=${*:-2}
R=build/mpi/rune S=${RUNE_SHARED:-../shared}
out=$(mktemp -d)
args="profile --data $S/data/camvid --split train --stride 3 --frames $frames --task weights/espnet_camvid.h5
      --sr x2=weights/carn_m.h5,x4=weights/carn_m.h5 --scales 2,4 --qualities 50,90 --hr-qualities 90 --no-figures --quiet"
export OMP_WAIT_POLICY=passive
root=$([ "$(id -u)" = 0 ] && echo --allow-run-as-root || true)
run() { # label, command...: total wall, then the sweep's own wall (profile.json timing) and work seconds
    local label=$1; shift
    local t0=$(date +%s.%N)
    "$@" -o "$out/p.json" > /dev/null
    local t1=$(date +%s.%N)
    python3 - "$label" "$t0" "$t1" "$out/p.json" <<'PY'
import json, sys
label, t0, t1, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
t = json.load(open(path))["timing"]["train"]
work = t["load_s"] + t["degrade_s"] + t["sr_s"] + t["task_s"] + t["ratio_s"]
print(f"{label:34s} total {t1 - t0:7.2f} s  sweep {t['wall_s']:7.2f} s  start-up {t1 - t0 - t['wall_s']:5.2f} s  "
      f"frame work (all ranks) {work:7.2f} s  frames {t['measured']}")
PY
}
run "1 process, 2 threads" env OMP_NUM_THREADS=2 $R $args
run "1 process, 1 thread" env OMP_NUM_THREADS=1 $R $args
for np in $nps; do
    run "mpirun -np $np, 1 thread per rank" mpirun -np "$np" $root --oversubscribe --bind-to none -x OMP_NUM_THREADS=1 \
        -x OMP_WAIT_POLICY $R $args
done
rm -rf "$out"
