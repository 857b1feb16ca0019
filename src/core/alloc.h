/* The library's allocations go through these (private to the library), so
 * that a test can make each of them fail in turn, the way SQLite tests its
 * out-of-memory paths (tests/test_alloc.c). Free with free(). */
#ifndef VGG_CORE_ALLOC_H
#define VGG_CORE_ALLOC_H

#include <stddef.h>

void *vgg_malloc(size_t n);
void *vgg_calloc(size_t n, size_t size);
void *vgg_realloc(void *p, size_t n);
void *vgg_aligned_alloc(size_t align, size_t n);

/* Test hook: the allocation `nth` from now (1: the next) fails, and so do
 * all after it when `sticky`; 0 switches failures off. Returns the number
 * of allocations made since the last call (counting failed ones). */
long vgg_alloc_fail_at(long nth, int sticky);

#endif
