/* The agah protocol library: include this for everything. */
#ifndef AGAH_AGAH_H
#define AGAH_AGAH_H
#include "error.h"
#include "addr.h"
#include "array.h"
#include "ident.h"
#include "keys.h"
#include "mp.h"
#include "record.h"
#include "joincode.h"
#include "local.h"
#include "storekey.h"
#define AGAH_VERSION_STRING "0.1.0"
#endif
