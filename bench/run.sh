#!/usr/bin/env bash
# agah's benchmark: `make bench` runs `bash bench/run.sh build`.
#   bash bench/run.sh [BUILD_DIR] [--smoke] [--keep] [--msgcost [--agahd PATH]]
# Builds the benchmark programs if needed, then runs bench/bench.py, which
# prints the table, writes bench/results.json (the keys of issue 6) and
# bench/results-details.json, and stops every process it started.
# With --smoke the results go to BUILD_DIR/bench-smoke.json instead.
# --smoke runs every step at small sizes in well under a minute.
# --msgcost also runs bench/msgcost.py afterwards: agahd's CPU per peer
# message type and per KiB received, with 20,000 and 100,000 records (about
# two minutes; --smoke makes it 2,000 records and a tenth of the messages).
# --agahd PATH measures that agahd binary instead (an older build speaking
# the same protocol) with this build's tools, and skips bench.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=build
args=()
msgcost=0
smoke=0
agahd=()
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) args+=("$1"); smoke=1 ;;
    --keep) args+=("$1") ;;
    --msgcost) msgcost=1 ;;
    --agahd) [ $# -ge 2 ] || { echo "bench: --agahd needs a path" >&2; exit 2; }
             agahd=(--agahd "$2"); shift ;;
    -*) echo "usage: bench/run.sh [BUILD_DIR] [--smoke] [--keep] [--msgcost [--agahd PATH]]" >&2
        exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "bench: no build in $build; run 'make build' first" >&2
  exit 2
fi
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" \
  --target agahd agah bench_verify bench_spawn bench_setup bench_check bench_recon bench_annot \
  tool_peerctl >/dev/null
if [ ${#agahd[@]} -eq 0 ]; then
  python3 "$here/bench.py" --build "$build" "${args[@]}"
fi
if [ "$msgcost" = 1 ]; then
  if [ "$smoke" = 1 ]; then
    python3 "$here/msgcost.py" --build "$build" "${agahd[@]}" --sizes 2000 --scale 0.1 \
      --out "$build/msgcost-smoke.json"
  else
    python3 "$here/msgcost.py" --build "$build" "${agahd[@]}" --out "$build/msgcost.json"
  fi
fi
