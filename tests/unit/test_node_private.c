/* Unit tests of daemon/node/ (see test_node.c): what a data directory
 * keeps on disk: no note, target, name or reason a relay could read, and a
 * data directory of an older agah migrated to the sealed layout. */
#define _GNU_SOURCE /* mkdtemp, nftw, memmem */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include <sodium.h>
#include <agah/agah.h>
#include "alerts.h"
#include "node.h"

#include "check.h"
#include "node_fixture.h"
#include "node_helpers.h"

/* Whether a file holds a byte string. */
static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;
    int found = 0;
    if (f == NULL)
        return 0;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len)) != NULL && fread(buf, 1, (size_t)len, f) == (size_t)len)
        found = memmem(buf, (size_t)len, needle, strlen(needle)) != NULL;
    free(buf);
    fclose(f);
    return found;
}

static int dir_has(const char *dir, const char *needle)
{
    static const char *files[] = {"store.db", "store.db-wal", "store.db-shm", "community"};
    char p[600];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        (void)snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (file_has(p, needle))
            return 1;
    }
    return 0;
}

/* A relay stores and forwards but cannot read, and no store.db (the
 * relay's or a member's) ever holds the plaintext. */
static void test_relay_holds_no_plaintext(void)
{
    char da[512], dr[512], dm[512];
    struct agah_identity *fa;
    struct node *a, *r, *m;
    uint8_t x[32];
    size_t ne = 99;
    unsigned conf;
    const char *note = "Xq7 secret note \xc3\x9cr\xc3\xbcmchi";
    const char *target = "+85259998888";

    sub_dir("a", da);
    sub_dir("r", dr);
    sub_dir("m", dm);
    fa = make_founder(da, "c");
    a = open_node(da);
    struct agah_identity *rid;
    r = invite_open(a, dr, AGAH_ROLE_RELAY, "relay", &rid, &ne);
    CHECK(ne == 0);
    CHECK(node_role(r) == AGAH_ROLE_RELAY);
    m = invite_open(a, dm, AGAH_ROLE_MEMBER, "m", NULL, NULL);
    CHECK(post(a, target, note, x) == 0);
    (void)sync_into(m, a);
    CHECK(node_confirm(m, x, "Zk9 confirm note", &conf, NULL) == 0);
    (void)sync_into(r, a);
    (void)sync_into(r, m);
    CHECK(node_have(r, x) == 1);
    CHECK(count_check(r, target) == 0);
    struct node_alert *v = NULL;
    size_t cnt = 9;
    CHECK(node_list(r, 0, 1, &v, &cnt) == 0 && cnt == 0);
    free(v);
    CHECK(node_epoch_number(r) == 0);
    struct agah_alert_body body;
    body_number(&body, target, "relay post");
    CHECK(node_post(r, &body, 0, x, NULL) == AGAH_EPERM);
    /* Files on disk, WAL included, while the nodes are open and after. */
    CHECK(!dir_has(dr, note) && !dir_has(dr, target) && !dir_has(dr, "Zk9 confirm"));
    CHECK(!dir_has(da, note) && !dir_has(da, target) && !dir_has(da, "Zk9 confirm"));
    CHECK(!dir_has(dm, note) && !dir_has(dm, target));
    /* `revoke` rekeys even for a relay, which never held a key. */
    uint64_t e0 = node_epoch_number(a);
    CHECK(node_revoke(a, agah_identity_pk(rid), "", NULL) == 0);
    CHECK(node_epoch_number(a) == e0 + 1);
    agah_identity_free(rid);
    node_close(m);
    node_close(r);
    node_close(a);
    CHECK(!dir_has(dr, note) && !dir_has(dr, target));
    CHECK(!dir_has(da, note) && !dir_has(da, target));
    /* The member's index survives a restart (rebuilt from the store). */
    m = open_node(dm);
    CHECK(count_check(m, target) == 1);
    node_close(m);
    agah_identity_free(fa);
}

