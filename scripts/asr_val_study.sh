#!/usr/bin/env bash
# asr_val_study.sh: issue 11 — Eq. 3's size threshold, beta and fine-tuning length chosen on CamVid val; then seeds on test.
#
# Design. Every choice is made on camvid/val (101 frames) and test (233 frames) is read only at the
# end, with the choices fixed, so no test number steers a knob:
#   1. threshold: finetune-asr at x4, seed 1, --small in SMALLS (fraction of the WHOLE frame), beta at
#      finetune-asr's default, ASR_STEPS steps; eval on val -> threshold_val.csv; choice = the best
#      val tail-class mIoU (a tie goes to the larger mIoU, then to the first listed).
#   2. beta: the same at the chosen threshold for every value in BETAS (the default is added when
#      missing) -> beta_val.csv and a choice, by the same rule.
#   3. length: the chosen (small, beta) run continued to every length in LENGTHS (resume is exact, so
#      a copy of the checkpoint at each stop IS the run of that length) -> steps_val.csv (step 0 =
#      the starting SR model), steps_val.png; choice = the best val tail mIoU among LENGTHS.
#   4. seeds at x4: for every seed in SEEDS the four fine-tuned variants, with the same length,
#      schedule and frames: asr (Eq. 3: chosen small, beta), asrall (--mask all, the chosen beta:
#      only the mask differs), cloudseg (Eq. 2 at CLOUDSEG_BETA, by default finetune-asr's default:
#      the beta tuned on val is Eq. 3's weight on a cross-entropy, not Eq. 2's on a logit MSE), l1only
#      (--beta 0); eval on test per seed (bootstrap over frames) -> seedN/; summary -> seeds.md.
#   5. seeds at OTHER_SCALES (x2, x6, x8) for OTHER_SEEDS, with the choices made at x4 (not tuned
#      per scale) -> scales_seedN/ and a second part of seeds.md.
# All runs start from the committed base SR models (SR_DIR/sr_xS.h5). Seed 1's x4 asr run is the
# sweep's run of the chosen setting (same name, same state), not a second copy.
#
# Beta: finetune-asr's loss is alpha*L1 + beta*CE with alpha 0.95, beta 0.05 by default: that IS the
# paper's Eq. 3 weighting (§4: "we set alpha and beta to 0.95/0.05"), so BETAS is in the same units as
# --beta, a factor-2 grid around 0.05 (beta 1 would weigh the cross-entropy 20x the paper's).
#
# Resuming: rerun the same command. A training segment is skipped when its copy RUNS/NAME_atL.h5
# exists; an eval is skipped when its folder's command.txt is this very command and its table3.csv
# is newer than every checkpoint it reads; CSVs, choices and seeds.md are remade from the evals
# (cheap). Run names encode scale, small, beta and seed, not lr/batch/crop: change RUNS when you
# change ASR_LR, ASR_BATCH or ASR_CROP. Every training segment and eval appends its wall time to
# OUT/timings.csv (stage, seconds, parallel = PARALLEL, load1 = the load average when it started).
#
# Knobs (environment):
#   SMALLS="0.0025 0.005 0.01 0.02 0.04"  BETAS="0.025 0.05 0.1 0.2"  LENGTHS="50 100 200 400"
#   ASR_STEPS=200 (sweep length)  ASR_LR=5e-5  ASR_BATCH=2  ASR_CROP=240  (as scripts/repro.sh)
#   SCALE=4  SEEDS="1 2 3 4 5"  OTHER_SCALES="2 6 8"  OTHER_SEEDS="1 2 3"  CLOUDSEG_BETA=<default beta>
#   PARALLEL=2 (concurrent processes, each OMP_NUM_THREADS=1, as repro.sh's timings were taken)
#   VAL_FRAMES=0 TEST_FRAMES=0 (eval --frames; 0 = all)  VAL_BOOTSTRAP=1000 TEST_BOOTSTRAP=1000
#   STAGES="1 2 3 4 5" (a later stage reads the earlier stages' choices from their CSVs)
#   OUT=results/camvid/val_study  RUNS=runs/val_study  SR_DIR=results/camvid/checkpoints
#
# Expected cost on the 2-core development machine, PARALLEL=2 (the im2col engine of 2026-11-27, bench/RESULTS.md:
# a 200-step x4 run takes 190-290 s on one thread, x2 ~350 s, x6/x8 65-115 s; eval ~0.25 s per frame per
# SR model on one thread when the machine is quiet, up to ~0.7 s when it is shared as in results/camvid/):
#   1. 5 runs in 3 waves ~12 min + a val eval of 6 models ~3-7 min
#   2. 3 new runs (the default beta's is stage 1's) ~8 min + val eval ~3-6 min
#   3. 200 more steps of one run ~4 min + val eval of 5 models ~3-6 min
#   4. 19 runs (seed 1's asr is stage 3's) ~40 min at 200 steps, ~80 at 400; 5 test evals of 5 models
#      (233 frames) ~5-14 min each, 2 at a time: ~15-40 min
#   5. 36 runs ~55 min at 200 steps (x2 dominates), ~110 at 400; 3 test evals of 15 models ~20-45 min each
#   In all ~3-4 h if val chooses 200 steps, ~5-6 h if 400. OUT/timings.csv records what it took.
#
#   scripts/asr_val_study.sh                    # everything
#   STAGES="1 2 3" scripts/asr_val_study.sh     # the val choices only
#   ASR_STEPS=2 LENGTHS="1 2" SEEDS="1 2" OTHER_SEEDS=1 VAL_FRAMES=3 TEST_FRAMES=3 SMALLS="0.01 0.02" \
#     BETAS=0.05 OUT=/tmp/vs RUNS=/tmp/vsr scripts/asr_val_study.sh   # a smoke run (minutes)
# shellcheck disable=SC2086 # lists ($SMALLS, $SEEDS, ...) are split into their words on purpose
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${RUNE_SHARED:-../shared}
CAMVID=$SHARED/data/camvid
RUNE=${RUNE:-./rune}
TASK=${TASK:-weights/espnet_camvid.h5}
SR_DIR=${SR_DIR:-results/camvid/checkpoints}
SCALE=${SCALE:-4}
SMALLS=${SMALLS:-"0.0025 0.005 0.01 0.02 0.04"}
BETAS=${BETAS:-"0.025 0.05 0.1 0.2"}
ASR_STEPS=${ASR_STEPS:-200}
LENGTHS=${LENGTHS:-"50 100 200 400"}
ASR_LR=${ASR_LR:-5e-5}
ASR_BATCH=${ASR_BATCH:-2}
ASR_CROP=${ASR_CROP:-240}
SEEDS=${SEEDS:-"1 2 3 4 5"}
OTHER_SCALES=${OTHER_SCALES-"2 6 8"}
OTHER_SEEDS=${OTHER_SEEDS:-"1 2 3"}
PARALLEL=${PARALLEL:-2}
VAL_FRAMES=${VAL_FRAMES:-0}
TEST_FRAMES=${TEST_FRAMES:-0}
VAL_BOOTSTRAP=${VAL_BOOTSTRAP:-1000}
TEST_BOOTSTRAP=${TEST_BOOTSTRAP:-1000}
STAGES=${STAGES:-"1 2 3 4 5"}
OUT=${OUT:-results/camvid/val_study}
RUNS=${RUNS:-runs/val_study}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
TEST_DIFFS=asr-sr,asr-l1only,asr-cloudseg,asr-asrall,asrall-sr,cloudseg-sr,l1only-sr

