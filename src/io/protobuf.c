#include "vgg/protobuf.h"

#include <stdlib.h>
#include <string.h>

#define LEN_RESERVE 5 /* a varint of up to 35 bits */

void vgg_pb_free(vgg_pb *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int reserve(vgg_pb *b, size_t n) {
    if (b->failed) return 0;
    if (b->cap - b->len >= n) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_varint(vgg_pb *b, uint64_t v) {
    if (!reserve(b, 10)) return;
    while (v >= 0x80) {
        b->data[b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->data[b->len++] = (uint8_t)v;
}

static void put_tag(vgg_pb *b, int field, int wire) {
    put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void vgg_pb_int64(vgg_pb *b, int field, int64_t v) {
    put_tag(b, field, 0);
    put_varint(b, (uint64_t)v);
}

void vgg_pb_float(vgg_pb *b, int field, float v) {
    put_tag(b, field, 5);
    uint32_t u;
    memcpy(&u, &v, 4);
    if (!reserve(b, 4)) return;
    for (int i = 0; i < 4; i++) b->data[b->len++] = (uint8_t)(u >> (8 * i));
}

void vgg_pb_bytes(vgg_pb *b, int field, const void *data, size_t n) {
    put_tag(b, field, 2);
    put_varint(b, n);
    if (!reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
}

void vgg_pb_string(vgg_pb *b, int field, const char *s) {
    vgg_pb_bytes(b, field, s, strlen(s));
}

void vgg_pb_packed_int64(vgg_pb *b, int field, const int64_t *v, size_t n) {
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) bytes += varint_size((uint64_t)v[i]);
    put_tag(b, field, 2);
    put_varint(b, bytes);
    for (size_t i = 0; i < n; i++) put_varint(b, (uint64_t)v[i]);
}

size_t vgg_pb_begin(vgg_pb *b, int field) {
    put_tag(b, field, 2);
    if (!reserve(b, LEN_RESERVE)) return 0;
    b->len += LEN_RESERVE;
    return b->len; /* the body starts here */
}

void vgg_pb_end(vgg_pb *b, size_t mark) {
    if (b->failed) return;
    size_t body = b->len - mark;
    if ((uint64_t)body >> 35) { /* beyond the reserved prefix */
        b->failed = 1;
        return;
    }
    size_t k = varint_size(body);
    uint8_t *prefix = b->data + mark - LEN_RESERVE;
    memmove(prefix + k, b->data + mark, body);
    uint64_t v = body;
    for (size_t i = 0; i < k; i++, v >>= 7)
        prefix[i] = (uint8_t)((v & 0x7f) | (i + 1 < k ? 0x80 : 0));
    b->len -= LEN_RESERVE - k;
}
