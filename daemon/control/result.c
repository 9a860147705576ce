/* The result shapes of CONTRACT.md, packed: a growing response buffer
 * (struct control_out) that msgpack writes into directly, small helpers
 * that record the first failure so a handler packs a whole result without
 * a branch per field, and the ALERT and `members` entries several commands
 * answer with. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "control_int.h"

static int co_write(void *data, const char *buf, size_t len)
{
    struct control_out *o = data;

    if (o->err != 0)
        return -1;
    if (len > AGAH_CTL_RESP_MAX - o->len) {
        o->err = AGAH_ETOOBIG;
        return -1;
    }
    if (len > o->cap - o->len) {
        size_t cap = o->cap < 256 ? 256 : o->cap;
        while (cap - o->len < len)
            cap *= 2;
        if (cap > AGAH_CTL_RESP_MAX)
            cap = AGAH_CTL_RESP_MAX;
        struct wreq *w = realloc(o->w, sizeof *w + 4 + cap);
        if (w == NULL) {
            o->err = AGAH_ENOMEM;
            return -1;
        }
        o->w = w;
        o->cap = cap;
    }
    memcpy(o->w->data + 4 + o->len, buf, len);
    o->len += len;
    return 0;
}

void co_init(struct control_out *o)
{
    memset(o, 0, sizeof *o);
    msgpack_packer_init(&o->pk, o, co_write);
}

void co_free(struct control_out *o)
{
    free(o->w);
    o->w = NULL;
}

/* Each helper records the first failure in o->err; the sender checks it
 * once, so a handler can pack a whole result without a branch per field. */
void co_check(struct control_out *o, int r)
{
    if (r != 0 && o->err == 0)
        o->err = AGAH_ENOMEM;
}
void co_map(struct control_out *o, size_t n)
{
    co_check(o, n > UINT32_MAX ? -1 : msgpack_pack_map(&o->pk, (uint32_t)n));
}
void co_array(struct control_out *o, size_t n)
{
    co_check(o, n > UINT32_MAX ? -1 : msgpack_pack_array(&o->pk, n));
}
void co_strn(struct control_out *o, const char *s, size_t n)
{
    co_check(o, msgpack_pack_str(&o->pk, n));
    co_check(o, msgpack_pack_str_body(&o->pk, s, n));
}
void co_str(struct control_out *o, const char *s)
{
    co_strn(o, s, strlen(s));
}
void co_uint(struct control_out *o, uint64_t v)
{
    co_check(o, msgpack_pack_uint64(&o->pk, v));
}
void co_bool(struct control_out *o, int v)
{
    co_check(o, v ? msgpack_pack_true(&o->pk) : msgpack_pack_false(&o->pk));
}
void co_nil(struct control_out *o)
{
    co_check(o, msgpack_pack_nil(&o->pk));
}
void co_kstr(struct control_out *o, const char *k, const char *v)
{
    co_str(o, k);
    co_str(o, v);
}
void co_kuint(struct control_out *o, const char *k, uint64_t v)
{
    co_str(o, k);
    co_uint(o, v);
}

/* "name" of an enum, or "unknown" so a response never carries NULL. */
const char *control__nz(const char *s) { return s != NULL ? s : "unknown"; }

static const char *status_name(int st)
{
    switch (st) {
    case NODE_ACTIVE: return "active";
    case NODE_RETRACTED: return "retracted";
    case NODE_EXPIRED: return "expired";
    default: return "unknown";
    }
}

