#!/usr/bin/env bash
# run-tests.sh: runs the float32 unit tests and the float64 gradient checks, then prints one
# closing line "N passed, N failed" over both; exits non-zero on any failure.
set -u
build=${1:-build}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# two tests at a time: the online-loop tests mostly wait on processes and sockets (tests/main.c)
export RUNE_TEST_JOBS=${RUNE_TEST_JOBS:-2}
total_p=0; total_f=0; total_s=0; rc=0
for bin in "$build/test_unit" "$build/test_grad"; do
  echo "== $bin"
  out=$("$bin" 2>&1); code=$?
  printf '%s\n' "$out"
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n1)
  if [ -z "$line" ]; then echo "$bin: no summary line (crashed?)"; total_f=$((total_f+1)); rc=1; continue; fi
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p'); s=${s:-0}
  total_p=$((total_p+p)); total_f=$((total_f+f)); total_s=$((total_s+s))
  [ "$code" -ne 0 ] && rc=1
done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ] && [ "$rc" -eq 0 ]
