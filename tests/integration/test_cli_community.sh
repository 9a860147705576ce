#!/usr/bin/env bash
# A community of three real agahd on 127.0.0.1 (organiser, member, relay),
# driven through `agah`: alerts posted on one node arrive and are flagged on
# another, confirmations and retractions travel, the relay stores without
# reading, roles are enforced with exit 4, and a revoked member sees nothing
# new and can post nothing that others accept.
#
# usage: bash tests/integration/test_cli_community.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_cli_community "${1:-}"

# How long gossip may take on loopback before we call it lost.
SPREAD=15

node_init org
node_init mem
node_init relay
community_found org "Three node test"
ORG_ID=$(node_id org)
MEM_ID=$(node_id mem)
RELAY_ID=$(node_id relay)
P_ORG=$(free_port)
P_MEM=$(free_port)
P_RELAY=$(free_port)

start_daemon org "$P_ORG" || { fail "organiser's agahd starts"; finish; }
if invite_join org mem member && invite_join org relay relay; then
    pass "organiser invites a member and a relay; both join"
else
    fail "organiser invites a member and a relay; both join"
    finish
fi
start_daemon mem "$P_MEM" "$P_ORG" || { fail "member's agahd starts"; finish; }
start_daemon relay "$P_RELAY" "$P_ORG" || { fail "relay's agahd starts"; finish; }
pass "three daemons running"

peers_connected() { # NAME N: at least N connected peers
    local out
    out=$(agah_on "$1" --json status 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if json.loads(os.environ["OUT"])["peers"] >= int(sys.argv[1]) else 1)' "$2"
}
if wait_until $SPREAD peers_connected org 2; then
    pass "the organiser is connected to both"
else
    fail "the organiser is connected to both" "$(agah_on org --json status 2>&1)"
fi

run mem --json status
expect "member's status" 0 "j['role'] == 'member' and j['member_id'] == '$MEM_ID' and j['peers'] >= 1"
run relay --json status
expect "relay's status" 0 "j['role'] == 'relay' and j['member_id'] == '$RELAY_ID'"
run mem --json peers
expect "member's peers: the organiser, connected, with its member id" 0 \
  "any(p['address'] == '127.0.0.1:$P_ORG' and p['connected'] is True and p['member_id'] == '$ORG_ID' for p in j)"

# A watcher on the member sees what arrives from the network.
"$AGAH" --data "$ROOT/mem" --json watch >"$ROOT/watch.json" 2>"$ROOT/watch.err" &
WPID=$!
sleep 0.5

# --------------------------------------------------------- an alert spreads
run org --json post number "+852 5123 4567" --note "ئانامغا تەھدىت سالدى / 威胁我的家人"
expect "organiser posts a number" 0 "len(j['id']) == 64"
A1=$(json_field id)
if wait_until $SPREAD agah_on mem check "+85251234567"; then
    pass "the alert arrives at the member and is flagged there"
else
    fail "the alert arrives at the member and is flagged there"
fi
run mem --json check "00852 5123 4567"
expect "member's check: author, name and note intact" 0 \
  "j['flagged'] is True and j['alerts'][0]['id'] == '$A1' and j['alerts'][0]['author'] == '$ORG_ID' and j['alerts'][0]['author_name'] == 'org' and j['alerts'][0]['note'] == 'ئانامغا تەھدىت سالدى / 威胁我的家人'"
run mem check "+852 5123 4567"
expect "member's check (human)" 0 "out.startswith('FLAGGED: harassment, reported by 1 member')"
if wait_until $SPREAD grep -q "$A1" "$ROOT/watch.json"; then
    pass "the member's watch shows the arriving alert"
else
    fail "the member's watch shows the arriving alert" "$(cat "$ROOT/watch.err")"
fi
kill -INT $WPID
wait $WPID; RC=$?
OUT=$(cat "$ROOT/watch.json"); ERR=$(cat "$ROOT/watch.err")
expect "watch --json lines are ALERTs; SIGINT exits 0" 0 "all(is_alert(l) for l in lines) and any(l['id'] == '$A1' for l in lines)"