[ -d "$CAMVID" ] || { echo "asr_val_study: $CAMVID not found (set RUNE_SHARED)" >&2; exit 1; }
[ -x "$RUNE" ] || make -j2
for s in $SCALE $OTHER_SCALES; do
  [ -f "$SR_DIR/sr_x$s.h5" ] || { echo "asr_val_study: no base SR model $SR_DIR/sr_x$s.h5" >&2; exit 1; }
done
# the binary's own default, so that "the default beta" cannot drift from what finetune-asr does
DEFAULT_BETA=$("$RUNE" finetune-asr --help | sed -n 's/^ *--beta B .*(default: \([^)]*\))$/\1/p')
[ -n "$DEFAULT_BETA" ] || { echo "asr_val_study: no default in 'finetune-asr --help' for --beta" >&2; exit 1; }
CLOUDSEG_BETA=${CLOUDSEG_BETA:-$DEFAULT_BETA}
[[ " $BETAS " == *" $DEFAULT_BETA "* ]] || BETAS="$DEFAULT_BETA $BETAS"
mkdir -p "$RUNS/logs" "$OUT"
timings=$OUT/timings.csv
[ -f "$timings" ] || echo "stage,seconds,parallel,load1" > "$timings"
FAILED=$RUNS/.failed
rm -f "$FAILED"
want() { [[ " $STAGES " == *" $1 "* ]]; }

