#ifndef CLMDB_SHIM_H
#define CLMDB_SHIM_H
// LMDB's API imports into Swift as it is (its flags and error codes are plain integer macros), so no
// clmdb_* helpers are needed yet. Add one here only for what Swift cannot express: a function-like
// macro, a variadic, or a handle cast.
#include <lmdb.h>
#endif