/* An ALERT as CONTRACT.md shapes it. */
void co_alert(struct control_out *o, const struct node_alert *a)
{
    char hex[2 * AGAH_HASH_LEN + 1], author[AGAH_IDSTR_SIZE];

    (void)sodium_bin2hex(hex, sizeof hex, a->id, AGAH_HASH_LEN);
    agah_id_encode(AGAH_IDPFX_MEMBER, a->author, author);
    co_map(o, 15);
    co_kstr(o, "id", hex);
    co_kstr(o, "kind", control__nz(agah_kind_name(a->body.kind)));
    co_str(o, "target");
    if (a->body.kind == AGAH_KIND_ALERT)
        co_nil(o);
    else
        co_str(o, a->body.target);
    co_kstr(o, "category", control__nz(agah_category_name(a->body.category)));
    co_kstr(o, "note", a->body.note);
    co_kstr(o, "severity", control__nz(agah_severity_name(a->body.severity)));
    co_kstr(o, "author", author);
    co_kstr(o, "author_name", a->author_name);
    co_kuint(o, "created", a->created);
    co_kuint(o, "expires", a->expires);
    co_kstr(o, "status", status_name(a->status));
    co_kuint(o, "confirmations", a->confirmations);
    /* What the reader needs to weigh an alert: an informant's alerts stay
     * listed after the revocation, marked; a retraction says by whom. */
    co_str(o, "author_revoked");
    co_bool(o, a->author_revoked);
    co_str(o, "retracted_by");
    if (a->has_retractor) {
        char rid[AGAH_IDSTR_SIZE];
        agah_id_encode(AGAH_IDPFX_MEMBER, a->retracted_by, rid);
        co_str(o, rid);
        co_kstr(o, "retracted_by_name", a->retracted_by_name);
    } else {
        co_nil(o);
        co_str(o, "retracted_by_name");
        co_nil(o);
    }
}

/* A `members` entry: who admitted whom, and when (the founder was admitted
 * by no one, at the founding). */
void co_member(struct control_out *o, const struct node_member *m)
{
    char mid[AGAH_IDSTR_SIZE];

    agah_id_encode(AGAH_IDPFX_MEMBER, m->pk, mid);
    co_map(o, 7);
    co_kstr(o, "member_id", mid);
    co_kstr(o, "name", m->name);
    co_kstr(o, "role", control__nz(agah_role_name(m->role)));
    co_kstr(o, "status", m->revoked ? "revoked" : "active");
    co_str(o, "admitted_by");
    if (m->has_admitter) {
        agah_id_encode(AGAH_IDPFX_MEMBER, m->admitted_by, mid);
        co_str(o, mid);
    } else {
        co_nil(o);
    }
    co_kuint(o, "admitted", m->admitted);
    /* 0 once its node has linked with an organiser's; else when the
     * invitation lapses. */
    co_kuint(o, "invited_until", m->invited_until);
}

/* Copies what o packed out for the unit test. */
static int co_take(struct control_out *o, uint8_t **buf, size_t *len)
{
    int r = o->err;

    if (r == 0 && (*buf = malloc(o->len > 0 ? o->len : 1)) == NULL)
        r = AGAH_ENOMEM;
    if (r == 0) {
        memcpy(*buf, o->w->data + 4, o->len);
        *len = o->len;
    }
    co_free(o);
    return r;
}

int control__pack_alerts(const struct node_alert *a, size_t n, uint8_t **buf, size_t *len)
{
    struct control_out o;

    co_init(&o);
    co_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        co_alert(&o, &a[i]);
    return co_take(&o, buf, len);
}

int control__pack_members(const struct node_member *m, size_t n, uint8_t **buf, size_t *len)
{
    struct control_out o;

    co_init(&o);
    co_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        co_member(&o, &m[i]);
    return co_take(&o, buf, len);
}

/* The start of a response, {"v":1,"ok":true,"result" (or "event"), from
 * the schema; the caller packs the value next. */
void co_head(struct control_out *o, int event)
{
    uint8_t head[AGAH_CTL_RESP_HEAD_MAX];
    size_t n = agah_ctl_resp_head(event, head);

    if (o->err == 0 && co_write(o, (const char *)head, n) != 0 && o->err == 0)
        o->err = AGAH_ENOMEM;
}

void co_ok(struct control_out *o)
{
    co_head(o, 0);
}
