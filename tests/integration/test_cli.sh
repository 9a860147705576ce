#!/usr/bin/env bash
# Every row of CONTRACT.md's client tables, driven through the real `agah`
# and a real `agahd` on 127.0.0.1: the --json shapes (checked with Python's
# json module and exact key sets), the human output, and each documented
# error with its exit code. Multi-node behaviour (alerts arriving elsewhere,
# confirm/retract/revoke across nodes) is in test_cli_community.sh.
#
# usage: bash tests/integration/test_cli.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_cli "${1:-}"

ORG=org
MEM=mem

# ---------------------------------------------------------------- basics
OUT=$("$AGAH" --version 2>&1); RC=$?; ERR=""
expect "agah --version" 0 "out.startswith('agah ') and len(out.split()) == 2"
OUT=$("$AGAHD" --version 2>&1); RC=$?
expect "agahd --version" 0 "out.startswith('agahd ')"
OUT=$("$AGAH" --help 2>&1); RC=$?
expect "agah --help lists every command" 0 \
  "all(c in out for c in ['init', 'id', 'community create', 'join', 'invite', 'post number', 'post account', 'post alert', 'check', 'list', 'show', 'confirm', 'retract', 'watch', 'members', 'revoke', 'peers', 'peer add', 'status', 'passphrase'])"
OUT=$("$AGAHD" --help 2>&1); RC=$?
expect "agahd --help" 0 "'--listen' in out and '--peer' in out"
for c in "init" "id" "community create" "join" "invite" "post number" "post account" \
         "post alert" "check" "list" "show" "confirm" "retract" "watch" "members" "revoke" \
         "peers" "peer add" "status" "passphrase"; do
    # shellcheck disable=SC2086
    OUT=$("$AGAH" $c --help 2>&1); RC=$?
    expect "agah $c --help" 0 "'SYNOPSIS' in out and 'agah $c' in out and ('EXAMPLE' in out)"
done
OUT=$("$AGAH" help post number 2>&1); RC=$?
expect "agah help post number" 0 "'agah post number' in out"
OUT=$("$AGAH" 2>&1); RC=$?
expect "agah with no command: usage, exit 2" 2 "'usage' in out"
OUT=$("$AGAH" frobnicate 2>&1); RC=$?
expect "unknown command: exit 2" 2 "'unknown command' in out"
OUT=$("$AGAH" --frob id 2>&1); RC=$?
expect_rc "unknown global option: exit 2" 2
OUT=$("$AGAH" --data "$ROOT/x" id --frob 2>&1); RC=$?
expect "unknown command option: exit 2" 2 "'unknown option' in out"
OUT=$("$AGAH" --data "$ROOT/x" show 2>&1); RC=$?
expect "missing argument: exit 2" 2 "'needs an argument' in out"
OUT=$("$AGAH" --data "$ROOT/x" list extra 2>&1); RC=$?
expect_rc "extra argument: exit 2" 2
OUT=$("$AGAH" --data "$ROOT/x" post 2>&1); RC=$?
expect_rc "post without a kind: exit 2" 2

# ------------------------------------------------------------------ init
run $ORG --json init --no-passphrase --unsafe-no-passphrase --name "Organiser"
expect "init --json prints {member_id}" 0 \
  "set(j) == {'member_id'} and j['member_id'].startswith('m') and len(j['member_id']) == 59"
ORG_ID=$(json_field member_id)
OUT=$(stat -c '%a' "$ROOT/$ORG" "$ROOT/$ORG/identity.key" | tr '\n' ' '); RC=0
expect "data directory 0700, identity.key 0600" 0 "out == '700 600 '"
run $ORG --json init --no-passphrase
expect "init refuses to overwrite an identity: exit 2" 2 "'refusing to overwrite' in err"
run $ORG --json id
expect "id --json prints the same {member_id}" 0 "j == {'member_id': '$ORG_ID'}"
run $ORG id
expect "id prints the bare id" 0 "out == '$ORG_ID'"
# Where the data directory is: --data, --data=, $AGAH_DATA, $XDG_DATA_HOME/agah,
# ~/.local/share/agah, in that order.
OUT=$(AGAH_DATA="$ROOT/$ORG" timeout 30 "$AGAH" id 2>&1); RC=$?
expect "AGAH_DATA is the default data directory" 0 "out == '$ORG_ID'"
OUT=$(AGAH_DATA="$ROOT/nowhere" timeout 30 "$AGAH" --data="$ROOT/$ORG" id 2>&1); RC=$?
expect "--data=DIR wins over AGAH_DATA" 0 "out == '$ORG_ID'"
mkdir -p "$ROOT/xdg" "$ROOT/home/.local/share"
cp -a "$ROOT/$ORG" "$ROOT/xdg/agah"
cp -a "$ROOT/$ORG" "$ROOT/home/.local/share/agah"
OUT=$(XDG_DATA_HOME="$ROOT/xdg" HOME="$ROOT/nohome" timeout 30 "$AGAH" id 2>&1); RC=$?
expect "else \$XDG_DATA_HOME/agah" 0 "out == '$ORG_ID'"
OUT=$(env -u XDG_DATA_HOME HOME="$ROOT/home" timeout 30 "$AGAH" id 2>&1); RC=$?
expect "else ~/.local/share/agah" 0 "out == '$ORG_ID'"
OUT=$(env -u XDG_DATA_HOME HOME="$ROOT/home2" timeout 30 "$AGAH" init --no-passphrase 2>&1); RC=$?
OUT=$(stat -c '%a' "$ROOT/home2/.local/share/agah" 2>&1)
expect "init creates the default directory 0700" 0 "out == '700'"
run nobody id
expect "id without an identity: exit 2 naming agah init" 2 "'agah' in err and 'init' in err"
run $ORG init --name "$(printf 'x%.0s' $(seq 1 65))" --no-passphrase
expect_rc "init --name longer than 64 bytes: exit 2" 2

