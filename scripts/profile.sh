#!/usr/bin/env bash
# profile.sh: the CamVid tail-aware profile (rune profile) with the ASR models of results/camvid/ —
# every train frame x every configuration for the Pareto choices and the threshold fit, every val
# frame for the threshold check. Resumes an interrupted run (--resume: finished frames are kept).
# The defaults are the full run (367 train frames x 31 configurations; about an hour and a half
# of both cores on the 2-core machine, see bench/RESULTS.md); the committed results/profile/ was
# made with a subset, written down in results/profile/README.md:
#
#   scripts/profile.sh                                   # the full run into runs/profile/
#   STRIDE=8 OUT=results/profile scripts/profile.sh      # every 8th train frame
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${RUNE_SHARED:-../shared}
CAMVID=$SHARED/data/camvid
CK=${CK:-results/camvid/checkpoints}
MODEL=${MODEL:-asr}          # asr: asr_xS_s1.h5; sr: the standard SR models sr_xS.h5
SCALES=${SCALES:-2,4,6,8}
QUALITIES=${QUALITIES:-30,40,50,60,70,80,90}
HR_QUALITIES=${HR_QUALITIES:-50,70,90}
STRIDE=${STRIDE:-1}
FRAMES=${FRAMES:-0}
VAL_FRAMES=${VAL_FRAMES:-0}
OUT=${OUT:-runs/profile}
RUNE=${RUNE:-./rune}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

[ -d "$CAMVID" ] || { echo "profile.sh: $CAMVID not found (set RUNE_SHARED)"; exit 1; }
[ -x "$RUNE" ] || make -j2
sr=""
for s in ${SCALES//,/ }; do
    f=$CK/${MODEL}_x${s}_s1.h5
    [ "$MODEL" = sr ] && f=$CK/sr_x${s}.h5
    sr="${sr:+$sr,}x$s=$f"
done
mkdir -p "$OUT"
set -x
"$RUNE" profile --data "$CAMVID" --split train --val-split val --task weights/espnet_camvid.h5 --sr "$sr" \
    --scales "$SCALES" --qualities "$QUALITIES" --hr-qualities "$HR_QUALITIES" --stride "$STRIDE" --frames "$FRAMES" \
    --val-frames "$VAL_FRAMES" --resume -o "$OUT/profile.json" 2>&1 | tee "$OUT/profile.log"