# The relay stores and forwards but cannot read.
run relay --json list
expect "the relay lists nothing it cannot read" 0 "j == []"
run relay --json check "+85251234567"
expect "the relay gives no answer rather than a wrong one: exit 4, nothing on stdout" 4 \
  "out == '' and 'relay' in err"

# ------------------------------------------------- confirm travels back
run mem --json confirm "${A1:0:12}" --note "called me too"
expect "the member confirms" 0 "j == {'id': '$A1', 'confirmations': 1}"
confirmed_at_org() {
    local out
    out=$(agah_on org --json show "$A1" 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if json.loads(os.environ["OUT"])["confirmations"] == 1 else 1)'
}
if wait_until $SPREAD confirmed_at_org; then
    pass "the confirmation reaches the organiser"
else
    fail "the confirmation reaches the organiser"
fi
run org check "+85251234567"
expect "reported by 2 members once confirmed" 0 "out.startswith('FLAGGED: harassment, reported by 2 members')"

# ----------------------------------------------------------- permissions
run mem retract "$A1"
expect "a member may not retract someone else's alert: exit 4" 4 "len(err) > 0"
run mem invite "$RELAY_ID"
expect "a member may not invite: exit 4" 4 "len(err) > 0"
run mem revoke "$RELAY_ID"
expect "a member may not revoke: exit 4" 4 "len(err) > 0"
run relay post number "+852 5123 0000"
expect "a relay may not post: exit 4" 4 "len(err) > 0"

# A member's alert, retracted by an organiser, shows as retracted everywhere.
run mem --json post account "wechat:wxid_fake123" --category scam
expect "the member posts an account" 0 "len(j['id']) == 64"
A2=$(json_field id)
if wait_until $SPREAD agah_on org check "wechat:wxid_fake123"; then
    pass "the member's alert reaches the organiser"
else
    fail "the member's alert reaches the organiser"
fi
run org --json retract "$A2" --reason "a misunderstanding"
expect "an organiser may retract a member's alert" 0 "j == {'id': '$A2', 'status': 'retracted'}"
retracted_at_mem() {
    local out
    out=$(agah_on mem --json show "$A2" 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if json.loads(os.environ["OUT"])["status"] == "retracted" else 1)'
}
if wait_until $SPREAD retracted_at_mem; then
    pass "the retraction reaches the member"
else
    fail "the retraction reaches the member"
fi
run mem check "wechat:wxid_fake123"
expect "a retracted alert no longer flags" 1 "out == 'not flagged'"
run org confirm "$A2"
expect "a retracted alert cannot be confirmed: exit 2" 2 "'retracted' in err"
run relay confirm "${A1:0:12}"
expect "a relay cannot confirm, and says it is a relay: exit 4" 4 "'relay' in err"
run relay show "$A1"
expect "a relay cannot show an alert, and says why: exit 4" 4 "'relay' in err"

# ------------------------------------------------- a member joins later
# Started with no --peer at all: its agahd dials the addresses in the code
# (the organiser's --listen address, the --peer given to invite) and
# catches up on what was posted before it joined.
node_init late
LATE_ID=$(node_id late)
run org invite "$LATE_ID" --name late --peer "127.0.0.1:$P_RELAY"
expect "invite of a late member: the code, no warning" 0 \
  "out.startswith('agah1-') and 'names no address' not in err"
LATE_CODE=$OUT
run late --json join "$LATE_CODE"
expect "the late member joins" 0 "j['role'] == 'member'"
P_LATE=$(free_port)
if start_daemon late "$P_LATE"; then
    if wait_until $SPREAD agah_on late check "+85251234567"; then
        pass "a member started with no --peer finds the community through its code and catches up"
    else
        fail "a member started with no --peer finds the community through its code and catches up" \
          "$(agah_on late --json peers 2>&1)"
    fi
    run late --json peers
    expect "the code named the organiser's listen address and invite's --peer" 0 \
      "{'127.0.0.1:$P_ORG', '127.0.0.1:$P_RELAY'} <= {p['address'] for p in j}"
else
    fail "the late member's agahd starts"
fi