# Passphrases: from the environment, from a file, and none without a terminal.
OUT=$(AGAH_PASSPHRASE=correct-horse-battery-9 timeout 60 "$AGAH" --data "$ROOT/pp" --json init 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "init with AGAH_PASSPHRASE" 0 "set(j) == {'member_id'}"
printf 'file-pass-Kashgar-4471\nignored second line\n' >"$ROOT/passfile"
chmod 600 "$ROOT/passfile"
run pf --passphrase-file "$ROOT/passfile" --json init
expect "init with --passphrase-file" 0 "set(j) == {'member_id'}"
OUT=$(setsid -w timeout 60 "$AGAH" --data "$ROOT/nopass" init </dev/null 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "init with no passphrase source and no terminal: exit 2, clear error" 2 \
  "'AGAH_PASSPHRASE' in err and '--passphrase-file' in err"
[ ! -e "$ROOT/nopass/identity.key" ] && pass "no identity left behind" || fail "no identity left behind"

# The terminal prompt: echo off, asked twice for a new identity, once to use it.
OUT=$(tty_session "$ROOT/tty" "init" "tty-secret-Aksu-7731" "tty-secret-Aksu-7732"); RC=$?; ERR=""
expect "init on a terminal: mismatched passphrases refused, exit 2" 2 "'do not match' in out and 'tty-secret' not in out"
OUT=$(tty_session "$ROOT/tty" "init" "tty-secret-Aksu-7731" "tty-secret-Aksu-7731"); RC=$?
expect "init on a terminal: asked twice, not echoed" 0 "'assphrase' in out and 'Again' in out and 'tty-secret' not in out"
OUT=$(tty_session "$ROOT/tty" "community create TTY" "wrong-one"); RC=$?
expect "community create on a terminal with a wrong passphrase: exit 2" 2 "'wrong passphrase' in out"
OUT=$(tty_session "$ROOT/tty" "community create TTY" "tty-secret-Aksu-7731"); RC=$?
expect "community create on a terminal with the right passphrase" 0 "'tty-secret' not in out and 'founded' in out"

# ------------------------------------------------------- community create
run $ORG --json community create "Istanbul test community"
expect "community create --json prints {community_id, name}" 0 \
  "set(j) == {'community_id', 'name'} and j['community_id'].startswith('c') and len(j['community_id']) == 59 and j['name'] == 'Istanbul test community'"
COMM_ID=$(json_field community_id)
run $ORG community create "Second"
expect "community create refuses a second community: exit 2" 2 "'already' in err"
run nobody community create X
expect "community create without identity: exit 2" 2 "'init' in err"
run pf community create ""
expect_rc "community create with an empty name: exit 2" 2
OUT=$(AGAH_PASSPHRASE=wrong timeout 60 "$AGAH" --data "$ROOT/pp" community create X 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "community create with a wrong passphrase: exit 2" 2 "'wrong passphrase' in err"
[ ! -e "$ROOT/pp/community" ] && pass "nothing written on a wrong passphrase" || fail "nothing written on a wrong passphrase"
OUT=$(AGAH_PASSPHRASE=correct-horse-battery-9 timeout 60 "$AGAH" --data "$ROOT/pp" community create "PP" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "community create with the right passphrase (human: prints the id)" 0 "out.startswith('c') and len(out) == 59"
run pf --passphrase-file "$ROOT/passfile" --json community create "PF"
expect "community create with --passphrase-file" 0 "set(j) == {'community_id', 'name'}"

# ------------------------------------------------------- daemon, status
run $ORG status
expect "status with no daemon: exit 3 naming agahd --data" 3 \
  "'agahd is not running' in err and 'agahd --data' in err"
OUT=$(timeout 30 "$AGAHD" --data "$ROOT/nobody" --listen none 2>&1); RC=$?
expect "agahd with no identity: exit 2 naming agah --data DIR init" 2 "'agah --data $ROOT/nobody init' in out"
run nobody status
expect "status on a directory with no identity: exit 3, pointing at agah init rather than agahd" 3 \
  "'agah --data $ROOT/nobody init' in err and 'start it with' not in err"
OUT=$(timeout 30 "$AGAHD" --data "$ROOT/nobody" --listen 127.0.0.1:99999 2>&1); RC=$?
expect "agahd --listen with a port out of range: usage error, exit 2" 2 "'--listen' in out and '1-65535' in out"
node_init lonely
OUT=$(timeout 30 "$AGAHD" --data "$ROOT/lonely" --listen none 2>&1); RC=$?
expect "agahd with no community: exit 2 naming agah join" 2 "'agah join' in out or 'community create' in out"

ORG_PORT=$(free_port)
if ! start_daemon $ORG "$ORG_PORT"; then
    fail "agahd starts"
    finish
fi
pass "agahd starts and its control socket accepts connections"
OUT=$(timeout 30 "$AGAHD" --data "$ROOT/$ORG" --listen none 2>&1); RC=$?
expect "a second agahd on the same data directory: exit 2" 2 "len(out) > 0"

run $ORG --json status
expect "status --json shape" 0 \
  "set(j) == {'member_id', 'community_id', 'role', 'peers', 'alerts', 'epoch', 'unreadable', 'passphrase'} and j['passphrase'] is False and j['member_id'] == '$ORG_ID' and j['community_id'] == '$COMM_ID' and j['role'] == 'organiser' and j['peers'] == 0 and j['alerts'] == 0 and j['unreadable'] == 0 and isinstance(j['epoch'], int) and j['epoch'] >= 1"
run $ORG status
expect "status (human) warns that the organiser's identity has no passphrase" 0 \
  "'$ORG_ID' in out and 'organiser' in out and 'passphrase  none' in out and 'warning: this identity has no passphrase' in err"

# ------------------------------------------------------------ invite/join
node_init $MEM
MEM_ID=$(node_id $MEM)
run $ORG --json invite "$MEM_ID" --name "Member One"
expect "invite --json prints {code}" 0 "set(j) == {'code'} and j['code'].startswith('agah1-') and '\\n' not in j['code']"
CODE=$(json_field code)
run $ORG invite "${MEM_ID:0:58}x"
expect "invite with a mistyped member id: exit 2" 2 "'member id' in err"
run $ORG invite "not-an-id"
expect_rc "invite with garbage: exit 2" 2
run $ORG invite "$MEM_ID" --role boss
expect "invite --role boss: exit 2" 2 "'role' in err"
run $ORG invite "$MEM_ID" --role relay --name "$(printf 'bad\tname')"
expect_rc "invite --name with a control character: exit 2" 2

# A typo in the code, a code for someone else, garbage.
TYPO=$(python3 -c 'import sys; c=sys.argv[1]; i=len(c)//2; print(c[:i] + ("A" if c[i] != "A" else "B") + c[i+1:])' "$CODE")
run $MEM join "$TYPO"
expect "join with a mistyped code: exit 2, says so" 2 "'mistyped' in err or 'typo' in err"
node_init other
run other join "$CODE"
expect "join with a code made for another identity: exit 2" 2 "'another identity' in err"
run $MEM join "hello"
expect_rc "join with garbage: exit 2" 2
run $MEM --json join "$CODE"
expect "join --json prints {community_id, role, community_name, inviter, inviter_name, rejoined}" 0 \
  "set(j) == {'community_id', 'role', 'community_name', 'inviter', 'inviter_name', 'rejoined'} and j['rejoined'] is False and j['community_id'] == '$COMM_ID' and j['role'] == 'member' and j['community_name'] == 'Istanbul test community' and j['inviter'] == '$ORG_ID' and j['inviter_name'] == 'Organiser'"
# What join shows must be what the organiser's own status says: the two
# ids a newcomer compares in person.
ORG_STATUS=$(agah_on $ORG --json status 2>/dev/null)
JOIN_JSON=$OUT
OUT=$(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); j=json.loads(sys.argv[2]); print(s["community_id"] == j["community_id"] and s["member_id"] == j["inviter"])' "$ORG_STATUS" "$JOIN_JSON"); RC=0
expect "join's inviter and community ids are those of the organiser's status --json" 0 "out == 'True'"
run $MEM join "$CODE"
expect "join again with the same code: exit 2 (already in it, nothing new)" 2 "'already' in err and 'adds nothing' in err"
run $ORG invite "$(node_id other)" --role relay
expect "invite (human) prints only the code on stdout" 0 "out.startswith('agah1-') and len(out.splitlines()) == 1"
if grep -q 'names no address' <<<"$ERR"; then
    fail "a code from a node with a --listen address: no warning" "$ERR"
else
    pass "a code from a node with a --listen address: no warning"
fi
printf '%s\n' "$OUT" >"$ROOT/other.code"
OUT=$(timeout 60 "$AGAH" --data "$ROOT/other" --json join - <"$ROOT/other.code" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "join - reads the code from stdin; relay role" 0 "j['role'] == 'relay'"

# A node that listens nowhere and keeps no peers makes codes with no
# address in them: the newcomer would have no one to dial, so agah warns,
# and --peer puts an address in.
node_init solo
community_found solo "Solo"
if start_daemon solo none; then
    node_init solonew
    SOLONEW_ID=$(node_id solonew)
    run solo invite "$SOLONEW_ID"
    expect "invite from a node with no address to give: the code, and a warning" 0 \
      "out.startswith('agah1-') and 'names no address' in err and '--peer' in err"
    run solo --json invite "$SOLONEW_ID" --peer relay.example.org:7433
    expect "invite --peer: no warning, --json still {code}" 0 \
      "set(j) == {'code'} and 'names no address' not in err"
    run solo invite "$SOLONEW_ID" --peer "relay.example.org"
    expect "invite --peer without a port: exit 2" 2 "'not a peer address' in err"
    stop_daemon solo >/dev/null
else
    fail "a second community's agahd starts with --listen none"
fi

# ------------------------------------------------------------------ post
run $ORG --json post number "+852 5123 4567" --note "threats against my family"
expect "post number --json prints {id}" 0 \
  "set(j) == {'id'} and len(j['id']) == 64 and all(c in '0123456789abcdef' for c in j['id'])"
A1=$(json_field id)
for q in "+852 5123 4567" "00852-5123-4567" "(+852) 5123.4567" "+85251234567"; do
    run $ORG --json check "$q"
    expect "check '$q' finds +85251234567" 0 \
      "set(j) == {'query', 'normalized', 'flagged', 'alerts'} and j['query'] == '''$q''' and j['normalized'] == '+85251234567' and j['flagged'] is True and len(j['alerts']) == 1 and is_alert(j['alerts'][0]) and j['alerts'][0]['id'] == '$A1'"
done
run $ORG check "+852 5123 4567"
expect "check (human): FLAGGED line" 0 \
  "out.startswith('FLAGGED: harassment, reported by 1 member')"
run $ORG --json show "$A1"
expect "show --json: the whole ALERT" 0 \
  "is_alert(j) and j['id'] == '$A1' and j['kind'] == 'number' and j['target'] == '+85251234567' and j['category'] == 'harassment' and j['note'] == 'threats against my family' and j['author'] == '$ORG_ID' and j['author_name'] == 'Organiser' and j['status'] == 'active' and j['confirmations'] == 0 and abs(j['expires'] - j['created'] - 365*86400) <= 1"
run $ORG --json show "${A1:0:8}"
expect "show by an 8-digit prefix" 0 "j['id'] == '$A1'"
run $ORG show "${A1:0:10}"
expect "show (human) prints the fields" 0 "'$A1' in out and '+85251234567' in out and 'threats against my family' in out"

# A number typed in a local format: the confirmation shows what was stored.
run $ORG post number "020 7946 0321" --region GB --note "silent calls"
expect "post (human) confirms the normalised number" 0 \
  "len(out.strip()) == 64 and 'posted number +442079460321 (harassment' in err and '020 7946' not in err"

# Uyghur (right-to-left) and Chinese notes survive intact, a long one uncut.
UG="ئۇيغۇرلار ئۈچۈن ئاگاھلاندۇرۇش: بۇ نومۇر تەھدىت سالدى"
ZH="这个号码冒充领事馆，威胁我的家人"
# 2,000 bytes: near the 2,048-byte limit of a note.
LONG=$(python3 -c 'print(("ئۇيغۇر 中文 " * 100).strip())')
run $ORG --json post number "+44 7700 900123" --category impersonation --note "$UG $ZH" --expires 90d
expect "post number with --category, a Uyghur+Chinese note and --expires 90d" 0 "len(j['id']) == 64"
A2=$(json_field id)
run $ORG --json show "$A2"
expect "the note comes back byte for byte; category and 90d expiry kept" 0 \
  "j['note'] == '''$UG $ZH''' and j['category'] == 'impersonation' and abs(j['expires'] - j['created'] - 90*86400) <= 1"
run $ORG show "$A2"
expect "show (human) prints the whole note intact" 0 "'''$UG $ZH''' in out"
run $ORG --json post alert --note "$LONG" --severity info --expires never
expect "post alert with a long note and --expires never" 0 "len(j['id']) == 64"
A3=$(json_field id)
run $ORG --json show "$A3"
expect "free-text alert: target null, expires 0, note uncut" 0 \
  "is_alert(j) and j['kind'] == 'alert' and j['target'] is None and j['expires'] == 0 and j['severity'] == 'info' and j['note'] == '''$LONG'''"
run $ORG show "$A3"
expect "show (human) does not cut a long note" 0 "'''$LONG'''.strip() in out"
run $ORG list
expect "list (human) cuts long notes on a character boundary" 0 \
  "out.encode('utf-8').decode('utf-8') == out and '\u2026' in out"
expect "list (human): an alert just posted for the default 365 days expires 'in 365 d'" 0 \
  "'in 365 d' in out and 'in 364 d' not in out"

# JSON escaping and terminal safety: quotes, backslashes, newlines, tabs and
# an ANSI escape in a note come back exactly in JSON and are never sent raw
# to a terminal by the human output.
NASTY=$'say "hi" \\ back\nsecond line\ttab \e[31mred\e[0m'
run $ORG --json post alert --note "$NASTY" --severity info
expect "post alert with quotes, backslash, newline, tab and an escape" 0 "len(j['id']) == 64"
A_NASTY=$(json_field id)
run $ORG --json list --kind alert
expect "list --json escapes them and they round-trip exactly" 0 \
  "[a['note'] for a in j if a['id'] == '$A_NASTY'] == ['say \"hi\" \\\\ back\\nsecond line\\ttab \\x1b[31mred\\x1b[0m']"
run $ORG list --kind alert
expect "list (human) never writes the escape character" 0 "'\\x1b' not in out and '$(echo "${A_NASTY:0:12}")' in out"
run $ORG show "$A_NASTY"
expect "show (human) never writes the escape character" 0 "'\\x1b' not in out and 'second line' in out"
run $ORG --json retract "$A_NASTY"
expect_rc "retract it again" 0
# A right-to-left override turns "+85251234567 is safe" into a number read
# backwards on a terminal; an isolate, a zero-width space and a BOM hide
# text. JSON keeps them; human output shows '?' instead. ZWNJ, which
# Arabic-script text uses to shape, stays.
BIDI=$'call \u202e76543215258+ \u2066x\u2069 z\u200bw \ufeffend \u200cok'
run $ORG --json post alert --note "$BIDI" --severity info
A_BIDI=$(json_field id)
run $ORG --json show "$A_BIDI"
expect "show --json keeps format characters exactly" 0 \
  "j['note'] == 'call \u202e76543215258+ \u2066x\u2069 z\u200bw \ufeffend \u200cok'"
run $ORG show "$A_BIDI"
expect "show (human) writes no bidi override, isolate, zero-width space or BOM" 0 \
  "not any(c in out for c in '\u202e\u2066\u2069\u200b\ufeff') and 'call ?76543215258+ ?x? z?w ?end \u200cok' in out"
run $ORG list --kind alert
expect "list (human) writes no bidi override either" 0 "'\u202e' not in out"
run $ORG --json retract "$A_BIDI"

run $ORG --json post number 07700 900456 2>/dev/null
expect_rc "post number with two arguments: exit 2" 2
run $ORG --json post number "07700 900456"
expect "post number national without a region: exit 2 saying so" 2 "'--region' in err and 'AGAH_REGION' in err"
run $ORG --json post number "07700 900456" --region GB
expect "post number with --region GB" 0 "len(j['id']) == 64"
A4=$(json_field id)
run $ORG --json show "$A4"
expect "--region GB: stored as +447700900456" 0 "j['target'] == '+447700900456'"
OUT=$(AGAH_REGION=TR timeout 60 "$AGAH" --data "$ROOT/$ORG" --json check "0532 123 45 67" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "AGAH_REGION supplies the default region" 1 "j['normalized'] == '+905321234567' and j['flagged'] is False"
OUT=$(AGAH_REGION=GBR timeout 60 "$AGAH" --data "$ROOT/$ORG" check "+852 5123 4567" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "a bad AGAH_REGION: exit 2, the message names AGAH_REGION" 2 "'AGAH_REGION \"GBR\"' in err"
run $ORG --json list
BEFORE=$(OUT="$OUT" python3 -c 'import json,os; print(len(json.loads(os.environ["OUT"])))')
for bad in "call-me-maybe" "" "+1 23" "+12345678901234567890" "+852 5123 4567 ext. x"; do
    run $ORG post number "$bad"
    expect "post number '$bad': exit 2" 2 "len(err) > 0 and out == ''"
done
run $ORG post number "whatsapp:+85251234567"
expect "post number refuses a ':'" 2 "'post account' in err"
run $ORG post number "+85251234567" --category gossip
expect "post with an unknown category: exit 2" 2 "'category' in err"
for d in 10 0d 5y -1d 1.5d d 90D "90 d"; do
    run $ORG post number "+85251234567" --expires "$d"
    expect_rc "post --expires '$d': exit 2" 2
done
run $ORG post number "+85251234567" --region GBR
expect_rc "post --region GBR: exit 2" 2
run $ORG --json list
expect "nothing was stored by the refused posts" 0 "len(j) == $BEFORE"
run $ORG --json post number "+85251234567" --expires 12h --category scam
expect "post --expires 12h" 0 "len(j['id']) == 64"
A5=$(json_field id)
run $ORG --json show "$A5"
expect "12h expiry" 0 "abs(j['expires'] - j['created'] - 12*3600) <= 1 and j['category'] == 'scam'"
run $ORG --json post number "+85251234567" --expires 30m
expect "post --expires 30m" 0 "len(j['id']) == 64"
A6=$(json_field id)
run $ORG check "+852 5123 4567"
expect "check (human) sums up several alerts" 0 \
  "out.startswith('FLAGGED: ') and 'harassment' in out and 'scam' in out and 'reported by 1 member' in out"

run $ORG --json post account "telegram:@Fake_Consulate" --category impersonation --note "fake consulate"
expect "post account --json prints {id}" 0 "len(j['id']) == 64"
A7=$(json_field id)
run $ORG --json show "$A7"
expect "account normalised to service:handle" 0 "j['kind'] == 'account' and j['target'] == 'telegram:fake_consulate'"
run $ORG --json check "Telegram:fake_consulate"
expect "check finds the account however written" 0 "j['flagged'] is True and j['normalized'] == 'telegram:fake_consulate'"
run $ORG --json post account "whatsapp:+90 532 123 45 67"
expect "post account whatsapp number" 0 "len(j['id']) == 64"
run $ORG post account "fake_consulate"
expect "post account without SERVICE: exit 2" 2 "'SERVICE:HANDLE' in err"
run $ORG post account "myspace:someone"
expect_rc "post account on an unknown service: exit 2" 2
run $ORG post account "telegram:@ab"
expect_rc "post account with a too-short telegram handle: exit 2" 2

run $ORG --json post alert --note "someone photographs attendees at Saturday's meeting" --severity danger --category surveillance --expires 7d
expect "post alert --severity danger" 0 "len(j['id']) == 64"
A8=$(json_field id)
run $ORG --json show "$A8"
expect "free-text alert fields" 0 "j['kind'] == 'alert' and j['target'] is None and j['severity'] == 'danger' and j['category'] == 'surveillance'"
run $ORG post alert
expect "post alert without --note: exit 2" 2 "'--note' in err"
run $ORG post alert --note "x" --severity apocalyptic
expect "post alert with an unknown severity: exit 2" 2 "'severity' in err"
run $ORG post alert --note "$(python3 -c 'print("x" * 2049)')"
expect "post alert with a note over 2048 bytes: exit 2" 2 "'2048' in err"

# ----------------------------------------------------------------- check
run $ORG --json check "+1 202 555 0143"
expect "check not flagged: exit 1, flagged false, no alerts" 1 \
  "j == {'query': '+1 202 555 0143', 'normalized': '+12025550143', 'flagged': False, 'alerts': []}"
run $ORG check "+1 202 555 0143"
expect "check (human) not flagged" 1 "out == 'not flagged'"
run $ORG check "call me"
expect "check with letters: exit 2, nothing answered" 2 "out == '' and 'phone number' in err"
run $ORG check "0532 123 45 67"
expect "check national number without region: exit 2" 2 "'--region' in err"
run $ORG check "telegram:"
expect_rc "check an empty handle: exit 2" 2
run_in $ORG $'+852 5123 4567\n+1 202 555 0143\n\n# a comment\n' check
expect "check from stdin: one answer per line, exit 0 if any flagged" 0 \
  "out.splitlines()[0].startswith('+85251234567  FLAGGED: ') and out.splitlines()[1] == '+12025550143  not flagged' and len(out.splitlines()) == 2"
run_in $ORG $'+1 202 555 0143\n+1 202 555 0144\n' check -
expect "check - from stdin: exit 1 when none is flagged" 1 "out.splitlines() == ['+12025550143  not flagged', '+12025550144  not flagged']"
run_in $ORG $'+1 202 555 0143\nnot a number\ntelegram:fake_consulate\n' check
expect "check from stdin with an invalid line: exit 2, the others still answered" 2 \
  "out.splitlines()[0] == '+12025550143  not flagged' and out.splitlines()[1].startswith('telegram:fake_consulate  FLAGGED') and 'line 2' in err"
run_in $ORG $'+852 5123 4567\n+1 202 555 0143\nbogus\n' --json check
expect "check --json from stdin: JSON lines" 2 \
  "len(lines) == 3 and lines[0]['flagged'] is True and lines[0]['normalized'] == '+85251234567' and all(is_alert(a) for a in lines[0]['alerts']) and lines[1]['flagged'] is False and set(lines[1]) == {'query', 'normalized', 'flagged', 'alerts'} and lines[2] == {'query': 'bogus', 'error': lines[2]['error']} and 'contains letters' in lines[2]['error']"
# `agah check $empty` must not read as "not flagged".
run_in $ORG '' check
expect "check with nothing on stdin: exit 2, no answer" 2 "out == '' and 'none on standard input' in err"
run_in $ORG $'\n# only a comment\n' --json check -
expect "check --json with only blank and comment lines: exit 2, no JSON" 2 "out == '' and 'none on standard input' in err"
run $ORG check "abc"
expect "a number with letters: the message names it once" 2 "err.count('abc') == 1 and 'contains letters' in err"
run $ORG check "nosuchservice:someone"
expect "an unknown service: the whole list of services, untruncated" 2 "'douyin' in err and 'nosuchservice' in err"

# ------------------------------------------------------------------ list
run $ORG --json list
expect "list --json: active ALERTs, newest first" 0 \
  "isinstance(j, list) and len(j) >= 8 and all(is_alert(a) for a in j) and all(a['status'] == 'active' for a in j) and all(j[i]['created'] >= j[i+1]['created'] for i in range(len(j)-1))"
run $ORG --json list --kind number
expect "list --kind number" 0 "len(j) >= 5 and all(a['kind'] == 'number' for a in j)"
run $ORG --json list --kind account
expect "list --kind account" 0 "len(j) == 2 and all(a['kind'] == 'account' for a in j)"
run $ORG --json list --kind alert
expect "list --kind alert" 0 "len(j) == 2 and all(a['kind'] == 'alert' for a in j)"
run $ORG list --kind rumour
expect "list --kind rumour: exit 2" 2 "'kind' in err"
run $ORG list
expect "list (human): a table with a header" 0 \
  "out.splitlines()[0].split()[:3] == ['ID', 'KIND', 'TARGET'] and '+85251234567' in out and 'telegram:fake_consulate' in out"

# -------------------------------------------------------- confirm/retract
run $ORG --json confirm "$A1" --note "it called me too"
if [ "$RC" = 0 ]; then
    expect "confirm --json prints {id, confirmations}" 0 "set(j) == {'id', 'confirmations'} and j['id'] == '$A1' and isinstance(j['confirmations'], int)"
else
    # An author may not confirm their own alert: refused with a message,
    # as an input (2) or permission (4) error.
    RC_WANT=$RC
    [ "$RC" = 2 ] || [ "$RC" = 4 ] || RC_WANT=2
    expect "confirm of one's own alert is refused (exit 2 or 4)" "$RC_WANT" "'own' in err"
fi
run $ORG confirm "zz"
expect "confirm with a bad id: exit 2" 2 "'alert id' in err"
run $ORG confirm "$(printf '0%.0s' $(seq 1 64))"
expect_rc "confirm an unknown alert: exit 2" 2
run $ORG --json retract "$A5" --reason "mistake"
expect "retract --json prints {id, status: retracted}" 0 "j == {'id': '$A5', 'status': 'retracted'}"
run $ORG --json list
expect "retracted alerts leave the active list" 0 "'$A5' not in [a['id'] for a in j]"
run $ORG --json list --all
expect "list --all shows them as retracted" 0 \
  "[a['status'] for a in j if a['id'] == '$A5'] == ['retracted'] and all(is_alert(a) for a in j)"
run $ORG list --all
expect "list --all (human) has a STATUS column" 0 "'STATUS' in out.splitlines()[0] and 'retracted' in out"
run $ORG retract "$A6"
expect "retract (human)" 0 "'retracted' in out"
run $ORG retract "xyz!"
expect_rc "retract with a bad id: exit 2" 2
run $ORG retract "abcd0000"
expect_rc "retract an unknown alert: exit 2" 2
run $ORG show "abcd0000"
expect_rc "show an unknown alert: exit 2" 2
run $ORG show "$A1" --all
expect_rc "show with an option it does not take: exit 2" 2

# --------------------------------------------------------------- members
run $ORG --json members
expect "members --json shape" 0 \
  "isinstance(j, list) and all(set(m) == {'member_id', 'name', 'role', 'status', 'admitted_by', 'admitted', 'invited_until'} for m in j) and {'$ORG_ID': ('organiser', 'active'), '$MEM_ID': ('member', 'active')}.items() <= {m['member_id']: (m['role'], m['status']) for m in j}.items() and [m['name'] for m in j if m['member_id'] == '$MEM_ID'] == ['Member One']"
run $ORG members
expect "members (human): a table" 0 "out.splitlines()[0].split()[:2] == ['MEMBER', 'ID'] and '$MEM_ID' in out and 'Member One' in out"

# ---------------------------------------------------------------- revoke
OTHER_ID=$(node_id other)
run $ORG --json status
EPOCH0=$(OUT="$OUT" python3 -c 'import json,os; print(json.loads(os.environ["OUT"])["epoch"])')
run $ORG --json revoke "$OTHER_ID" --reason "test revocation"
expect "revoke --json prints {member_id, status: revoked}" 0 "j == {'member_id': '$OTHER_ID', 'status': 'revoked'}"
run $ORG --json members
expect "members shows the revoked one" 0 "[m['status'] for m in j if m['member_id'] == '$OTHER_ID'] == ['revoked']"
run $ORG --json status
expect "revoking rekeys: a new epoch" 0 "j['epoch'] == $EPOCH0 + 1"
run $ORG revoke "${OTHER_ID:0:10}"
expect_rc "revoke with a bad id: exit 2" 2
run $ORG revoke "$OTHER_ID"
expect "revoking again: exit 0, says nothing changed" 0 "'already revoked' in out and 'epoch' not in out"
run $ORG --json revoke "$OTHER_ID"
expect "revoking again --json: the same {member_id, status}" 0 "j == {'member_id': '$OTHER_ID', 'status': 'revoked'}"
run $ORG --json status
expect "revoking again does not rekey" 0 "j['epoch'] == $EPOCH0 + 1"

# ----------------------------------------------------------------- peers
run $ORG --json peers
expect "peers --json: an array of {address, member_id, connected}" 0 \
  "isinstance(j, list) and all(set(p) == {'address', 'member_id', 'connected'} for p in j)"
P2=$(free_port)
run $ORG --json peer add "127.0.0.1:$P2"
expect "peer add --json prints {address}" 0 "j == {'address': '127.0.0.1:$P2'}"
run $ORG --json peers
expect "peers lists the added address, not connected" 0 \
  "[(p['connected'], p['member_id']) for p in j if p['address'] == '127.0.0.1:$P2'] == [(False, None)]"
run $ORG peers
expect "peers (human): a table" 0 "'127.0.0.1:$P2' in out and 'ADDRESS' in out"
for bad in "localhost" "127.0.0.1:0" "127.0.0.1:70000" ":7433" "127.0.0.1:port"; do
    run $ORG peer add "$bad"
    expect_rc "peer add '$bad': exit 2" 2
done

# ------------------------------------------------------------------ watch
"$AGAH" --data "$ROOT/$ORG" --json watch >"$ROOT/watch.json" 2>"$ROOT/watch.err" &
WPID=$!
"$AGAH" --data "$ROOT/$ORG" watch >"$ROOT/watch.txt" 2>"$ROOT/watch.txt.err" &
HPID=$!
sleep 0.5
run $ORG --json post number "+852 6000 0001" --note "watched"
A9=$(json_field id)
if wait_until 10 grep -q "$A9" "$ROOT/watch.json" && wait_until 10 grep -q '+85260000001' "$ROOT/watch.txt"; then
    pass "watch prints an alert as it is stored"
else
    fail "watch prints an alert as it is stored" "$(cat "$ROOT/watch.json" "$ROOT/watch.err")"
fi
run $ORG retract "$A9" --reason "watched it go"
if wait_until 10 grep -q 'retracted by Organiser: number +85260000001' "$ROOT/watch.txt"; then
    pass "watch prints the alert again when it is retracted, saying so"
else
    fail "watch prints the alert again when it is retracted, saying so" "$(cat "$ROOT/watch.txt")"
fi
kill -INT $WPID $HPID
wait $WPID; RC=$?
OUT=$(cat "$ROOT/watch.json"); ERR=$(cat "$ROOT/watch.err")
expect "watch --json: one ALERT per line; SIGINT exits 0" 0 \
  "len(lines) >= 1 and all(is_alert(l) for l in lines) and any(l['id'] == '$A9' and l['note'] == 'watched' for l in lines)"
wait $HPID; RC=$?
OUT=$(cat "$ROOT/watch.txt"); ERR=$(cat "$ROOT/watch.txt.err")
expect "watch (human): new, then retracted; SIGINT exits 0" 0 \
  "[l.split('] ', 1)[1].split(':')[0] for l in out.splitlines() if '+85260000001' in l] == ['new', 'retracted by Organiser'] and 'watched' in out"

# A stuck daemon: check gives up after 10 s with exit 3 (a script
# screening a call must not hang for the minute other commands wait).
ORG_PID=$(daemon_pid $ORG)
kill -STOP "$ORG_PID"
run $ORG check "+852 5123 4567"
kill -CONT "$ORG_PID"
expect "check against a stopped daemon: exit 3, having waited 10 s" 3 \
  "'did not answer within 10 s' in err"
run $ORG check "+852 5123 4567"
expect "check answers again once the daemon runs" 0 "out.startswith('FLAGGED')"

# ------------------------------------------------------- status, counts
run $ORG --json list
NACTIVE=$(OUT="$OUT" python3 -c 'import json,os; print(len(json.loads(os.environ["OUT"])))')
run $ORG --json status
expect "status counts the active alerts" 0 "j['alerts'] == $NACTIVE"

# ------------------------------------------------- the daemon goes away
stop_daemon $ORG; RC=$?
OUT=""; ERR=""
expect_rc "agahd stops cleanly on SIGTERM: exit 0" 0
for c in "status" "list" "members" "peers" "watch" "check +85251234567" "show $A1" \
         "post number +85251234567" "post account telegram:fake_consulate" \
         "post alert --note x" "confirm $A1" "retract $A1" "revoke $MEM_ID" \
         "invite $MEM_ID" "peer add 127.0.0.1:$P2"; do
    # shellcheck disable=SC2086
    run $ORG $c
    expect "$c with agahd stopped: exit 3" 3 "'agahd is not running' in err"
done
run $ORG --json id
expect "offline commands still work without the daemon" 0 "j['member_id'] == '$ORG_ID'"

finish
