/* Error codes and their messages: the one error type of the project. */
#include <stdarg.h>
#include <stdio.h>
#include <agah/error.h>

const char *agah_strerror(int code)
{
    switch (code) {
    case AGAH_OK: return "success";
    case AGAH_EINVAL: return "invalid argument";
    case AGAH_ENOMEM: return "out of memory";
    case AGAH_EIO: return "input/output error";
    case AGAH_ETRUNC: return "input is truncated";
    case AGAH_ETOOBIG: return "a length or count exceeds its limit";
    case AGAH_ETYPE: return "a field has the wrong type or size";
    case AGAH_EFIELDS: return "wrong, unknown or duplicate fields";
    case AGAH_EVERSION: return "unknown version or type";
    case AGAH_ETRAILING: return "trailing bytes after the object";
    case AGAH_ENONCANON: return "not in canonical encoding";
    case AGAH_ESIG: return "bad signature";
    case AGAH_ECOMMUNITY: return "belongs to another community";
    case AGAH_ECRYPTO: return "decryption failed";
    case AGAH_EPASS: return "wrong passphrase";
    case AGAH_ECHECKSUM: return "checksum mismatch (a typo?)";
    case AGAH_ENUMBER: return "not a phone number";
    case AGAH_EACCOUNT: return "not a valid account";
    case AGAH_EREGION: return "national number needs a region";
    case AGAH_EPERM: return "permission denied";
    case AGAH_EEXIST: return "already exists";
    case AGAH_ENOENT: return "not found";
    case AGAH_EEXPIRED: return "expired";
    case AGAH_EVALUE: return "value out of range";
    case AGAH_EINTERNAL: return "internal error";
    case AGAH_ENOSPC: return "no space left on the device";
    case AGAH_EQUOTA: return "over the author's quota of posts";
    default: return "unknown error";
    }
}

int agah_fail(struct agah_why *why, int code, const char *fmt, ...)
{
    if (why != NULL) {
        va_list ap;
        va_start(ap, fmt);
        /* Truncation of a diagnostic is harmless; the code carries the meaning. */
        (void)vsnprintf(why->msg, sizeof why->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