/* The name of pk in n's members ("" if not listed). */
static void member_name(struct node *n, const uint8_t *pk, char out[AGAH_NAME_MAX + 1])
{
    struct node_member *v = NULL;
    size_t cnt = 0;
    out[0] = '\0';
    CHECK(node_members(n, &v, &cnt) == 0);
    for (size_t i = 0; i < cnt; i++)
        if (memcmp(v[i].pk, pk, AGAH_PK_LEN) == 0)
            memcpy(out, v[i].name, AGAH_NAME_MAX + 1);
    free(v);
}

/* Record version 3: names and revocation reasons travel encrypted to
 * members. A member's node reads every name, the community's included;
 * a relay's reads none; neither's files hold one, nor the reason. */
static void test_names_private(void)
{
    char da[512], dr[512], dm[512], dg[512], nm[AGAH_NAME_MAX + 1];
    struct agah_identity *fa, *mid, *gid, *rid;
    struct node *a, *r, *m, *g;
    static const char *secret[] = {"Kq9community", "Kq9member", "Kq9relay", "Kq9gone",
                                   "Kq9reason"};

    sub_dir("a", da);
    sub_dir("r", dr);
    sub_dir("m", dm);
    sub_dir("g", dg);
    fa = make_founder(da, "Kq9community");
    a = open_node(da);
    r = invite_open(a, dr, AGAH_ROLE_RELAY, "Kq9relay", &rid, NULL);
    m = invite_open(a, dm, AGAH_ROLE_MEMBER, "Kq9member", &mid, NULL);
    g = invite_open(a, dg, AGAH_ROLE_MEMBER, "Kq9gone", &gid, NULL);
    CHECK(node_revoke(a, agah_identity_pk(gid), "Kq9reason: phone seized", NULL) == 0);
    (void)sync_into(m, a);
    (void)sync_into(r, a);
    member_name(m, agah_identity_pk(fa), nm);
    CHECK(strcmp(nm, "founder") == 0);
    member_name(m, agah_identity_pk(rid), nm);
    CHECK(strcmp(nm, "Kq9relay") == 0);
    member_name(m, agah_identity_pk(gid), nm);
    CHECK(strcmp(nm, "Kq9gone") == 0);
    member_name(m, agah_identity_pk(mid), nm);
    CHECK(strcmp(nm, "Kq9member") == 0);
    CHECK(strcmp(node_community_name(m), "Kq9community") == 0);
    member_name(r, agah_identity_pk(fa), nm);
    CHECK(nm[0] == '\0');
    member_name(r, agah_identity_pk(mid), nm);
    CHECK(nm[0] == '\0');
    CHECK(node_community_name(r)[0] == '\0');
    node_close(g);
    node_close(m);
    node_close(r);
    node_close(a);
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
        CHECK(!dir_has(dr, secret[i]));
        CHECK(!dir_has(dm, secret[i]));
        CHECK(!dir_has(da, secret[i]));
    }
    /* Reopened, the member reads the names again from its store. */
    m = open_node(dm);
    member_name(m, agah_identity_pk(rid), nm);
    CHECK(strcmp(nm, "Kq9relay") == 0);
    CHECK(strcmp(node_community_name(m), "Kq9community") == 0);
    node_close(m);
    agah_identity_free(fa);
    agah_identity_free(mid);
    agah_identity_free(gid);
    agah_identity_free(rid);
}

static void peer_seen(void *ctx, const char *addr)
{
    if (strcmp(addr, "10.1.2.3:7433") == 0)
        (*(int *)ctx)++;
}

/* A data directory of an agah before issue 23: the name in a plaintext
 * DIR/name, a store.db of schema version 2 holding the genesis record in
 * clear and a peer in its peers table. node_open seals it: the peer moves
 * to the community file, the name into store.key, and no byte of the
 * directory's files holds the community's name, the founder's or the
 * address. A sealed store whose store.key is gone is refused, not given a
 * new key. */
