/* peerctl: DIR's identity, community file and admission, and the records
 * made under them (the alerts, annotate, admission and records commands),
 * and the record files the link actions send. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include <agah/agah.h>
#include <agah/datadir.h>

#include "peerctl.h"

/* The identity (tests use --no-passphrase ones) and the community file of
 * DIR, and this member's admission record (the founder's genesis record). */
void me_load(const char *dir, struct me *m)
{
    char path[AGAH_PATH_MAX];
    struct agah_why why = {{0}};
    int r;

    memset(m, 0, sizeof *m);
    if ((r = agah_init()) != 0)
        die("agah_init", r);
    if ((r = agah_datadir_path(dir, "identity.key", path)) != 0 ||
        (r = agah_keyfile_read(path, NULL, 0, &m->id, &why)) != 0)
        die(why.msg[0] ? why.msg : "identity.key", r);
    if ((r = agah_datadir_path(dir, "community", path)) != 0 ||
        (r = agah_local_read(path, m->id, &m->local, &why)) != 0)
        die(why.msg[0] ? why.msg : "community", r);
    for (size_t i = 0; i < m->local->n_records; i++) {
        struct agah_rec rec;

        if (agah_rec_decode(m->local->records[i], m->local->record_lens[i], NULL, &rec, NULL) != 0)
            continue;
        if ((rec.type == AGAH_REC_ADMISSION &&
             memcmp(rec.u.admission.member, agah_identity_pk(m->id), AGAH_PK_LEN) == 0) ||
            (rec.type == AGAH_REC_GENESIS && m->adm == NULL &&
             memcmp(rec.author, agah_identity_pk(m->id), AGAH_PK_LEN) == 0)) {
            m->adm = m->local->records[i];
            m->adm_len = m->local->record_lens[i];
        }
    }
    if (m->adm == NULL)
        die("no admission record in the community file", AGAH_ENOENT);
}

void me_free(struct me *m)
{
    agah_local_free(m->local);
    agah_identity_free(m->id);
}

void print_rec(const uint8_t *buf, size_t len)
{
    uint8_t id[AGAH_HASH_LEN];
    char *hex = malloc(2 * len + 1);
    char idhex[2 * AGAH_HASH_LEN + 1];

    if (hex == NULL)
        die("out of memory", AGAH_ENOMEM);
    agah_hash(buf, len, id);
    sodium_bin2hex(idhex, sizeof idhex, id, sizeof id);
    sodium_bin2hex(hex, 2 * len + 1, buf, len);
    printf("%s %s\n", idhex, hex);
    free(hex);
}

void rec_opts_parse(int argc, char **argv, int i, struct rec_opts *o)
{
    memset(o, 0, sizeof *o);
    for (; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--created") == 0)
            o->created = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--epoch") == 0)
            o->epoch = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--number") == 0)
            o->number = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--count") == 0)
            o->count = strtol(argv[++i], NULL, 10);
        else {
            (void)fprintf(stderr, "peerctl: unknown option %s\n", argv[i]);
            exit(2);
        }
    }
    if (o->created == 0)
        o->created = (uint64_t)time(NULL);
    if (o->count <= 0)
        o->count = 1;
}

/* The epoch key to seal under: the one named (which the community file
 * must hold), else the one added last (without revocations, the newest,
 * which agahd posts under too). */
void me_epoch(const struct me *m, const char *want_hex, const uint8_t **eid,
              const uint8_t **key)
{
    uint8_t want[AGAH_HASH_LEN];
    size_t wl = 0;

    if (m->local->n_epochs == 0)
        die("no epoch key (a relay?)", AGAH_ENOENT);
    if (want_hex == NULL) {
        *eid = m->local->epochs[m->local->n_epochs - 1].id;
        *key = m->local->epochs[m->local->n_epochs - 1].key;
        return;
    }
    if (sodium_hex2bin(want, sizeof want, want_hex, strlen(want_hex), NULL, &wl, NULL) != 0 ||
        wl != sizeof want)
        die("--epoch is not 64 hex digits", AGAH_EINVAL);
    for (size_t i = 0; i < m->local->n_epochs; i++)
        if (memcmp(m->local->epochs[i].id, want, sizeof want) == 0) {
            *eid = m->local->epochs[i].id;
            *key = m->local->epochs[i].key;
            return;
        }
    die("the community file does not hold that epoch's key", AGAH_ENOENT);
}

