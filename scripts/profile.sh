#!/usr/bin/env bash
# profile.sh: the CamVid tail-aware profile (rune profile) with the ASR models of results/camvid/ —
# every train frame x every configuration for the Pareto choices and the detectors, every val frame
# x every configuration for the detectors' check and the signal choice. Resumes an interrupted run
# (--resume: finished frames are kept, found by name, so a denser --stride continues a sparser one).
# The defaults are the full run (367 train + 101 val frames x 31 configurations; two to three hours
# of both cores on a 2-core machine without AVX-512, see results/profile/README.md for the timings):
#
#   scripts/profile.sh                                   # the full run into runs/profile/
#   STRIDE=4 scripts/profile.sh && STRIDE=2 scripts/profile.sh && scripts/profile.sh   # in passes
#   SIGNAL=auto scripts/profile.sh                       # the tail-frame signal chosen on val
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${RUNE_SHARED:-../shared}
CAMVID=$SHARED/data/camvid
CK=${CK:-results/camvid/checkpoints}
MODEL=${MODEL:-asrtuned}     # asrtuned: Eq. 3 with the val study's choices (asrtuned_xS_s1.h5); asr: part A's; sr: sr_xS.h5
SCALES=${SCALES:-2,4,6,8}
QUALITIES=${QUALITIES:-30,40,50,60,70,80,90}
HR_QUALITIES=${HR_QUALITIES:-50,70,90}
STRIDE=${STRIDE:-1}
FRAMES=${FRAMES:-0}
VAL_FRAMES=${VAL_FRAMES:-0}
SIGNAL=${SIGNAL:-ratio}      # the paper's small-region ratio; auto = the best on val
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
    --val-frames "$VAL_FRAMES" --signal "$SIGNAL" --resume -o "$OUT/profile.json" 2>&1 | tee "$OUT/profile.log"
