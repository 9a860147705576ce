/* The agah protocol library: include this for the public API. It pulls in
 * no third-party header: <agah/mp.h>, the msgpack-c guards that agah's own
 * decoders use, includes <msgpack.h> and is included only where needed.
 *
 * Which parts touch files: keyfile.h (identity.key, atomic writes),
 * datadir.h (the data directory's ownership and paths, included apart),
 * local.h (the community file), storekey.h (store.key) and harden.h
 * (process limits, included apart). The rest (addr, array, error, ident,
 * keys, record, joincode, mp) is codec and cryptography only: no I/O. */
#ifndef AGAH_AGAH_H
#define AGAH_AGAH_H
#include "error.h"
#include "addr.h"
#include "array.h"
#include "utf8.h"
#include "ident.h"
#include "keys.h"
#include "keyfile.h"
#include "record.h"
#include "joincode.h"
#include "local.h"
#include "storekey.h"
#define AGAH_VERSION_STRING "0.1.0"
#endif
