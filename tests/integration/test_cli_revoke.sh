#!/usr/bin/env bash
# `agah revoke` as an organiser uses it, on real agahd processes on
# 127.0.0.1: the founder, an organiser who turns informant and the member it
# admitted, and a loyal member.
# - an informant's alerts stay, marked, unless --retract-alerts;
# - --also-admitted lists the members only it admitted and asks for "yes"
#   (refused: nothing revoked), then revokes them too;
# - one organiser's revocation of the founder is "pending" and changes
#   nothing; a second organiser's makes the quorum (two of three).
#
# usage: bash tests/integration/test_cli_revoke.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_cli_revoke "${1:-}"

for n in f inf sub loyal o2; do node_init "$n" || { fail "identity $n"; finish; }; done
community_found f "Revoke test"
F_ID=$(node_id f)
INF_ID=$(node_id inf)
SUB_ID=$(node_id sub)
P_F=$(free_port)
P_INF=$(free_port)
start_daemon f "$P_F" || { fail "founder's agahd starts"; finish; }
invite_join f inf organiser || { fail "informant joins"; finish; }
invite_join f loyal member || { fail "loyal member joins"; finish; }
invite_join f o2 organiser || { fail "second organiser joins"; finish; }
start_daemon inf "$P_INF" "$P_F" || { fail "informant's agahd starts"; finish; }
start_daemon loyal "$(free_port)" "$P_F" || { fail "loyal member's agahd starts"; finish; }
start_daemon o2 "$(free_port)" "$P_F" || { fail "second organiser's agahd starts"; finish; }
invite_join inf sub member || { fail "the informant admits a member"; finish; }
start_daemon sub "$(free_port)" "$P_INF" || { fail "its member's agahd starts"; finish; }

# The informant posts two numbers; the founder must hold them before revoking.
run inf --json post number "+852 5999 0301" --note "planted"
expect "the informant posts" 0 "'id' in j"
A1=$(json_field id)
f_has() { agah_on f --json show "$1" >/dev/null 2>&1; }
f_knows_sub() {
    agah_on f --json members 2>/dev/null |
        python3 -c 'import json,sys; sys.exit(0 if any(m["member_id"] == sys.argv[1] for m in json.load(sys.stdin)) else 1)' "$SUB_ID"
}
wait_until 15 f_has "$A1" && wait_until 15 f_knows_sub ||
    fail "the founder's node receives the informant's alert and admission"

# --also-admitted asks first; anything but "yes" revokes nothing.
run_in f "no" revoke "$INF_ID" --also-admitted
expect_rc "--also-admitted, answered no: exit 2" 2
expect "... it listed the member the informant admitted, and asked" 2 \
  "'$SUB_ID' in err and 'type yes' in err and 'nothing revoked' in err"
run f --json members
expect "... and nothing was revoked" 0 \
  "all(m['status'] == 'active' for m in j if m['member_id'] in ('$INF_ID', '$SUB_ID'))"

# Revoked without --retract-alerts: its alert stays, marked.
run_in f "yes" --json revoke "$INF_ID" --also-admitted
expect "revoke --also-admitted, answered yes" 0 "j == {'member_id': '$INF_ID', 'status': 'revoked'}"
run f --json members
expect "the informant and the member only it admitted are revoked" 0 \
  "sorted(m['status'] for m in j if m['member_id'] in ('$INF_ID', '$SUB_ID')) == ['revoked', 'revoked']"
run f --json show "$A1"
expect "the informant's alert stays, marked as by a revoked author" 0 \
  "j['author_revoked'] is True and j['status'] == 'active'"

# One organiser against the founder: pending, no effect.
run o2 --json revoke "$F_ID"
expect "one organiser's revocation of the founder is pending" 0 \
  "j == {'member_id': '$F_ID', 'status': 'pending'}"
run o2 revoke "$F_ID"
expect "... and says so (human)" 0 "'already' in out"
run f --json post number "+852 5999 0302"
expect "the founder still posts" 0 "'id' in j"
run f --json members
expect "the founder is active" 0 "[m['status'] for m in j if m['member_id'] == '$F_ID'] == ['active']"

# --retract-alerts: the loyal member turns too; its alert disappears.
run loyal --json post number "+852 5999 0303"
expect "the second suspect posts" 0 "'id' in j"
A3=$(json_field id)
wait_until 15 f_has "$A3" || fail "the founder's node receives it"
LOYAL_ID=$(node_id loyal)
run f revoke "$LOYAL_ID" --retract-alerts
expect "revoke --retract-alerts" 0 "'alerts retracted' in out"
run f --json show "$A3"
expect_rc "... its alert is gone from the founder's node" 2

stop_all_ok
finish
