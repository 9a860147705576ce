#!/usr/bin/env bash
# agah's benchmark: `make bench` runs `bash bench/run.sh build`.
#   bash bench/run.sh [BUILD_DIR] [--smoke] [--keep]
# Builds the benchmark programs if needed, then runs bench/bench.py, which
# prints the table, writes bench/results.json (the keys of issue 6) and
# bench/results-details.json, and stops every process it started.
# With --smoke the results go to BUILD_DIR/bench-smoke.json instead.
# --smoke runs every step at small sizes in well under a minute.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=build
args=()
for a in "$@"; do
  case $a in
    --smoke|--keep) args+=("$a") ;;
    -*) echo "usage: bench/run.sh [BUILD_DIR] [--smoke] [--keep]" >&2; exit 2 ;;
    *) build=$a ;;
  esac
done
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "bench: no build in $build; run 'make build' first" >&2
  exit 2
fi
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" \
  --target agahd agah bench_verify bench_spawn bench_setup bench_check bench_recon bench_annot >/dev/null
exec python3 "$here/bench.py" --build "$build" "${args[@]}"
