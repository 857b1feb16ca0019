/* See alloc.h. The counter is atomic: the GEMM's threads and the caller's
 * may allocate at once. */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

static atomic_long made;    /* allocations since vgg_alloc_fail_at */
static atomic_long fail_at; /* 0: none fails */
static atomic_int fail_sticky;

/* 1 when this allocation is to fail. */
static int failing(void) {
    const long k = atomic_fetch_add(&made, 1) + 1, at = atomic_load(&fail_at);
    return at > 0 && (k == at || (k > at && atomic_load(&fail_sticky)));
}

void *vgg_malloc(size_t n) { return failing() ? NULL : malloc(n); }

void *vgg_calloc(size_t n, size_t size) {
    return failing() ? NULL : calloc(n, size);
}

void *vgg_realloc(void *p, size_t n) {
    return failing() ? NULL : realloc(p, n);
}

void *vgg_aligned_alloc(size_t align, size_t n) {
    return failing() ? NULL : aligned_alloc(align, n);
}

long vgg_alloc_fail_at(long nth, int sticky) {
    atomic_store(&fail_at, nth > 0 ? nth : 0);
    atomic_store(&fail_sticky, sticky != 0);
    return atomic_exchange(&made, 0);
}
