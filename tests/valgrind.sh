#!/usr/bin/env bash
# `make valgrind`: the unit tests, then the integration tests with every
# agahd and agah they start, under valgrind (memcheck): invalid reads and
# writes, uses of uninitialised values, bad frees, and definite or
# indirect leaks. Each process writes its own log; any non-empty log (-q
# prints errors only) fails the run and is shown. Not part of `make test`.
# usage: tests/valgrind.sh BUILD_DIR [INTEGRATION_TEST...]
#   The default set of integration tests is below; VALGRIND_TIME_SCALE
#   (default 8) multiplies the tests' waits and timeouts.
set -u
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:?usage: tests/valgrind.sh BUILD_DIR [TEST...]}" && pwd)
shift
# Left out: test_net_heal (hundreds of posts and a 300-post burst against
# kill -9, polled through the CLI: hours under valgrind), test_s6_wire
# (strace would trace valgrind, not agahd), and the fault and abuse tests
# (kill loops, floods of connections: they measure the daemon's limits,
# which valgrind's 20-50x slow-down distorts). Pass names to run others.
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(test_cli test_cli_community test_daemon test_net_spread
    test_net_hostile test_netns)
SUPP=$PWD/tests/valgrind.supp
LOGS=$BUILD/valgrind-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect"
VG="$VG --errors-for-leak-kinds=definite,indirect --track-origins=yes --num-callers=30"
VG="$VG --suppressions=$SUPP"

start=$SECONDS
failed=()
echo "valgrind: unit tests"
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if (cd "$BUILD/tests" && $VG --log-file="$LOGS/unit-$name.%p.log" "$t" >"$LOGS/unit-$name.out" 2>&1); then
        echo "ok    unit/$name"
    else
        rc=$?
        # 99: valgrind found something (its log says what); anything else:
        # the test itself failed under valgrind (e.g. a timing bound).
        echo "FAIL  unit/$name (exit $rc$([ $rc = 99 ] && echo ": valgrind errors" || echo ": a test assertion"); output in $LOGS/unit-$name.out)"
        failed+=("unit/$name")
    fi
done

echo "valgrind: integration tests: ${TESTS[*]}"
for name in "${TESTS[@]}"; do
    t=tests/integration/$name.sh
    [ -f "$t" ] || { echo "FAIL  $name: no $t"; failed+=("$name"); continue; }
    # Each process's log is named after the test and its pid.
    AGAH_WRAP="$VG --log-file=$LOGS/$name.%p.log" AGAH_TIME_SCALE=${VALGRIND_TIME_SCALE:-8} \
        AGAH_BUILD=$BUILD AGAH_SRC=$PWD timeout 3600 bash "$t" "$BUILD" >"$LOGS/$name.out" 2>&1
    rc=$?
    if [ $rc = 0 ] || [ $rc = 77 ]; then
        echo "ok    $name$([ $rc = 77 ] && echo " (skipped: $(grep -m1 SKIPPED "$LOGS/$name.out"))")"
    else
        echo "FAIL  $name (exit $rc; output in $LOGS/$name.out)"
        grep -E '^FAIL' -A2 "$LOGS/$name.out" | head -n 20
        failed+=("$name")
    fi
done

# Every process's report: -q leaves a log empty unless valgrind found something.
reports=0
for log in "$LOGS"/*.log; do
    [ -s "$log" ] || continue
    reports=$((reports + 1))
    echo "---- $(basename "$log")"
    cat "$log"
done
n_logs=$(find "$LOGS" -name '*.log' | wc -l)
echo "valgrind: $n_logs processes checked, $reports with errors or leaks, $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ] || [ $reports -gt 0 ]; then
    [ ${#failed[@]} -gt 0 ] && echo "valgrind: failed: ${failed[*]}"
    exit 1
fi
