#!/usr/bin/env bash
# What the CLI shows so that members can tell whom to trust, on real agahd
# processes on 127.0.0.1:
# - `agah join` names the inviter and the community by id, and those ids
#   are the ones the organiser's `agah status` shows;
# - a look-alike community (same name, founded by an attacker who knows the
#   newcomer's member id) is told apart by those ids;
# - alerts carry `author_revoked` and `retracted_by` (show, list, check);
# - `members` says who admitted whom, and when.
#
# usage: bash tests/integration/test_cli_trust.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_cli_trust "${1:-}"

SPREAD=15

node_init org
node_init mem
node_init vic
# The attacker takes the organiser's display name as well: only the ids
# can tell them apart.
agah_on evil init --no-passphrase --unsafe-no-passphrase --name org >/dev/null 2>&1 || { fail "attacker's identity"; finish; }
community_found org "Istanbul"
community_found evil "Istanbul"
ORG_ID=$(node_id org)
MEM_ID=$(node_id mem)
VIC_ID=$(node_id vic)
EVIL_ID=$(node_id evil)
P_ORG=$(free_port)
P_MEM=$(free_port)
P_EVIL=$(free_port)

start_daemon org "$P_ORG" || { fail "organiser's agahd starts"; finish; }
start_daemon evil "$P_EVIL" || { fail "attacker's agahd starts"; finish; }
run org --json status
expect "the organiser's status --json has its community id and member id" 0 \
  "j['member_id'] == '$ORG_ID' and j['community_id'].startswith('c') and len(j['community_id']) == 59"
ORG_COMM=$(json_field community_id)
run org status
expect "the organiser's status (human) shows both ids to compare" 0 \
  "'$ORG_ID' in out and '$ORG_COMM' in out"

# ------------------------------------------------- join names its inviter
CODE=$(agah_on org invite "$MEM_ID" --name mem 2>/dev/null)
run mem join "$CODE"
expect "join (human): the community id on stdout" 0 "out.strip() == '$ORG_COMM'"
expect "join (human): names the inviter and the community, by name and id" 0 \
  "'$ORG_ID' in err and '$ORG_COMM' in err and '(org)' in err and '\"Istanbul\"' in err"
expect "join (human): tells the newcomer to compare the ids with the organiser's status" 0 \
  "'agah status' in err and 'in person' in err and 'look-alike' in err"

# ------------------------------------------------- a look-alike community
# The attacker knows the victim's member id (it is no secret) and seals a
# code for a community with the same name, made by someone with the same
# display name. It is a valid code; what gives it away are the ids.
EVIL_CODE=$(agah_on evil invite "$VIC_ID" --name vic 2>/dev/null)
run vic --json join "$EVIL_CODE"
expect "a look-alike code joins, with the same community and inviter names" 0 \
  "j['community_name'] == 'Istanbul' and j['inviter_name'] == 'org' and j['role'] == 'member'"
expect "the look-alike's community id and inviter id differ from the organiser's status" 0 \
  "j['community_id'] != '$ORG_COMM' and j['inviter'] != '$ORG_ID' and j['inviter'] == '$EVIL_ID'"
rm -rf "$(node_dir vic)/community"
run vic join "$EVIL_CODE"
expect "the look-alike (human): the ids printed are not the organiser's" 0 \
  "'$EVIL_ID' in err and '$ORG_ID' not in err and '$ORG_COMM' not in err and out.strip() != '$ORG_COMM'"

# ------------------------------------------------- members: who admitted whom
run org --json members
expect "members --json: admitted_by and admitted on every entry" 0 \
  "all(set(m) == {'member_id', 'name', 'role', 'status', 'admitted_by', 'admitted', 'invited_until'} and isinstance(m['admitted'], int) and m['admitted'] > 0 for m in j)"
expect "members --json: the founder was admitted by no one, the member by the organiser" 0 \
  "{m['member_id']: m['admitted_by'] for m in j} == {'$ORG_ID': None, '$MEM_ID': '$ORG_ID'}"
run org members
expect "members (human): an ADMITTED BY column naming the admitter" 0 \
  "'ADMITTED BY' in out and '(founder)' in out and any('$MEM_ID' in l and ' org ' in l for l in out.splitlines())"

run org --json members
expect "members --json: a member whose node never linked is invited, until its code lapses" 0 \
  "[m['invited_until'] > 0 for m in j if m['member_id'] == '$MEM_ID'] == [True] and [m['invited_until'] for m in j if m['member_id'] == '$ORG_ID'] == [0]"
