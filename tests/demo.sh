#!/usr/bin/env bash
# `make demo`: a guided tour of agah with a throwaway three-node community on
# 127.0.0.1 (an organiser, a member, a relay) in a temporary directory. It
# prints every command before running it, and stops every daemon it started
# and removes the directory however it ends (Ctrl-C included).
#
# usage: bash tests/demo.sh BUILD_DIR

. "$(dirname "$0")/integration/lib.sh"
lib_init demo "${1:-build}"
cd "$ROOT" || exit 1
# The tour shows `agah` and `agahd` by name; they are the freshly built ones.
PATH=$AGAH_BUILD:$PATH

if [ -t 1 ] && [ -z "${NO_COLOR_DEMO:-}" ]; then
    B=$'\033[1m' D=$'\033[2m' G=$'\033[32m' R=$'\033[0m'
else
    B="" D="" G="" R=""
fi
STEP=0

say() { printf '%s\n' "$@"; }
step() {
    STEP=$((STEP + 1))
    printf '\n%s%d. %s%s\n' "$B" "$STEP" "$1" "$R"
    shift
    [ $# -gt 0 ] && printf '   %s\n' "$@"
    return 0
}
# show CMD...: prints the command as typed, runs it (time-bounded), and
# stops the tour if it fails.
# quote ARG: as a person would type it: bare when plain, else in quotes.
quote() {
    case $1 in
        *[!A-Za-z0-9_./:@+=-]* | "") case $1 in
                *[\"\$\`\\!]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
                *) printf '"%s"' "$1" ;;
            esac ;;
        *) printf '%s' "$1" ;;
    esac
}
show() {
    local a line=""
    for a in "$@"; do
        line="$line${line:+ }$(quote "$a")"
    done
    printf '%s$ %s%s\n' "$G" "$line" "$R"
    timeout 60 "$@" 2>&1 | sed 's/^/  /'
    local rc=${PIPESTATUS[0]}
    if [ "$rc" != 0 ]; then
        say "" "demo: \`$*\` failed (exit $rc); the daemons' logs are in $ROOT" >&2
        KEEP_ROOT=1
        exit 1
    fi
}
# run_daemon NAME PORT [PEER_PORT]: shows the agahd command line and starts
# it in the background through lib.sh (log in $ROOT/NAME.log).
run_daemon() {
    local cmd="agahd --data $1 --listen 127.0.0.1:$2"
    [ $# -gt 2 ] && cmd="$cmd --peer 127.0.0.1:$3"
    printf '%s$ %s &%s\n' "$G" "$cmd" "$R"
    if ! start_daemon "$@"; then
        say "demo: agahd $1 did not start; see $ROOT/$1.log" >&2
        KEEP_ROOT=1
        exit 1
    fi
    say "  ${D}(running as pid $(daemon_pid "$1"), logging to $1.log)${R}"
}
# wait_for SECONDS WHAT CMD...: waits quietly for CMD to succeed.
wait_for() {
    local secs=$1 what=$2
    shift 2
    printf '  %swaiting for %s...%s' "$D" "$what" "$R"
    if wait_until "$secs" "$@"; then
        printf ' %sdone%s\n' "$D" "$R"
    else
        printf '\n'
        say "demo: gave up waiting for $what after $secs s; logs are in $ROOT" >&2
        KEEP_ROOT=1
        exit 1
    fi
}
connected() { # NAME N
    local out
    out=$(agah --data "$1" --json status 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if json.loads(os.environ["OUT"])["peers"] >= int(sys.argv[1]) else 1)' "$2"
}

P_ORG=$(free_port)
P_MEM=$(free_port)
P_RELAY=$(free_port)

say "${B}agah: a tour${R}"
say "A throwaway community of three nodes on this machine, in $ROOT:"
say "an organiser, a member and a relay. Each node is one data directory and one"
say "agahd daemon; the agah command talks to its own daemon. Everything started"
say "here is stopped, and the directory removed, when the tour ends."

step "Each person makes an identity (a key pair)." \
     "Real organisers and members protect it with a passphrase (agah asks for one);" \
     "this throwaway demo says, with two flags, that it goes without. A relay needs none."
show agah --data organiser init --name Aynur --no-passphrase --unsafe-no-passphrase
show agah --data member init --name Mehmet --no-passphrase --unsafe-no-passphrase
show agah --data relay init --name home-relay --no-passphrase

step "The organiser founds the community (offline: nothing leaves the machine)."
show agah --data organiser community create "Demo diaspora community"

step "The organiser starts a daemon."
run_daemon organiser "$P_ORG"

step "Admission happens in person: the member shows their id, the organiser" \
     "turns it into a join code that only that identity can open."
show agah --data member id
MEM_ID=$(agah --data member id)
printf '%s$ agah --data organiser invite %s --name Mehmet%s\n' "$G" "$MEM_ID" "$R"
CODE=$(agah --data organiser invite "$MEM_ID" --name Mehmet 2>/dev/null) || { say "demo: invite failed" >&2; exit 1; }
say "  ${CODE:0:60}...  ${D}(${#CODE} characters, one line)${R}"
printf '%s$ agah --data member join %s...%s\n' "$G" "${CODE:0:24}" "$R"
agah --data member join "$CODE" 2>&1 | sed 's/^/  /'

step "A relay is admitted the same way, with --role relay: it will store and" \
     "forward the community's encrypted records without being able to read them."
RELAY_ID=$(agah --data relay id)
printf '%s$ agah --data organiser invite %s --role relay%s\n' "$G" "$RELAY_ID" "$R"
RCODE=$(agah --data organiser invite "$RELAY_ID" --role relay --name home-relay 2>/dev/null) || { say "demo: invite failed" >&2; exit 1; }
printf '%s$ agah --data relay join %s...%s\n' "$G" "${RCODE:0:24}" "$R"
agah --data relay join "$RCODE" 2>&1 | sed 's/^/  /'

step "The member and the relay start their daemons and dial the organiser." \
     "Links are mutually authenticated and encrypted before any data moves."
run_daemon member "$P_MEM" "$P_ORG"
run_daemon relay "$P_RELAY" "$P_ORG"
wait_for 20 "the three nodes to connect" connected organiser 2
show agah --data organiser peers
show agah --data organiser members

step "A number harasses the member. They flag it, with a note in Uyghur." \
     "The alert is signed, encrypted under the community's key, stored durably" \
     "before agah answers, and gossiped to the others."
show agah --data member post number "+852 5123 4567" --category harassment \
     --note "ئانامغا تەھدىت سالدى (threatened my mother)"

step "The organiser's node receives it. The same number written another way" \
     "finds the same alert; the lookup never leaves the organiser's machine."
wait_for 20 "the alert to reach the organiser" agah --data organiser check "+85251234567"
show agah --data organiser check "00852-5123-4567"
printf '%s$ agah --data organiser check "+1 202 555 0143"%s\n' "$G" "$R"
agah --data organiser check "+1 202 555 0143" | sed 's/^/  /'
say "  ${D}(exit status 1: not flagged; check follows grep: 0 yes, 1 no, 2+ error)${R}"
show agah --data organiser list

step "The relay holds the encrypted alert but cannot read it."
show agah --data relay status
show agah --data relay list

step "Scripts get JSON."
show agah --data organiser --json check "+852 5123 4567"

say ""
say "${B}That is the tour.${R} Stopping the three daemons and removing $ROOT."
say "Next: README.md (a community's life: found, invite, join, post, check,"
say "retract, revoke) and \`agah --help\`."
stop_all
exit 0