# --- running things ----------------------------------------------------------------------------

stage() { # stage NAME LOG CMD...: runs CMD with its output in LOG; appends the wall time to the timings CSV
  local name=$1 log=$2; shift 2
  local t0 load
  t0=$(date +%s) load=$(cut -d' ' -f1 /proc/loadavg)
  echo "== $name"
  if ! "$@" >>"$log" 2>&1; then
    echo "asr_val_study: $name failed; the end of $log:" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  echo "$name,$(( $(date +%s) - t0 )),$PARALLEL,$load" >> "$timings"
}

# Background jobs, at most PARALLEL at once. `set -e` is off inside a command that is part of a
# || list, so each job runs in a subshell of its own with set -e, and its failure is noted in FAILED.
spawn() { # spawn CMD...
  while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
  { set +e; if ! ( set -e; "$@" ); then echo "$*" >> "$FAILED"; fi; } &
}
join() { # waits for every job; stops the script when one failed
  while [ -n "$(jobs -rp)" ]; do wait -n || true; done
  wait || true
  if [ -s "$FAILED" ]; then echo "asr_val_study: failed:" >&2; cat "$FAILED" >&2; exit 1; fi
}
# A script's background jobs ignore SIGINT, so an interrupt would leave its rune processes running:
# stop each job's process tree by pid.
tree() { local c; for c in $(pgrep -P "$1" 2>/dev/null); do tree "$c"; done; echo "$1"; }
stop_jobs() {
  local pids=() p
  for p in $(jobs -p); do mapfile -t -O "${#pids[@]}" pids < <(tree "$p"); done
  [ ${#pids[@]} = 0 ] || kill "${pids[@]}" 2>/dev/null || true
}
trap 'stop_jobs; exit 130' INT TERM

tok() { echo "$1" | tr '.-' 'pm'; } # 0.0025 -> 0p0025: a file- and method-name-safe number
asr_name() { echo "asr_x$1_sm$(tok "$2")_b$(tok "$3")_s$4"; } # asr_name SCALE SMALL BETA SEED
stops() { # stops TARGET: the LENGTHS and ASR_STEPS below TARGET, then TARGET, ascending
  { for L in $LENGTHS $ASR_STEPS; do [ "$L" -lt "$1" ] && echo "$L"; done; echo "$1"; } | sort -n -u
}
ckpt_step() { # the step a checkpoint was saved at (0 when absent)
  local s=""
  if [ -f "$1" ]; then s=$(h5dump -a /step "$1" 2>/dev/null | sed -n 's/.*(0): //p') || s=""; fi
  echo "${s:-0}" # no h5dump: 0, and the check that needs it is skipped
}

# segrun NAME SCALE SEED TARGET FLAGS...: trains RUNS/NAME.h5 from SR_DIR/sr_xSCALE.h5 to TARGET
# steps, stopping at every LENGTHS value below it, and keeps each stop as RUNS/NAME_atL.h5. The stops
# cost a process start (~2 s) and change nothing: resume is exact (same frames, order, state).
segrun() {
  local name=$1 s=$2 seed=$3 target=$4; shift 4
  local from=0 L at cur
  for L in $(stops "$target"); do
    at=$RUNS/${name}_at$L.h5
    if [ ! -f "$at" ]; then
      cur=$(ckpt_step "$RUNS/$name.h5")
      if [ "$cur" -gt "$L" ]; then
        echo "asr_val_study: $RUNS/$name.h5 is at step $cur, past $L, and has no copy at $L: remove $RUNS/$name.h5 to remake it" >&2
        return 1
      fi
      stage "train:$name:$from-$L" "$RUNS/logs/$name.log" env OMP_NUM_THREADS=1 "$RUNE" finetune-asr \
        --sr "$SR_DIR/sr_x$s.h5" --task "$TASK" --data "$CAMVID" --scale "$s" --steps "$L" --ckpt-every 50 \
        --batch "$ASR_BATCH" --crop "$ASR_CROP" --lr "$ASR_LR" --seed "$seed" --out "$RUNS/$name.h5" \
        --resume --quiet "$@"
      cp "$RUNS/$name.h5" "$at.tmp"
      mv "$at.tmp" "$at"
    fi
    from=$L
  done
}

# evaluate DIR SPLIT FRAMES BOOTSTRAP DIFFS SCALES ARGS...: `rune eval` into DIR (one thread), unless
# DIR holds this very eval made after every checkpoint it reads
evaluate() {
  local dir=$1 split=$2 frames=$3 boot=$4 diffs=$5 scales=$6; shift 6
  local cmd=("$RUNE" eval --task "$TASK" --data "$CAMVID" --split "$split" --scales "$scales" --frames "$frames"
             --bootstrap "$boot" --diffs "$diffs" --out "$dir" --quiet "$@")
  if fresh "$dir" "${cmd[*]}" "$@"; then echo "== eval:$dir: made before"; return 0; fi
  mkdir -p "$dir"
  rm -f "$dir/command.txt" "$dir/eval.log"
  stage "eval:${dir#"$OUT"/}" "$dir/eval.log" env OMP_NUM_THREADS=1 "${cmd[@]}"
  echo "${cmd[*]}" > "$dir/command.txt"
}
fresh() { # fresh DIR COMMAND ARGS...
  local dir=$1 made_by=$2 a; shift 2
  [ -f "$dir/table3.csv" ] && [ -f "$dir/command.txt" ] && [ "$(cat "$dir/command.txt")" = "$made_by" ] || return 1
  for a in "$@"; do
    case $a in *:*:*) [ "${a##*:}" -nt "$dir/table3.csv" ] && return 1;; esac
  done
  return 0
}

# --- reading evals ------------------------------------------------------------------------------

row() { # row DIR SCALE METHOD -> tail,miou
  awk -F, -v s="$2" -v m="$3" '$1 == s && $2 == m { print $3 "," $4 }' "$1/table3.csv"
}
ci() { # ci DIR SCALE A B METRIC -> lo,hi of the bootstrap interval (empty without a bootstrap)
  local r=""
  [ -f "$1/diffs.csv" ] && r=$(awk -F, -v s="$2" -v a="$3" -v b="$4" -v k="$5" \
    '$1 == s && $2 == a && $3 == b && $4 == k { print $6 "," $7 }' "$1/diffs.csv")
  echo "${r:-,}"
}
# val_csv DIR KEYNAME KEY:METHOD...: one row per key: its val tail mIoU and mIoU, and the differences
# to sr with their bootstrap intervals
val_csv() {
  local dir=$1 key=$2 km k m r sr; shift 2
  sr=$(row "$dir" "$SCALE" sr)
  echo "$key,val_tail_miou,val_miou,tail_minus_sr,tail_lo,tail_hi,miou_minus_sr,miou_lo,miou_hi"
  for km in "$@"; do
    k=${km%%:*} m=${km#*:}
    if [ "$m" = sr ]; then r=$sr; else r=$(row "$dir" "$SCALE" "$m"); fi
    [ -n "$r" ] || { echo "asr_val_study: $dir/table3.csv has no $m" >&2; return 1; }
    awk -F, -v r="$r" -v sr="$sr" -v k="$k" -v ct="$(ci "$dir" "$SCALE" "$m" sr tail_miou)" \
      -v cm="$(ci "$dir" "$SCALE" "$m" sr miou)" 'BEGIN { split(r, a, ","); split(sr, b, ",");
        printf "%s,%s,%s,%.4f,%s,%.4f,%s\n", k, a[1], a[2], a[1] - b[1], ct, a[2] - b[2], cm }'
  done
}
choose() { # choose CSV [SKIP]: the key of the best val tail mIoU; a tie -> the larger mIoU -> the first row
  tail -n +2 "$1" | grep -v "^${2:-__none__}," | sort -s -t, -k2,2gr -k3,3gr | head -n 1 | cut -d, -f1
}
need() { [ -f "$1" ] || { echo "asr_val_study: $1 missing: run stage $2 first (STAGES)" >&2; exit 1; }; }

SR_VAL=sr:$SCALE:$SR_DIR/sr_x$SCALE.h5
val_eval() { evaluate "$1" val "$VAL_FRAMES" "$VAL_BOOTSTRAP" "$2" "$SCALE" --no-figures --method "$SR_VAL" "${@:3}"; }

# val_sweep NAME KEY PREFIX SMALL BETA VALUES...: one x$SCALE seed-1 run of ASR_STEPS per value of KEY
# (small or beta; the other stays at SMALL / BETA given), all evaluated on val -> OUT/NAME.csv
val_sweep() {
  local name=$1 key=$2 prefix=$3 small=$4 beta=$5 v; shift 5
  local methods=() diffs=() keys=() runs=()
  for v in "$@"; do
    if [ "$key" = small ]; then runs+=("$(asr_name "$SCALE" "$v" "$beta" 1)|--small $v --beta $beta")
    else runs+=("$(asr_name "$SCALE" "$small" "$v" 1)|--small $small --beta $v"); fi
  done
  for v in "${runs[@]}"; do spawn segrun "${v%%|*}" "$SCALE" 1 "$ASR_STEPS" ${v#*|}; done
  join
  local i=0
  for v in "$@"; do
    methods+=(--method "$prefix$(tok "$v"):$SCALE:$RUNS/${runs[$i]%%|*}_at$ASR_STEPS.h5")
    diffs+=("$prefix$(tok "$v")-sr") keys+=("$v:$prefix$(tok "$v")")
    i=$((i + 1))
  done
  val_eval "$OUT/$name" "$(IFS=,; echo "${diffs[*]}")" "${methods[@]}"
  val_csv "$OUT/$name" "$key" "${keys[@]}" "sr:sr" > "$OUT/$name.csv"
}

# --- 1. threshold on val ------------------------------------------------------------------------

if want 1; then val_sweep threshold_val small sm "" "$DEFAULT_BETA" $SMALLS; fi
need "$OUT/threshold_val.csv" 1
SMALL=$(choose "$OUT/threshold_val.csv" sr)
echo "asr_val_study: threshold (val, beta $DEFAULT_BETA, $ASR_STEPS steps): --small $SMALL"
column -s, -t "$OUT/threshold_val.csv" 2>/dev/null || cat "$OUT/threshold_val.csv"

# --- 2. beta on val, at the chosen threshold ----------------------------------------------------

if want 2; then val_sweep beta_val beta b "$SMALL" "" $BETAS; fi
need "$OUT/beta_val.csv" 2
BETA=$(choose "$OUT/beta_val.csv" sr)
echo "asr_val_study: beta (val, --small $SMALL, $ASR_STEPS steps): --beta $BETA"
column -s, -t "$OUT/beta_val.csv" 2>/dev/null || cat "$OUT/beta_val.csv"

# --- 3. length on val: the chosen run continued, each stop evaluated -----------------------------

longest=$(stops "$ASR_STEPS" | tail -n 1)
for L in $LENGTHS; do [ "$L" -gt "$longest" ] && longest=$L; done
if want 3; then
  name=$(asr_name "$SCALE" "$SMALL" "$BETA" 1)
  spawn segrun "$name" "$SCALE" 1 "$longest" --small "$SMALL" --beta "$BETA"
  join
  methods=() diffs=() keys=("0:sr")
  for L in $(stops "$longest"); do
    methods+=(--method "st$L:$SCALE:$RUNS/${name}_at$L.h5") diffs+=("st$L-sr") keys+=("$L:st$L")
  done
  val_eval "$OUT/steps_val" "$(IFS=,; echo "${diffs[*]}")" "${methods[@]}"
  val_csv "$OUT/steps_val" steps "${keys[@]}" > "$OUT/steps_val.csv"
  if command -v gnuplot >/dev/null; then
    gnuplot <<GP
set terminal pngcairo size 800,480 noenhanced
set output '$OUT/steps_val.png'
set datafile separator ','
set title 'x$SCALE, --small $SMALL, --beta $BETA, seed 1: CamVid val (step 0 = the base SR model)'
set xlabel 'fine-tuning steps (batch $ASR_BATCH, lr $ASR_LR)'
set ylabel 'val tail-class mIoU (%)'
set y2label 'val mIoU (%)'
set ytics nomirror
set y2tics
set grid
set key bottom right
plot '$OUT/steps_val.csv' every ::1 using 1:2 with linespoints lw 2 pt 7 title 'tail-class mIoU', \
     '' every ::1 using 1:3 axes x1y2 with linespoints lw 2 pt 5 dt 2 title 'mIoU (right axis)'
GP
    echo "asr_val_study: wrote $OUT/steps_val.png"
  fi
fi
need "$OUT/steps_val.csv" 3
STEPS=$(choose "$OUT/steps_val.csv" 0)
[ "$(choose "$OUT/steps_val.csv")" != 0 ] ||
  echo "asr_val_study: note: on val the base SR model (step 0) beats every length of the chosen run"
echo "asr_val_study: length (val, --small $SMALL, --beta $BETA): $STEPS steps"
column -s, -t "$OUT/steps_val.csv" 2>/dev/null || cat "$OUT/steps_val.csv"
printf 'SMALL=%s\nBETA=%s\nSTEPS=%s\nCLOUDSEG_BETA=%s\n' "$SMALL" "$BETA" "$STEPS" "$CLOUDSEG_BETA" > "$OUT/choice.env"

# --- 4 and 5. seeds on test, with every choice fixed ----------------------------------------------

variants() { # variants SCALE SEED: the four fine-tunes, the slowest first (cloudseg, asrall, l1only, asr)
  local s=$1 seed=$2
  spawn segrun "cloudseg_x${s}_b$(tok "$CLOUDSEG_BETA")_s$seed" "$s" "$seed" "$STEPS" --loss cloudseg --beta "$CLOUDSEG_BETA"
  spawn segrun "asrall_x${s}_b$(tok "$BETA")_s$seed" "$s" "$seed" "$STEPS" --mask all --beta "$BETA"
  spawn segrun "l1only_x${s}_s$seed" "$s" "$seed" "$STEPS" --beta 0
  spawn segrun "$(asr_name "$s" "$SMALL" "$BETA" "$seed")" "$s" "$seed" "$STEPS" --small "$SMALL" --beta "$BETA"
}
methods_of() { # methods_of SCALE SEED: eval's --method arguments for sr and the four fine-tunes, one a line
  local s=$1 seed=$2
  printf -- '--method\n%s\n' "sr:$s:$SR_DIR/sr_x$s.h5" \
    "asr:$s:$RUNS/$(asr_name "$s" "$SMALL" "$BETA" "$seed")_at$STEPS.h5" \
    "asrall:$s:$RUNS/asrall_x${s}_b$(tok "$BETA")_s${seed}_at$STEPS.h5" \
    "cloudseg:$s:$RUNS/cloudseg_x${s}_b$(tok "$CLOUDSEG_BETA")_s${seed}_at$STEPS.h5" \
    "l1only:$s:$RUNS/l1only_x${s}_s${seed}_at$STEPS.h5"
}
csvlist() { local IFS=,; echo "$*"; } # csvlist 2 6 8 -> 2,6,8
test_eval() { evaluate "$1" test "$TEST_FRAMES" "$TEST_BOOTSTRAP" "$TEST_DIFFS" "$2" "${@:3}"; }

if want 4; then
  for seed in $SEEDS; do variants "$SCALE" "$seed"; done
  join
  for seed in $SEEDS; do
    mapfile -t m < <(methods_of "$SCALE" "$seed")
    spawn test_eval "$OUT/seed$seed" "$SCALE" "${m[@]}"
  done
  join
fi
if want 5 && [ -n "$OTHER_SCALES" ]; then
  for s in $(printf '%s\n' $OTHER_SCALES | sort -n); do # x2 first: the slowest runs
    for seed in $OTHER_SEEDS; do variants "$s" "$seed"; done
  done
  join
  for seed in $OTHER_SEEDS; do
    m=()
    for s in $OTHER_SCALES; do mapfile -t -O "${#m[@]}" m < <(methods_of "$s" "$seed"); done
    spawn test_eval "$OUT/scales_seed$seed" "$(csvlist $OTHER_SCALES)" "${m[@]}"
  done
  join
fi

# --- the summary over seeds ---------------------------------------------------------------------

x4dirs=() otherdirs=()
for seed in $SEEDS; do [ -f "$OUT/seed$seed/diffs.csv" ] && x4dirs+=("$OUT/seed$seed"); done
for seed in $OTHER_SEEDS; do [ -f "$OUT/scales_seed$seed/diffs.csv" ] && otherdirs+=("$OUT/scales_seed$seed"); done
if [ ${#x4dirs[@]} -gt 0 ] || [ ${#otherdirs[@]} -gt 0 ]; then
  {
    echo "# Seeds on CamVid test, with the choices made on val"
    echo
    echo "\`scripts/asr_val_study.sh\`; chosen on val (\`choice.env\`): --small $SMALL of the frame, --beta $BETA" \
      "(alpha: finetune-asr's default), $STEPS steps; CloudSeg (Eq. 2) at --beta $CLOUDSEG_BETA; every variant" \
      "fine-tuned from the base SR model with the same schedule (batch $ASR_BATCH of ${ASR_CROP}px crops, lr $ASR_LR)."
    echo "Frames: $([ "$TEST_FRAMES" = 0 ] && echo "all of camvid/test" || echo "the first $TEST_FRAMES of camvid/test");" \
      "bootstrap: $TEST_BOOTSTRAP replicates over frames, per seed."
    if [ ${#x4dirs[@]} -gt 0 ]; then
      echo; echo "## x$SCALE, ${#x4dirs[@]} seeds"; echo
      python3 scripts/seeds_table.py "${x4dirs[@]}"
    fi
    if [ ${#otherdirs[@]} -gt 0 ]; then
      echo; echo "## x$(csvlist $OTHER_SCALES | sed 's/,/, x/g'), ${#otherdirs[@]} seeds (choices from x$SCALE)"; echo
      python3 scripts/seeds_table.py "${otherdirs[@]}"
    fi
  } > "$OUT/seeds.md"
  echo "asr_val_study: wrote $OUT/seeds.md"
  cat "$OUT/seeds.md"
fi
# every run's loss log beside the results (the checkpoints stay in RUNS)
mkdir -p "$OUT/logs"
for f in "$RUNS"/*_loss.csv; do [ -f "$f" ] && cp "$f" "$OUT/logs/"; done
echo "asr_val_study: val choices in $OUT/{threshold,beta,steps}_val.csv and choice.env; test per seed in $OUT/seed*/; loss logs in $OUT/logs/, wall times in $timings"
