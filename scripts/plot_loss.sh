#!/usr/bin/env bash
# plot_loss.sh: loss curves of training runs (their *_loss.csv logs) as one PNG, smoothed with a
# running mean over W steps. Usage: scripts/plot_loss.sh OUT.png COLUMN W RUN_loss.csv...
#   scripts/plot_loss.sh results/camvid/loss_la.png la 20 runs/asr_x4_s1_loss.csv runs/asrall_x4_s1_loss.csv
set -euo pipefail
out=$1 col=$2 w=$3; shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plots=()
for f in "$@"; do
  name=$(basename "$f" _loss.csv)
  # running mean of column `col` (found by header name) over the last w rows
  awk -F, -v col="$col" -v w="$w" 'NR==1{for(i=1;i<=NF;i++) if($i==col) c=i; next}
       {v[NR%w]=$c; n++; s=0; m=(n<w?n:w); for(k in v) s+=v[k]; print $1, s/m}' "$f" > "$tmp/$name.dat"
  plots+=("'$tmp/$name.dat' using 1:2 with lines lw 2 title '$name'")
done
gnuplot <<GP
set terminal pngcairo size 900,500 noenhanced
set output '$out'
set xlabel 'step'
set ylabel '$col (running mean over $w steps)'
set grid
set key outside right
plot $(IFS=,; echo "${plots[*]}")
GP
echo "wrote $out"
