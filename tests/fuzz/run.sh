#!/usr/bin/env bash
# Runs every built libFuzzer target for SECONDS each, seeded from
# tests/fuzz/corpus/NAME, after replaying the crash inputs kept in
# tests/fuzz/regress/NAME. JOBS targets run at once (default: the number of
# cores). Usage: run.sh DIR SECONDS [JOBS]
set -euo pipefail
dir=$1; secs=$2; jobs=${3:-$(nproc 2>/dev/null || echo 2)}
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
targets=("$dir"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz: no targets built in $dir"; exit 1; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# one TARGET: fuzz it; leaves OUT/NAME.ok or OUT/NAME.fail plus its log.
one() {
  local t=$1 name work seeds=()
  name=$(basename "$t")
  work="$out/$name"; mkdir -p "$work/corpus"
  [ -d "$here/corpus/$name" ] && seeds+=("$here/corpus/$name")
  if [ -d "$here/regress/$name" ] && ! "$t" "$here/regress/$name"/* >"$work/log" 2>&1; then
    echo "fuzz: $name: a kept regression input fails:"; tail -40 "$work/log"
    touch "$out/$name.fail"; return
  fi
  if "$t" -max_total_time="$secs" -max_len=70000 -rss_limit_mb=1024 \
       -artifact_prefix="$work/" "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1; then
    echo "fuzz: $name: $(grep -Eo 'Done [0-9]+ runs' "$work/log" | tail -1) in ${secs}s, clean"
    touch "$out/$name.ok"
  else
    echo "fuzz: $name FAILED:"; tail -40 "$work/log"; ls "$work"
    touch "$out/$name.fail"
  fi
}

echo "fuzz: ${#targets[@]} targets, ${secs}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  one "$t" &
  running=$((running+1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running-1)); fi
done
wait
pass=$(find "$out" -maxdepth 1 -name '*.ok' | wc -l)
fail=$(find "$out" -maxdepth 1 -name '*.fail' | wc -l)
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -eq ${#targets[@]} ]
