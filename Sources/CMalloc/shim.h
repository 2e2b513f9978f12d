#ifndef CMALLOC_SHIM_H
#define CMALLOC_SHIM_H

#include <malloc.h>

/// Gives allocations of `bytes` and more their own mappings, freed one by one, and keeps glibc from raising that
/// threshold as big blocks are freed (which it does by default). Returns 1 on success.
static inline int cmalloc_fix_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

#endif