static void test_old_data_dir(void)
{
    char d[512], p[PATH_LEN], sql[4096];
    struct agah_identity *id;
    struct agah_local *l = NULL;
    struct agah_why why = {{0}};
    struct node *n;
    sqlite3 *db = NULL;
    int seen = 0;

    sub_dir("old", d);
    id = make_founder(d, "Oldtown Circle");
    (void)snprintf(p, sizeof p, "%s/name", d);
    CHECK(agah_file_write_atomic(p, (const uint8_t *)"Gulnara Founder", 15, 0600) == 0);
    comm_path(d, p);
    CHECK(agah_local_read(p, id, &l, &why) == 0);
    {
        const uint8_t *g = l->records[0];
        uint8_t gid[32];
        char *q = sql;
        agah_hash(g, l->record_lens[0], gid);
        q += snprintf(q, 512,
                      "PRAGMA journal_mode = WAL;"
                      "CREATE TABLE records (id BLOB NOT NULL UNIQUE, type INTEGER NOT NULL,"
                      " author BLOB NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT "
                      "NULL, ref BLOB, epoch BLOB, lookup BLOB, bytes BLOB NOT NULL);"
                      "CREATE TABLE tombstones (id BLOB PRIMARY KEY NOT NULL, until INTEGER "
                      "NOT NULL) WITHOUT ROWID;"
                      "CREATE TABLE peers (addr TEXT PRIMARY KEY NOT NULL, added INTEGER);"
                      "INSERT INTO peers VALUES ('10.1.2.3:7433', 1);"
                      "INSERT INTO records VALUES (x'");
        for (int i = 0; i < 32; i++)
            q += snprintf(q, 3, "%02x", gid[i]);
        q += snprintf(q, 64, "', 1, x'");
        for (int i = 0; i < 32; i++)
            q += snprintf(q, 3, "%02x", agah_identity_pk(id)[i]);
        q += snprintf(q, 64, "', %llu, 0, NULL, NULL, NULL, x'", (unsigned long long)clk);
        for (size_t i = 0; i < l->record_lens[0] && q < sql + sizeof sql - 64; i++)
            q += snprintf(q, 3, "%02x", g[i]);
        (void)snprintf(q, 64, "'); PRAGMA user_version = 2;");
    }
    agah_local_free(l);
    (void)snprintf(p, sizeof p, "%s/store.db", d);
    CHECK(sqlite3_open(p, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    (void)sqlite3_close(db);
    /* (The genesis names are encrypted since record version 3.) */
    (void)snprintf(p, sizeof p, "%s/name", d);
    CHECK(file_has(p, "Gulnara Founder"));
    CHECK(dir_has(d, "10.1.2.3:7433"));

    n = open_node(d);
    CHECK(node_peers_foreach(n, peer_seen, &seen) == 0 && seen == 1);
    node_close(n);
    (void)snprintf(p, sizeof p, "%s/name", d);
    CHECK(access(p, F_OK) != 0);
    CHECK(!dir_has(d, "Oldtown Circle") && !dir_has(d, "Gulnara") && !dir_has(d, "founder") &&
          !dir_has(d, "10.1.2.3"));
    (void)snprintf(p, sizeof p, "%s/store.key", d);
    CHECK(!file_has(p, "Gulnara"));
    /* Reopened: the peer is still known, from the community file alone. */
    n = open_node(d);
    seen = 0;
    CHECK(node_peers_foreach(n, peer_seen, &seen) == 0 && seen == 1);
    node_close(n);

    CHECK(unlink(p) == 0);
    n = NULL;
    CHECK(node_open(d, NULL, 0, test_clock, &n, &why) == AGAH_ECRYPTO && n == NULL);
    CHECK(strstr(why.msg, "store.key is gone") != NULL);
    CHECK(access(p, F_OK) != 0); /* no new key was made */
    agah_identity_free(id);
}

int main(void)
{
    static const struct fixture_test tests[] = {
        {"relay_holds_no_plaintext", test_relay_holds_no_plaintext},
        {"names_private", test_names_private},
        {"old_data_dir", test_old_data_dir},
    };

    return fixture_run("test_node_private", tests, sizeof tests / sizeof tests[0]);
}
