/* One error type for the whole project: functions return 0 or a negative
 * AGAH_E* code; agah_strerror() names it. Decoders of untrusted input also
 * fill a struct agah_why (when non-NULL) with a sentence saying what exactly
 * was wrong, e.g. "field 4 (author): expected bin of 32 bytes, got str". */
#ifndef AGAH_ERROR_H
#define AGAH_ERROR_H

#include <stddef.h>

enum {
    AGAH_OK = 0,
    AGAH_EINVAL = -1,      /* bad argument from the caller */
    AGAH_ENOMEM = -2,      /* allocation failed */
    AGAH_EIO = -3,         /* file or socket I/O failed (errno kept) */
    AGAH_ETRUNC = -4,      /* input ends early */
    AGAH_ETOOBIG = -5,     /* a length or count exceeds its bound */
    AGAH_ETYPE = -6,       /* wrong msgpack type or size for a field */
    AGAH_EFIELDS = -7,     /* wrong number of fields, unknown or duplicate key */
    AGAH_EVERSION = -8,    /* unknown format version or record type */
    AGAH_ETRAILING = -9,   /* bytes left after a complete object */
    AGAH_ENONCANON = -10,  /* msgpack value not in its shortest encoding */
    AGAH_ESIG = -11,       /* signature does not verify */
    AGAH_ECOMMUNITY = -12, /* record belongs to another community */
    AGAH_ECRYPTO = -13,    /* decryption or authentication failed */
    AGAH_EPASS = -14,      /* wrong passphrase */
    AGAH_ECHECKSUM = -15,  /* printable id or code has a typo */
    AGAH_ENUMBER = -16,    /* not a phone number */
    AGAH_EACCOUNT = -17,   /* not a valid service:handle */
    AGAH_EREGION = -18,    /* national number given without a region */
    AGAH_EPERM = -19,      /* the author may not sign this (role, revoked) */
    AGAH_EEXIST = -20,     /* already exists */
    AGAH_ENOENT = -21,     /* not found */
    AGAH_EEXPIRED = -22,   /* expired (join code, admission, record) */
    AGAH_EVALUE = -23,     /* a field's value is out of its range */
    AGAH_EINTERNAL = -24,  /* a bug or an unexpected library failure */
    AGAH_ENOSPC = -25,     /* the disk is full: nothing was written */
    AGAH_EQUOTA = -26,     /* over the author's quota of posts */
};

#define AGAH_WHY_MAX 256

/* Optional detail for an error, written by decoders. */
struct agah_why {
    char msg[AGAH_WHY_MAX];
};

/* A short, static English description of an AGAH_E* code. */
const char *agah_strerror(int code);

/* Sets why->msg (if why != NULL) with printf formatting and returns code,
 * so a decoder can write `return agah_fail(why, AGAH_ETYPE, "...", ...)`. */
int agah_fail(struct agah_why *why, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
