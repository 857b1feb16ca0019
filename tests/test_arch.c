/* The configurations: the paper's tables by name, the table syntax with
 * 1x1 layers, the head, and the one walk over a table (names, shapes,
 * sizes) that the model, the checkpoint and the benchmark share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vgg/model.h"

static vgg_config parse(const char *spec, const char *head) {
    vgg_config c;
    vgg_error err = {0};
    if (vgg_config_parse(&c, spec, 3, &err) ||
        (head && vgg_config_set_head(&c, head, &err)))
        fail_msg("%s: %s", spec, err.msg);
    return c;
}

static int convs(const vgg_config *c) {
    int n = 0;
    for (int i = 0; i < c->nlayers; i++) n += c->layers[i] != VGG_POOL;
    return n;
}

/* Weight layers: 11, 13, 16, 16, 19 as the paper counts them (convs plus
 * its three fully connected layers). */
static void test_named(void **state) {
    (void)state;
    const char *names[] = {"vgg11", "vgg13", "vgg16", "vgg16c", "vgg19"};
    const int weight_layers[] = {11, 13, 16, 16, 19};
    for (int i = 0; i < 5; i++) {
        vgg_config c = parse(names[i], NULL);
        assert_int_equal(convs(&c) + 3, weight_layers[i]);
        assert_int_equal(c.no_bn, 0);
        assert_string_equal(vgg_config_name(&c), names[i]);
        char nobn[40];
        snprintf(nobn, sizeof nobn, "%s-nobn", names[i]);
        c = parse(nobn, NULL);
        assert_int_equal(c.no_bn, 1);
        assert_string_equal(vgg_config_name(&c), nobn);
    }
    /* widths divided */
    vgg_config q = parse("vgg16c-nobn/8", NULL);
    assert_int_equal(q.no_bn, 1);
    char t8[256];
    vgg_config_format(t8, sizeof t8, &q);
    assert_string_equal(t8, "8 8 M 16 16 M 32 32 32:1 M 64 64 64:1 M 64 64 "
                            "64:1 M");
    vgg_config d = parse("vgg16", NULL), v = vgg_config_vgg16(3);
    assert_true(vgg_config_equal(&d, &v));
    vgg_config c = parse("vgg16c", NULL);
    char buf[256];
    vgg_config_format(buf, sizeof buf, &c);
    assert_string_equal(buf, "64 64 M 128 128 M 256 256 256:1 M 512 512 "
                             "512:1 M 512 512 512:1 M");
    vgg_config back = parse(buf, NULL);
    assert_true(vgg_config_equal(&back, &c));
    assert_false(vgg_config_equal(&back, &d));
    assert_null(vgg_config_name(&(vgg_config){0}));
}

static void test_syntax_errors(void **state) {
    (void)state;
    vgg_config c;
    vgg_error err = {0};
    const char *bad[] = {"64:2 M",   "64: M",    "64:1x M",  "vgg17",
                         "vgg16-bn", "Mx",       "0",        "",
                         "vgg16/0",  "vgg16/65", "vgg16/8x", "vgg16/8-nobn"};
    for (int i = 0; i < 12; i++) {
        assert_int_equal(vgg_config_parse(&c, bad[i], 3, &err), VGG_ERR_ARG);
        assert_non_null(strstr(err.msg, bad[i]));
    }
    c = parse("8 M", NULL);
    const char *heads[] = {"fc", "fc:", "fc:0", "fc:12x", "fc:99999", "mlp"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(vgg_config_set_head(&c, heads[i], &err), VGG_ERR_ARG);
        assert_non_null(strstr(err.msg, heads[i]));
    }
    assert_int_equal(vgg_config_set_head(&c, "fc:4096", &err), VGG_OK);
    char h[32];
    vgg_config_format_head(h, sizeof h, &c);
    assert_string_equal(h, "fc:4096");
}

static const vgg_tensor *find(const vgg_arch *a, const char *name) {
    for (int i = 0; i < a->ntensors; i++)
        if (!strcmp(a->tensors[i].name, name)) return &a->tensors[i];
    return NULL;
}

/* The names: today's for VGG16-BN; without batch norm, two entries a
 * conv (Conv2d, ReLU); 1x1 shapes; the fc:W head's fc1 .. fc3. */
static void test_walk_names(void **state) {
    (void)state;
    vgg_arch a;
    vgg_error err = {0};
    vgg_config c = parse("vgg16", NULL);
    assert_int_equal(vgg_arch_walk(&a, &c, &err), VGG_OK);
    assert_int_equal(a.nparams, 14724675);
    assert_int_equal(a.ntensors, 13 * 7 + 2);
    assert_non_null(find(&a, "conv5.7.running_var"));
    assert_string_equal(a.tensors[a.ntensors - 1].name, "fc1.bias");
    assert_int_equal(a.data_bytes,
                     4 * (2 * a.nparams + a.nstate) + 8 * a.ncounters);

    c = parse("vgg16c-nobn", "fc:64");
    assert_int_equal(vgg_arch_walk(&a, &c, &err), VGG_OK);
    assert_int_equal(a.nstate, 0);
    assert_int_equal(a.ncounters, 0);
    const vgg_tensor *t = find(&a, "conv3.4.weight"); /* the 1x1 one */
    assert_non_null(t);
    assert_int_equal(t->shape[1], 256);
    assert_int_equal(t->shape[2], 1);
    assert_int_equal(t->shape[3], 1);
    assert_non_null(find(&a, "conv1.2.bias"));
    assert_null(find(&a, "conv1.1.weight"));
    assert_int_equal(a.nfc, 3);
    t = find(&a, "fc1.weight");
    assert_int_equal(t->shape[0], 64);
    assert_int_equal(t->shape[1], 512);
    assert_int_equal(find(&a, "fc2.weight")->shape[1], 64);
    assert_int_equal(find(&a, "fc3.weight")->shape[0], 3);
    assert_true(a.layers[a.nlayers - 2].dropout);
    assert_false(a.layers[a.nlayers - 1].dropout);
    /* the model is built from the walk */
    vgg_model *m;
    assert_int_equal(vgg_model_create(&m, &c, 1, &err), VGG_OK);
    assert_int_equal(m->nparams, a.nparams);
    assert_int_equal(m->ntensors, a.ntensors);
    assert_int_equal(m->nfc, 3);
    vgg_model_free(m);
    /* MACs: a 3x3 conv on the 32x32 input, 3 -> 64 */
    assert_true(a.layers[0].macs == 64.0 * 3 * 9 * 32 * 32);
}

static void test_walk_refuses(void **state) {
    (void)state;
    vgg_arch a;
    vgg_error err = {0};
    vgg_config c = parse("8 M", NULL);
    c.classes = 1;
    assert_int_equal(vgg_arch_walk(&a, &c, &err), VGG_ERR_ARG);
    c = parse("8 M M M M M", NULL);
    c.layers[c.nlayers++] = VGG_POOL; /* a sixth pool: 1x1 map */
    assert_int_equal(vgg_arch_walk(&a, &c, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "pool"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_walk_names),
        cmocka_unit_test(test_walk_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