run org members
expect "members (human): says invited" 0 "any('$MEM_ID' in l and 'invited' in l for l in out.splitlines())"

# ------------------------------------------------- alerts: retracted by whom
start_daemon mem "$P_MEM" "$P_ORG" || { fail "member's agahd starts"; finish; }
mem_joined() {
    agah_on org --json members 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if [m["invited_until"] for m in json.load(sys.stdin) if m["member_id"] == sys.argv[1]] == [0] else 1)' "$MEM_ID"
}
if wait_until 15 mem_joined; then
    pass "once the member's node links with the organiser's, its admission no longer lapses"
else
    fail "once the member's node links with the organiser's, its admission no longer lapses"
fi
run mem --json post number "+852 5999 0101" --note "kept, author revoked later"
A1=$(json_field id)
run mem --json post number "+852 5999 0102" --note "retracted by its author"
A2=$(json_field id)
run mem --json post number "+852 5999 0103" --note "retracted by the organiser"
A3=$(json_field id)
has_alert() { agah_on "$1" show "$2" >/dev/null 2>&1; }
if wait_until $SPREAD has_alert org "$A1" && wait_until $SPREAD has_alert org "$A3"; then
    pass "the member's alerts reach the organiser"
else
    fail "the member's alerts reach the organiser"
    finish
fi
run org --json show "$A1"
expect "an alert by an unrevoked member: author_revoked false, retracted_by null" 0 \
  "is_alert(j) and j['author_revoked'] is False and j['retracted_by'] is None and j['retracted_by_name'] is None"
run mem --json retract "$A2"
expect_rc "the member retracts its own alert" 0
run org --json retract "$A3" --reason "checked: wrong number"
expect_rc "the organiser retracts the member's alert" 0
run org --json show "$A3"
expect "show --json: a retraction by the organiser names the organiser" 0 \
  "is_alert(j) and j['status'] == 'retracted' and j['retracted_by'] == '$ORG_ID' and j['retracted_by_name'] == 'org'"
run org show "$A3"
expect "show (human): 'retracted by NAME (ID)'" 0 \
  "any(l.startswith('retracted by') and l.endswith(' org ($ORG_ID)') for l in out.splitlines())"
run mem --json show "$A2"
expect "show --json: a retraction by the author names the author" 0 \
  "j['status'] == 'retracted' and j['retracted_by'] == '$MEM_ID' and j['retracted_by_name'] == 'mem'"
retracted_on_org() {
    local out
    out=$(agah_on org --json show "$A2" 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if json.loads(os.environ["OUT"])["retracted_by"] == sys.argv[1] else 1)' "$MEM_ID"
}
if wait_until $SPREAD retracted_on_org; then
    pass "the author's retraction reaches the organiser, naming the author"
else
    fail "the author's retraction reaches the organiser, naming the author" "$(agah_on org --json show "$A2" 2>&1)"
fi
run org list --all
expect "list --all (human): the status column says who retracted" 0 \
  "'retracted by org' in out and 'retracted by mem' in out"
run org --json list --all
expect "list --all --json: every ALERT has the new keys" 0 "len(j) == 3 and all(is_alert(a) for a in j)"

# ------------------------------------------------- the author is revoked
run org --json revoke "$MEM_ID" --reason "informant"
expect_rc "the organiser revokes the member" 0
run org --json members
expect "members --json after the revocation: still admitted by the organiser" 0 \
  "[(m['status'], m['admitted_by']) for m in j if m['member_id'] == '$MEM_ID'] == [('revoked', '$ORG_ID')]"
run org --json show "$A1"
if [ "$RC" = 0 ]; then
    expect "show --json: the revoked member's earlier alert says author_revoked" 0 \
      "is_alert(j) and j['author_revoked'] is True and j['status'] == 'active'"
    run org show "$A1"
    expect "show (human): marked 'author revoked'" 0 "'author revoked' in out"
    run org list
    expect "list (human): the BY column marks the author revoked" 0 "'mem (revoked)' in out"
    run org check "+852 5999 0101"
    expect "check (human): says an alert is by a revoked author" 0 "'by a revoked author' in out"
    run org --json check "+852 5999 0101"
    expect "check --json: the alert says author_revoked" 0 \
      "j['flagged'] is True and all(a['author_revoked'] is True for a in j['alerts'])"
else
    # Today's validity rules may delete a revoked author's alerts; the
    # marks are then unobservable, and that is said rather than hidden.
    echo "NOTICE: the revoked member's alert is gone from the organiser (show exit $RC: $ERR);" \
         "the author_revoked assertions are skipped"
fi

finish
