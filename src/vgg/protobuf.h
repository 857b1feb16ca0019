/* A small Protocol Buffers encoder (proto2/proto3 wire format), enough to
 * write ONNX models (src/io/onnx.c): varints, 32-bit floats, strings and
 * bytes, packed repeated int64, and nested messages written in place.
 *
 *   vgg_pb b = {0};
 *   vgg_pb_int64(&b, 1, 8);                 field 1 = 8 (varint)
 *   size_t g = vgg_pb_begin(&b, 7);         field 7 = a message...
 *   vgg_pb_string(&b, 2, "main");
 *   vgg_pb_end(&b, g);                      ...whose length is filled here
 *   if (b.failed) ... out of memory
 *   use b.data[0..b.len); vgg_pb_free(&b);
 *
 * A nested message reserves the largest length prefix (5 bytes, up to
 * 32 GiB) and vgg_pb_end moves its body back over the unused bytes, so the
 * output is canonical (minimal varints) without encoding anything twice.
 * A failed allocation sets `failed` and makes every later call a no-op. */
#ifndef VGG_PROTOBUF_H
#define VGG_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct vgg_pb {
    uint8_t *data;
    size_t len, cap;
    int failed;
} vgg_pb;

void vgg_pb_free(vgg_pb *b);
/* Wire type 0: int32, int64, enum, bool (negative values as 10 bytes). */
void vgg_pb_int64(vgg_pb *b, int field, int64_t v);
/* Wire type 5: float. */
void vgg_pb_float(vgg_pb *b, int field, float v);
/* Wire type 2: bytes and strings (s without its NUL). */
void vgg_pb_bytes(vgg_pb *b, int field, const void *data, size_t n);
void vgg_pb_string(vgg_pb *b, int field, const char *s);
/* Wire type 2: n int64 values packed (repeated int64 in proto3). */
void vgg_pb_packed_int64(vgg_pb *b, int field, const int64_t *v, size_t n);
/* A nested message: begin returns a mark for end. Marks nest. */
size_t vgg_pb_begin(vgg_pb *b, int field);
void vgg_pb_end(vgg_pb *b, size_t mark);

#endif
