/* The protobuf encoder against hand-encoded bytes, and the ONNX exporter's
 * refusals (vggexport's end-to-end checks, onnx.checker and ONNX Runtime,
 * are in cli_export.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vgg/model.h"
#include "vgg/onnx.h"
#include "vgg/protobuf.h"
#include "vgg/rng.h"
#include "util.h"

static void test_varints_and_fields(void **state) {
    (void)state;
    vgg_pb b = {0};
    vgg_pb_int64(&b, 1, 150);        /* 08 96 01: the protobuf guide's */
    vgg_pb_string(&b, 2, "testing"); /* 12 07 t e s t i n g */
    vgg_pb_int64(&b, 3, -1);         /* 18 + ten bytes */
    vgg_pb_float(&b, 4, 1.0f);       /* 25 00 00 80 3f */
    const int64_t v[3] = {3, 270, 86942};
    vgg_pb_packed_int64(&b, 5, v, 3); /* 2a 06 03 8e 02 9e a7 05 */
    static const uint8_t want[] = {
        0x08, 0x96, 0x01, 0x12, 0x07, 't',  'e',  's',  't',  'i',  'n',  'g',
        0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x25,
        0x00, 0x00, 0x80, 0x3f, 0x2a, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05};
    assert_false(b.failed);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    vgg_pb_free(&b);
}

/* Nested messages get minimal length prefixes, at one and two bytes, and
 * marks nest. */
static void test_nested(void **state) {
    (void)state;
    vgg_pb b = {0};
    size_t outer = vgg_pb_begin(&b, 7);
    size_t inner = vgg_pb_begin(&b, 1);
    vgg_pb_int64(&b, 1, 150);
    vgg_pb_end(&b, inner);
    uint8_t big[200];
    memset(big, 0xab, sizeof big);
    vgg_pb_bytes(&b, 2, big, sizeof big);
    vgg_pb_end(&b, outer);
    assert_false(b.failed);
    /* 3a <len> 0a 03 08 96 01 12 c8 01 <200 bytes>; len = 5 + 3 + 200 */
    assert_int_equal(b.len, 1 + 2 + 5 + 3 + 200);
    static const uint8_t head[] = {0x3a, 0xd0, 0x01, 0x0a, 0x03, 0x08,
                                   0x96, 0x01, 0x12, 0xc8, 0x01};
    assert_memory_equal(b.data, head, sizeof head);
    assert_memory_equal(b.data + sizeof head, big, sizeof big);
    vgg_pb_free(&b);
}

static vgg_model *small_model(vgg_ckpt_meta *meta) {
    vgg_config cfg;
    vgg_error err = {0};
    assert_int_equal(vgg_config_parse(&cfg, "4 M 8 M", 3, &err), VGG_OK);
    vgg_model *m = NULL;
    assert_int_equal(vgg_model_create(&m, &cfg, 1, &err), VGG_OK);
    vgg_rng rng;
    vgg_rng_seed(&rng, 1, 0);
    vgg_model_init(m, &rng);
    memset(meta, 0, sizeof *meta);
    meta->cfg = cfg;
    strcpy(meta->class_names[0], "airplane");
    strcpy(meta->class_names[1], "automobile");
    strcpy(meta->class_names[2], "bird");
    return m;
}

static void test_encode(void **state) {
    (void)state;
    vgg_ckpt_meta meta;
    vgg_model *m = small_model(&meta);
    vgg_pb b;
    vgg_error err = {0};
    assert_int_equal(vgg_onnx_encode(&b, m, &meta, "m.bin", &err), VGG_OK);
    /* ir_version 8 first, then the opset import (domain "", version 13) */
    static const uint8_t head[] = {0x08, 0x08, 0x42, 0x04,
                                   0x0a, 0x00, 0x10, 0x0d};
    assert_true(b.len > (size_t)m->nparams * 4);
    assert_memory_equal(b.data, head, sizeof head);
    vgg_pb_free(&b);
    vgg_model_free(m);
}

/* A layer the graph cannot express: refused, naming the checkpoint. */
static void test_unsupported_layer(void **state) {
    (void)state;
    vgg_ckpt_meta meta;
    vgg_model *m = small_model(&meta);
    m->layers[1].kind = (vgg_layer_kind)99;
    vgg_pb b;
    vgg_error err = {0};
    assert_int_equal(vgg_onnx_encode(&b, m, &meta, "odd.bin", &err),
                     VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "odd.bin"));
    assert_non_null(strstr(err.msg, "layer 1"));
    assert_null(b.data);
    /* ... and vgg_onnx_save leaves no file */
    char path[4096];
    snprintf(path, sizeof path, "%s/odd.onnx", tu_tmpdir("onnx"));
    assert_int_equal(vgg_onnx_save(path, m, &meta, "odd.bin", &err),
                     VGG_ERR_FORMAT);
    FILE *f = fopen(path, "rb");
    assert_null(f);
    vgg_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints_and_fields),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_unsupported_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
