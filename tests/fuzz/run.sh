#!/usr/bin/env bash
# Runs every built libFuzzer target for a short while, seeded from
# tests/fuzz/corpus/NAME (and the protocol vectors). Usage: run.sh DIR SECONDS
set -euo pipefail
dir=$1; secs=$2
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
targets=("$dir"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz: no targets built in $dir"; exit 1; fi
pass=0; fail=0
for t in "${targets[@]}"; do
  name=$(basename "$t")
  work=$(mktemp -d)
  seeds=()
  [ -d "$here/corpus/$name" ] && seeds+=("$here/corpus/$name")
  # Regression inputs (crashes found earlier) must run clean first.
  if [ -d "$here/regress/$name" ] && ! "$t" "$here/regress/$name"/* >/dev/null 2>&1; then
    echo "fuzz: $name: a regression input fails"; fail=$((fail+1)); rm -rf "$work"; continue
  fi
  if "$t" -max_total_time="$secs" -max_len=70000 -rss_limit_mb=1024 -artifact_prefix="$work/" "$work" "${seeds[@]}" >"$work/log" 2>&1; then
    echo "fuzz: $name: $(grep -Eo 'Done [0-9]+ runs' "$work/log" | tail -1) in ${secs}s, clean"
    pass=$((pass+1))
  else
    echo "fuzz: $name FAILED:"; tail -40 "$work/log"; ls "$work"
    fail=$((fail+1))
  fi
  rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