# A second address for a peer already linked makes a duplicate link, which
# is closed; the count of connected peers stays true (it once went below
# zero, a huge number, when the new link lost).
run mem --json peer add "localhost:$P_ORG"
expect "peer add of a second address for the organiser" 0 "j == {'address': 'localhost:$P_ORG'}"
# The second link comes up and one of the two is closed as a duplicate.
if ! wait_until $SPREAD grep -q "duplicate link" "$ROOT/mem.log"; then
    fail "the second address makes a duplicate link, which is closed" "$(tail -5 "$ROOT/mem.log")"
fi
count_true() { # NAME: status's peer count equals the members `peers` shows connected
    local st pe
    st=$(agah_on "$1" --json status 2>/dev/null) || return 1
    pe=$(agah_on "$1" --json peers 2>/dev/null) || return 1
    ST="$st" PE="$pe" python3 -c 'import json,os,sys; s=json.loads(os.environ["ST"]); p=json.loads(os.environ["PE"]); sys.exit(0 if s["peers"] == len({x["member_id"] for x in p if x["connected"]}) and s["peers"] >= 1 else 1)'
}
if wait_until 5 count_true mem; then
    pass "after a duplicate link, status counts each connected peer once"
else
    fail "after a duplicate link, status counts each connected peer once" \
      "$(agah_on mem --json status 2>&1)" "$(agah_on mem --json peers 2>&1)"
fi

# A new code for someone already admitted keeps their role and name unless
# asked otherwise; a relay must not become a member (and get the epoch
# keys) because --role was left out.
run org --json invite "$RELAY_ID"
expect "inviting the relay again with no --role or --name: a new code" 0 "set(j) == {'code'}"
run org --json members
expect "the relay keeps its role and its name" 0 \
  "[(m['role'], m['name']) for m in j if m['member_id'] == '$RELAY_ID'] == [('relay', 'relay')]"
run org invite "$LATE_ID" --role relay
expect "an invitation cannot lower a role: exit 2" 2 "'cannot lower' in err"

# ---------------------------------------------------------------- revoke
run org --json status
EPOCH0=$(OUT="$OUT" python3 -c 'import json,os; print(json.loads(os.environ["OUT"])["epoch"])')
run org --json revoke "$MEM_ID" --reason "phone seized"
expect "the organiser revokes the member" 0 "j == {'member_id': '$MEM_ID', 'status': 'revoked'}"
run org --json status
expect "revocation issues a new epoch key" 0 "j['epoch'] == $EPOCH0 + 1"
# Links that are up when the revocation arrives close at once, on every
# node that hears of it; the handshake refuses the key from then on.
linked_to_mem() { # NAME: does NAME have a connected link to the member?
    local out
    out=$(agah_on "$1" --json peers 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if any(p["member_id"] == sys.argv[1] and p["connected"] for p in json.loads(os.environ["OUT"])) else 1)' "$MEM_ID"
}
unlinked_everywhere() { ! linked_to_mem org && ! linked_to_mem relay && ! linked_to_mem late; }
if wait_until $SPREAD unlinked_everywhere; then
    pass "no node keeps a link to the revoked member"
else
    fail "no node keeps a link to the revoked member" "$(agah_on org --json peers 2>&1)"
fi
if grep -q "member $MEM_ID is no longer a member" "$ROOT/org.log"; then
    pass "the organiser's log says why the link closed, naming the member id agah prints"
else
    fail "the organiser's log says why the link closed, naming the member id agah prints"
fi
run org --json members
expect "members shows the member revoked" 0 \
  "{m['member_id']: m['status'] for m in j}.get('$MEM_ID') == 'revoked' and {m['member_id']: m['role'] for m in j}.get('$RELAY_ID') == 'relay'"
sleep 1
run org --json post number "+852 5999 0001" --note "after the revocation"
expect "the organiser posts after the revocation" 0 "len(j['id']) == 64"
run mem --json post number "+852 5999 0002" --note "from the revoked key"
RC_REVOKED_POST=$RC
sleep 3
run mem check "+852 5999 0001"
expect "the revoked member cannot read what was posted after" 1 "out == 'not flagged'"
run org check "+852 5999 0002"
expect "nobody accepts a post by the revoked key (its own daemon answered $RC_REVOKED_POST)" 1 "out == 'not flagged'"

finish
