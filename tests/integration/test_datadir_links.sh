#!/usr/bin/env bash
# Issue 24, "the data directory is checked and then opened by path": someone
# who could write the data directory once (a restored backup, a shared
# machine, a misconfigured sync tool) plants symbolic links where agah's
# files go, so that the identity is read from, and the store written into,
# files they chose. agah and agahd now open the directory once without
# following a link, open each file relative to it (openat, O_NOFOLLOW), and
# check store.db, -wal and -shm (which SQLite opens by path) the same way:
#  - identity.key as a link: `agah id` and agahd refuse, naming the link;
#  - the data directory as a link: refused the same way;
#  - store.db as a link to a file of ours, or to a path that does not exist
#    yet: agahd refuses to start, and the target is neither written nor
#    created;
#  - store.db-wal as a link: refused, the target untouched;
#  - a link as the community file is refused, and `agah` never writes
#    through it;
#  - agahd.lock as a link: refused, its target not created.
# usage: test_datadir_links.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init datadir_links "${1:-}"

node_init org || exit 1
community_found org || exit 1
DIR=$(node_dir org)
ELSE=$ROOT/elsewhere
mkdir -m 700 "$ELSE"

# refused DESC WANT CMD...: CMD fails, and its stderr names WANT.
refused() {
    local desc=$1 want=$2 rc
    shift 2
    "$@" >"$ROOT/.out" 2>"$ROOT/.err"
    rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$want" "$ROOT/.err"; then
        pass "$desc"
    else
        fail "$desc" "exit $rc" "stderr: $(head -c 400 "$ROOT/.err")"
    fi
}

# agahd on DIR without a listener; returns when it exits (it must not run
# long: every case here is refused at start).
agahd_on() { timeout $((20 * TIME_SCALE)) "$AGAHD" --data "$1" --listen none; }

# --- identity.key ---
mv "$DIR/identity.key" "$ELSE/identity.key"
ln -s "$ELSE/identity.key" "$DIR/identity.key"
refused "agah id refuses an identity.key that is a symbolic link" "symbolic link" \
    "$AGAH" --data "$DIR" id
refused "agahd refuses an identity.key that is a symbolic link" "symbolic link" \
    agahd_on "$DIR"
rm "$DIR/identity.key"
mv "$ELSE/identity.key" "$DIR/identity.key"

# --- agahd.lock ---
rm -f "$DIR/agahd.lock"
ln -s "$ELSE/planted.lock" "$DIR/agahd.lock"
refused "agahd refuses an agahd.lock that is a symbolic link" "symbolic link" agahd_on "$DIR"
if [ -e "$ELSE/planted.lock" ]; then
    fail "a planted agahd.lock link is not followed" "agahd created $ELSE/planted.lock"
else
    pass "a planted agahd.lock link is not followed"
fi
rm "$DIR/agahd.lock"

# --- the data directory itself ---
ln -s "$DIR" "$ROOT/link"
refused "agah id refuses a data directory that is a symbolic link" "symbolic link" \
    "$AGAH" --data "$ROOT/link" id
refused "agahd refuses a data directory that is a symbolic link" "symbolic link" \
    agahd_on "$ROOT/link"

# --- the community file: agah writes it atomically; never through a link ---
mv "$DIR/community" "$ELSE/community"
ln -s "$ELSE/community" "$DIR/community"
sum=$(sha256sum <"$ELSE/community")
refused "agahd refuses a community file that is a symbolic link" "symbolic link" \
    agahd_on "$DIR"
if [ "$(sha256sum <"$ELSE/community")" = "$sum" ] && [ -L "$DIR/community" ]; then
    pass "the community file's link target is untouched"
else
    fail "the community file's link target is untouched"
fi
rm "$DIR/community"
mv "$ELSE/community" "$DIR/community"

# --- store.db: start once for a real store, then swap in links ---
p=$(free_port)
start_daemon org "$p" || exit 1
stop_daemon org || fail "agahd stops cleanly" "exit $?"
[ -f "$DIR/store.db" ] || { fail "agahd made store.db"; finish; }
mv "$DIR/store.db" "$ELSE/store.db"
rm -f "$DIR/store.db-wal" "$DIR/store.db-shm"
ln -s "$ELSE/store.db" "$DIR/store.db"
sum=$(sha256sum <"$ELSE/store.db")
refused "agahd refuses a store.db that is a symbolic link" "refusing $DIR/store.db" \
    agahd_on "$DIR"
if [ "$(sha256sum <"$ELSE/store.db")" = "$sum" ] && [ ! -e "$ELSE/store.db-wal" ]; then
    pass "the store.db link target is neither written nor given a WAL"
else
    fail "the store.db link target is neither written nor given a WAL" \
        "$(ls -la "$ELSE")"
fi
refused "agahd check refuses a store.db that is a symbolic link" "refusing $DIR/store.db" \
    timeout $((20 * TIME_SCALE)) "$AGAHD" --check --data "$DIR"
rm "$DIR/store.db"
ln -s "$ELSE/planted.db" "$DIR/store.db"
refused "agahd refuses a store.db linked to a path that does not exist yet" \
    "refusing $DIR/store.db" agahd_on "$DIR"
if [ ! -e "$ELSE/planted.db" ]; then
    pass "no store is created at the link's target"
else
    fail "no store is created at the link's target"
fi
rm "$DIR/store.db"
mv "$ELSE/store.db" "$DIR/store.db"

# --- store.db-wal ---
: >"$ELSE/victim"
chmod 644 "$ELSE/victim"
ln -s "$ELSE/victim" "$DIR/store.db-wal"
refused "agahd refuses a store.db-wal that is a symbolic link" "refusing $DIR/store.db-wal" \
    agahd_on "$DIR"
if [ ! -s "$ELSE/victim" ] && [ "$(stat -c %a "$ELSE/victim")" = 644 ]; then
    pass "the WAL link's target is neither written nor chmod'ed"
else
    fail "the WAL link's target is neither written nor chmod'ed" "$(ls -la "$ELSE")"
fi
rm "$DIR/store.db-wal"

# Everything back in place: the node starts as before.
start_daemon org "$p" || exit 1
run org status
expect_rc "with the links gone, agahd starts and answers" 0
stop_all_ok org
finish