int cmd_alerts(const char *dir, long n, long note_bytes, const struct rec_opts *o)
{
    struct me m;
    const uint8_t *eid, *key;
    struct agah_alert_body body;
    uint64_t now = o->created;

    me_load(dir, &m);
    me_epoch(&m, o->epoch, &eid, &key);
    if (o->number != NULL && (strlen(o->number) < 2 || strlen(o->number) >= AGAH_TARGET_MAX))
        die("--number: a normalised number such as +85251234567", AGAH_EINVAL);
    if (note_bytes < 16 || note_bytes > AGAH_NOTE_MAX)
        die("note size out of 16..2048", AGAH_EINVAL);
    for (long i = 0; i < n; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        memset(&body, 0, sizeof body);
        body.kind = AGAH_KIND_ALERT;
        if (o->number != NULL) {
            body.kind = AGAH_KIND_NUMBER;
            (void)snprintf(body.target, sizeof body.target, "%s", o->number);
        }
        body.category = AGAH_CAT_OTHER;
        body.severity = AGAH_SEV_INFO;
        memset(body.note, 'x', (size_t)note_bytes);
        (void)snprintf(body.note, sizeof body.note, "peerctl %ld %lu ", i, (unsigned long)now);
        body.note[strlen(body.note)] = 'x';
        body.note[note_bytes] = '\0';
        if ((r = agah_rec_alert(m.id, m.local->community, eid, key, &body, now, 0, &buf, &len)) != 0)
            die("agah_rec_alert", r);
        print_rec(buf, len);
        free(buf);
    }
    me_free(&m);
    return 0;
}

int cmd_annotate(const char *dir, const char *kind, const char *ref_hex,
                 const struct rec_opts *o)
{
    struct me m;
    const uint8_t *eid, *key;
    uint8_t ref[AGAH_HASH_LEN], *buf = NULL;
    size_t len = 0, rl = 0;
    int type = strcmp(kind, "retract") == 0 ? AGAH_REC_RETRACT : AGAH_REC_CONFIRM;
    int r;

    me_load(dir, &m);
    me_epoch(&m, o->epoch, &eid, &key);
    if (sodium_hex2bin(ref, sizeof ref, ref_hex, strlen(ref_hex), NULL, &rl, NULL) != 0 ||
        rl != sizeof ref)
        die("ALERT_ID is not 64 hex digits", AGAH_EINVAL);
    for (long i = 0; i < o->count; i++) {
        if ((r = agah_rec_annotate(m.id, type, m.local->community, ref, eid, key, "peerctl",
                                   o->created, &buf, &len)) != 0)
            die("agah_rec_annotate", r);
        print_rec(buf, len);
        free(buf);
        buf = NULL;
    }
    me_free(&m);
    return 0;
}

/* FILE's records: lines "ID HEX" (or just "HEX"). */
uint8_t **read_records(const char *file, size_t **lens, size_t *count)
{
    FILE *f = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0, n = 0, alloc = 0;
    uint8_t **recs = NULL;
    ssize_t got;

    if (f == NULL)
        die(file, 0);
    *lens = NULL;
    while ((got = getline(&line, &cap, f)) > 0) {
        char *hex = strchr(line, ' ');
        size_t hl, bl = 0;

        hex = hex != NULL ? hex + 1 : line;
        hl = strcspn(hex, "\r\n");
        if (hl == 0)
            continue;
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 64;
            recs = realloc(recs, alloc * sizeof *recs);
            *lens = realloc(*lens, alloc * sizeof **lens);
            if (recs == NULL || *lens == NULL)
                die("out of memory", AGAH_ENOMEM);
        }
        if ((recs[n] = malloc(hl / 2 + 1)) == NULL)
            die("out of memory", AGAH_ENOMEM);
        if (sodium_hex2bin(recs[n], hl / 2 + 1, hex, hl, NULL, &bl, NULL) != 0 || bl == 0)
            die("a record line is not hex", AGAH_EINVAL);
        (*lens)[n++] = bl;
    }
    free(line);
    fclose(f);
    *count = n;
    return recs;
}
