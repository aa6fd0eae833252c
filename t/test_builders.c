/* test_builders.c — the VGG, AlexNet and explicit-layers builders, measured
 * against torchvision: parameter counts, multiply-adds, receptive fields,
 * output shapes and state_dict keys; model.edit, the classifier options and
 * the builders' own errors.
 *
 * Reference numbers are torchvision's (sum(p.numel() for p in
 * model.parameters()) of vgg11 ... vgg19, vgg16_bn, alexnet) and the flower
 * tutorial's models; none is copied from strata's output. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/experiment.h"
#include "model/network.h"
#include "model/plugins.h"
#include "run_strata.h"
#include "model/summary.h"
#include "testlib.h"

/* ---- helpers ------------------------------------------------------------ */

/* One experiment made real: the loaded file, its network and statistics. */
typedef struct built {
    experiment x;
    plugin_registry reg;
    network net;
    layer_stats *st;
    net_stats total;
} built;

/* Load $STRATA_SRCDIR/rel with overrides; 0, or -1 with err set. */
static int try_build(const char *rel, char *const *sets, int n, built *b, strata_err *err)
{
    char path[4096], dir[4096];
    memset(b, 0, sizeof *b);
    snprintf(path, sizeof path, "%s/%s", srcdir(), rel);
    snprintf(dir, sizeof dir, "%s/plugins/layers/.libs", builddir());
    plugins_init(&b->reg, dir);
    if (experiment_load(path, sets, n, &b->x, err) || network_create(&b->net, &b->x.model, &b->reg, err))
        return -1;
    b->st = calloc(b->net.n_layers, sizeof *b->st);
    summary_compute(&b->net, b->st, &b->total);
    return 0;
}

static void build(const char *rel, char *const *sets, int n, built *b)
{
    strata_err err = {0};
    ck_assert_msg(try_build(rel, sets, n, b, &err) == 0, "%s: %s", rel, err.msg);
}

static void unbuild(built *b)
{
    free(b->st);
    network_free(&b->net);
    experiment_free(&b->x);
    plugins_free(&b->reg);
}

/* Index of the layer called name (fails the test when absent). */
static int layer_index(const built *b, const char *name)
{
    for (int i = 0; i < b->net.n_layers; i++)
        if (strcmp(b->net.layers[i].spec->name, name) == 0)
            return i;
    ck_abort_msg("no layer %s", name);
    return -1;
}

static void assert_shape(const built *b, const char *name, int c, int h, int w)
{
    strata_shape s = b->net.layers[layer_index(b, name)].out;
    ck_assert_msg(s.c == c && s.h == h && s.w == w, "%s: %dx%dx%d, expected %dx%dx%d", name, s.c, s.h, s.w, c,
                  h, w);
}

static int count_type(const built *b, const char *type)
{
    int n = 0;
    for (int i = 0; i < b->net.n_layers; i++)
        n += strcmp(b->net.layers[i].spec->type, type) == 0;
    return n;
}

/* The layer names from `from` on, joined by spaces. */
static void names_from(const built *b, const char *from, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = layer_index(b, from); i < b->net.n_layers; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? " " : "", b->net.layers[i].spec->name);
    }
}

/* ---- VGG columns (torchvision vgg11 ... vgg19) --------------------------- */

typedef struct vgg_ref {
    const char *file;
    long long params, macs; /* macs 0: not checked */
} vgg_ref;

static const vgg_ref vgg_refs[] = {
    {"experiments/vgg-a.yaml", 132863336LL, 7609090048LL},
    {"experiments/vgg-b.yaml", 133047848LL, 11308466176LL},
    {"experiments/vgg-c.yaml", 133638952LL, 0},
    {"experiments/vgg-d.yaml", 138357544LL, 15470264320LL},
    {"experiments/vgg-e.yaml", 143667240LL, 19632062464LL},
    {"experiments/vgg-a-lrn.yaml", 132863336LL, 0}, /* the LRN has no parameters */
};

START_TEST(test_vgg_columns)
{
    const vgg_ref *r = &vgg_refs[_i];
    built b;
    build(r->file, NULL, 0, &b);
    ck_assert_msg(b.total.params == r->params, "%s: %lld parameters, torchvision has %lld", r->file,
                  (long long)b.total.params, r->params);
    ck_assert_int_eq(network_trainable(&b.net), r->params);
    if (r->macs)
        ck_assert_msg(b.total.macs == r->macs, "%s: %lld MACs, expected %lld", r->file, (long long)b.total.macs,
                      r->macs);
    assert_shape(&b, "fc8", 1000, 1, 1);
    ck_assert_int_eq(count_type(&b, "maxpool"), 5);
    unbuild(&b);
}
END_TEST

START_TEST(test_vgg_a_lrn_layout)
{
    built a, l;
    build("experiments/vgg-a.yaml", NULL, 0, &a);
    build("experiments/vgg-a-lrn.yaml", NULL, 0, &l);
    ck_assert_int_eq(l.total.params, a.total.params);
    ck_assert_int_eq(l.net.n_layers, a.net.n_layers + 1);
    int i = layer_index(&l, "lrn1");
    ck_assert_str_eq(l.net.layers[i].spec->type, "local_response_norm");
    ck_assert_str_eq(l.net.layers[i - 1].spec->name, "relu1_1"); /* after the first conv's ReLU */
    ck_assert_str_eq(l.net.layers[i + 1].spec->name, "pool1");
    ck_assert_str_eq(ynode_get(l.x.model.layers[i].opts, "size")->str, "5");
    unbuild(&a);
    unbuild(&l);
}
END_TEST

START_TEST(test_vgg_d_batch_norm)
{
    char *sets[] = {"model.batch_norm=true"};
    built b;
    build("experiments/vgg-d.yaml", sets, 1, &b);
    ck_assert_int_eq(b.total.params, 138365992LL); /* torchvision vgg16_bn */
    ck_assert_int_eq(count_type(&b, "batchnorm2d"), 13);
    ck_assert_str_eq(b.x.model.desc, "vgg D bn");
    net_param *rm = network_param(&b.net, "features.1.running_mean");
    ck_assert_ptr_nonnull(rm);
    ck_assert(rm->desc.flags & STRATA_PARAM_BUFFER);
    ck_assert_int_eq(rm->count, 64);
    ck_assert_ptr_nonnull(network_param(&b.net, "features.1.weight"));
    ck_assert_ptr_nonnull(network_param(&b.net, "features.3.weight")); /* conv1_2 */
    ck_assert_ptr_nonnull(network_param(&b.net, "features.41.running_var")); /* bn5_3 */
    ck_assert_ptr_null(network_param(&b.net, "features.43.weight"));         /* pool5 */
    ck_assert_str_eq(b.net.layers[1].spec->name, "bn1_1");
    /* buffers count in the tensors, not in the parameters */
    ck_assert_int_gt((long long)b.net.total, (long long)b.total.params);
    unbuild(&b);
}
END_TEST

START_TEST(test_vgg_d_five_classes)
{
    char *sets[] = {"model.num_classes=5"};
    built b;
    build("experiments/vgg-d.yaml", sets, 1, &b);
    ck_assert_int_eq(b.total.params, 134281029LL);
    assert_shape(&b, "fc8", 5, 1, 1);
    unbuild(&b);
}
END_TEST

/* Receptive field and jump of VGG-D from the input (F = F' + (k-1) j',
 * j = j' s): 3x3 convs add 2 j, 2x2 pools add j and double it. */
START_TEST(test_vgg_d_receptive_field)
{
    static const struct {
        const char *name;
        int rf, jump;
    } want[] = {{"conv1_1", 3, 1}, {"conv1_2", 5, 1}, {"pool1", 6, 2},  {"conv3_3", 40, 4},
                {"pool4", 100, 16}, {"pool5", 212, 32}, {"fc8", 212, 32}};
    built b;
    build("experiments/vgg-d.yaml", NULL, 0, &b);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int i = layer_index(&b, want[k].name);
        ck_assert_msg(b.st[i].rf == want[k].rf && b.st[i].jump == want[k].jump, "%s: rf %d jump %d, expected %d %d",
                      want[k].name, b.st[i].rf, b.st[i].jump, want[k].rf, want[k].jump);
    }
    unbuild(&b);
}
END_TEST

START_TEST(test_vgg_d_shapes_and_keys)
{
    built b;
    build("experiments/vgg-d.yaml", NULL, 0, &b);
    assert_shape(&b, "conv1_1", 64, 224, 224);
    assert_shape(&b, "pool1", 64, 112, 112);
    assert_shape(&b, "conv3_1", 256, 56, 56);
    assert_shape(&b, "pool5", 512, 7, 7);
    assert_shape(&b, "avgpool", 512, 7, 7);
    assert_shape(&b, "flatten", 25088, 1, 1);
    assert_shape(&b, "fc6", 4096, 1, 1);
    const net_param *first = &b.net.params[0], *last = &b.net.params[b.net.n_params - 1];
    ck_assert_str_eq(first->name, "features.0.weight");
    ck_assert_int_eq(first->desc.ndim, 4);
    ck_assert_int_eq(first->desc.dims[0], 64);
    ck_assert_int_eq(first->desc.dims[1], 3);
    ck_assert_str_eq(last->name, "classifier.6.bias");
    ck_assert_int_eq(last->count, 1000);
    ck_assert_ptr_nonnull(network_param(&b.net, "features.28.weight")); /* conv5_3 */
    ck_assert_ptr_nonnull(network_param(&b.net, "classifier.0.weight")); /* fc6 */
    ck_assert_ptr_nonnull(network_param(&b.net, "classifier.3.weight")); /* fc7 */
    ck_assert_int_eq(b.net.n_params, 32); /* 16 weight layers, weight and bias */
    ck_assert_int_eq(b.x.model.init, INIT_TORCHVISION);
    /* activation memory: every layer output, float32, per image */
    double act = 0;
    for (int i = 0; i < b.net.n_layers; i++)
        act += (double)b.net.layers[i].out.c * b.net.layers[i].out.h * b.net.layers[i].out.w;
    ck_assert_double_eq_tol(b.total.act_mib, act * 4 / (1024.0 * 1024.0), 1e-9);
    unbuild(&b);
}
END_TEST

/* ---- the flower tutorial's models and torchvision's AlexNet ------------- */

START_TEST(test_tutorial_vgg16)
{
    built b;
    build("experiments/flowers-vgg16.yaml", NULL, 0, &b);
    ck_assert_int_eq(b.total.params, 56672069LL);
    ck_assert_int_eq(b.total.macs, 14627194880LL);
    assert_shape(&b, "conv1_2", 64, 222, 222); /* padding 0 by the edit */
    assert_shape(&b, "pool5", 512, 6, 6);
    assert_shape(&b, "flatten", 512 * 6 * 6, 1, 1);
    ck_assert_int_eq(count_type(&b, "adaptive_avgpool"), 0);
    ck_assert_int_eq(b.x.model.init, INIT_PYTORCH);
    /* the classifier: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear */
    ck_assert_ptr_null(network_param(&b.net, "classifier.0.weight"));
    net_param *fc6 = network_param(&b.net, "classifier.1.weight");
    ck_assert_ptr_nonnull(fc6);
    ck_assert_int_eq(fc6->desc.dims[0], 2048);
    ck_assert_int_eq(fc6->desc.dims[1], 18432);
    ck_assert_ptr_nonnull(network_param(&b.net, "classifier.4.weight"));
    net_param *fc8 = network_param(&b.net, "classifier.6.weight");
    ck_assert_ptr_nonnull(fc8);
    ck_assert_int_eq(fc8->desc.dims[0], 5);
    char order[256];
    names_from(&b, "flatten", order, sizeof order);
    ck_assert_str_eq(order, "flatten drop6 fc6 relu6 drop7 fc7 relu7 fc8");
    unbuild(&b);
}
END_TEST

START_TEST(test_tutorial_alexnet)
{
    static const char *const keys[] = {"features.0", "features.3", "features.6", "features.8", "features.10",
                                       "classifier.1", "classifier.4", "classifier.6"};
    built b;
    build("experiments/flowers-alexnet.yaml", NULL, 0, &b);
    ck_assert_int_eq(b.total.params, 14591685LL);
    ck_assert_int_eq(b.total.macs, 309154064LL);
    ck_assert_int_eq(b.net.n_params, 16);
    for (int k = 0; k < 8; k++) {
        char w[64], bias[64];
        snprintf(w, sizeof w, "%s.weight", keys[k]);
        snprintf(bias, sizeof bias, "%s.bias", keys[k]);
        ck_assert_str_eq(b.net.params[2 * k].name, w);
        ck_assert_str_eq(b.net.params[2 * k + 1].name, bias);
    }
    assert_shape(&b, "conv1", 48, 55, 55);
    assert_shape(&b, "pool5", 128, 6, 6);
    assert_shape(&b, "fc8", 5, 1, 1);
    ck_assert_int_eq(b.x.model.init, INIT_PYTORCH);
    unbuild(&b);
}
END_TEST

START_TEST(test_torchvision_alexnet)
{
    char *sets[] = {"model.variant=torchvision", "model.num_classes=1000"};
    built b;
    build("experiments/flowers-alexnet.yaml", sets, 2, &b);
    ck_assert_int_eq(b.total.params, 61100840LL);
    assert_shape(&b, "avgpool", 256, 6, 6);
    assert_shape(&b, "conv2", 192, 27, 27);
    ck_assert_ptr_nonnull(network_param(&b.net, "classifier.1.weight"));
    ck_assert_str_eq(b.x.model.desc, "alexnet torchvision");
    unbuild(&b);
}
END_TEST

/* ---- edits and classifier options --------------------------------------- */

START_TEST(test_edit_by_name)
{
    char *sets[] = {"model.edit.conv1_1.out_channels=32"};
    built d, b;
    build("experiments/vgg-d.yaml", NULL, 0, &d);
    build("experiments/vgg-d.yaml", sets, 1, &b);
    assert_shape(&b, "conv1_1", 32, 224, 224);
    assert_shape(&b, "conv1_2", 64, 224, 224);
    /* conv1_1: 3*64*9+64 -> 3*32*9+32; conv1_2: 64*64*9+64 -> 32*64*9+64 */
    long long delta = (3 * 32 * 9 + 32) - (3 * 64 * 9 + 64) + (32 * 64 * 9 + 64) - (64 * 64 * 9 + 64);
    ck_assert_int_eq(b.total.params, d.total.params + delta);
    ck_assert_str_eq(b.x.model.layers[0].prefix, "model.edit.conv1_1");
    unbuild(&d);
    unbuild(&b);
}
END_TEST

START_TEST(test_edit_by_index)
{
    char *sets[] = {"model.edit.0.stride=2"};
    built b;
    build("experiments/vgg-d.yaml", sets, 1, &b);
    assert_shape(&b, "conv1_1", 64, 112, 112);
    assert_shape(&b, "pool5", 512, 3, 3);   /* 112 halved five times */
    assert_shape(&b, "avgpool", 512, 7, 7); /* the adaptive pool restores 7x7 */
    ck_assert_int_eq(b.total.params, 138357544LL);
    ck_assert_int_eq(b.st[0].jump, 2);
    unbuild(&b);
}
END_TEST

START_TEST(test_edit_bad_option)
{
    char *sets[] = {"model.edit.conv2_1.kernel=0"};
    built b;
    strata_err err = {0};
    ck_assert_int_eq(try_build("experiments/vgg-d.yaml", sets, 1, &b, &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "model.edit.conv2_1.kernel") != NULL, "%s", err.msg);
    ck_assert_msg(strncmp(err.msg, "-s model.edit.conv2_1.kernel:", 29) == 0, "%s", err.msg);
    unbuild(&b);
}
END_TEST

START_TEST(test_dropout_position)
{
    char *before[] = {"model.classifier.dropout_position=before"};
    char *none[] = {"model.classifier.dropout=0"};
    char order[256];
    built a, b, n;
    build("experiments/vgg-d.yaml", NULL, 0, &a);
    build("experiments/vgg-d.yaml", before, 1, &b);
    build("experiments/vgg-d.yaml", none, 1, &n);
    names_from(&a, "flatten", order, sizeof order);
    ck_assert_str_eq(order, "flatten fc6 relu6 drop6 fc7 relu7 drop7 fc8");
    names_from(&b, "flatten", order, sizeof order);
    ck_assert_str_eq(order, "flatten drop6 fc6 relu6 drop7 fc7 relu7 fc8");
    names_from(&n, "flatten", order, sizeof order);
    ck_assert_str_eq(order, "flatten fc6 relu6 fc7 relu7 fc8");
    /* keys follow torchvision's indices in each order */
    ck_assert_ptr_nonnull(network_param(&a.net, "classifier.6.weight"));
    ck_assert_ptr_nonnull(network_param(&b.net, "classifier.1.weight"));
    ck_assert_ptr_nonnull(network_param(&n.net, "classifier.4.weight"));
    ck_assert_int_eq(a.total.params, b.total.params);
    ck_assert_int_eq(a.total.params, n.total.params);
    ck_assert_str_eq(ynode_get(a.x.model.layers[layer_index(&a, "drop6")].opts, "p")->str, "0.5");
    unbuild(&a);
    unbuild(&b);
    unbuild(&n);
}
END_TEST

START_TEST(test_avgpool_zero)
{
    char *s256[] = {"model.input_size=256"};
    char *s256_0[] = {"model.input_size=256", "model.avgpool=0"};
    built a, z;
    build("experiments/vgg-d.yaml", s256, 1, &a);
    build("experiments/vgg-d.yaml", s256_0, 2, &z);
    ck_assert_int_eq(count_type(&a, "adaptive_avgpool"), 1);
    ck_assert_int_eq(count_type(&z, "adaptive_avgpool"), 0);
    ck_assert_int_eq(z.net.n_layers, a.net.n_layers - 1);
    ck_assert_int_eq(a.total.params, 138357544LL); /* 8x8 pooled to 7x7 */
    assert_shape(&z, "flatten", 512 * 8 * 8, 1, 1);
    ck_assert_int_eq(z.total.params, a.total.params + (512LL * 8 * 8 - 512 * 7 * 7) * 4096);
    unbuild(&a);
    unbuild(&z);
}
END_TEST

START_TEST(test_classifier_widths)
{
    char *sets[] = {"model.classifier.widths=[100, 50, 25]", "model.num_classes=7"};
    built b;
    build("experiments/vgg-a.yaml", sets, 2, &b);
    char order[256];
    names_from(&b, "fc6", order, sizeof order);
    ck_assert_str_eq(order, "fc6 relu6 drop6 fc7 relu7 drop7 fc8 relu8 drop8 fc9");
    assert_shape(&b, "fc8", 25, 1, 1);
    assert_shape(&b, "fc9", 7, 1, 1);
    unbuild(&b);
}
END_TEST

/* ---- an explicit list of layers ----------------------------------------- */

START_TEST(test_arch_layers)
{
    built b;
    build("t/yaml/layers_ok.yaml", NULL, 0, &b);
    ck_assert_int_eq(b.net.n_layers, 6);
    ck_assert_str_eq(b.net.layers[2].spec->name, "relu2"); /* TYPE + index by default */
    assert_shape(&b, "conv1", 4, 8, 8);
    assert_shape(&b, "conv2", 6, 6, 6);
    assert_shape(&b, "pool", 6, 3, 3);
    assert_shape(&b, "flat", 54, 1, 1);
    assert_shape(&b, "fc", 10, 1, 1);
    /* (3*9+1)*4 + (4*9+1)*6 + (54+1)*10 */
    ck_assert_int_eq(b.total.params, 28 * 4 + 37 * 6 + 55 * 10);
    ck_assert_ptr_nonnull(network_param(&b.net, "conv1.weight"));
    ck_assert_ptr_nonnull(network_param(&b.net, "head.bias")); /* key: head */
    ck_assert_ptr_null(network_param(&b.net, "fc.bias"));
    ck_assert_int_eq(b.x.model.init, INIT_PYTORCH);
    ck_assert_str_eq(b.x.model.layers[1].prefix, "model.layers.1");
    unbuild(&b);
}
END_TEST

/* ---- the builders' own errors ------------------------------------------- */

typedef struct bad_build {
    const char *file;
    const char *sets[3];
    const char *expect[2];
} bad_build;

static const bad_build bad_builds[] = {
    {"experiments/flowers-alexnet.yaml", {"model.channels=[1, 2, 3]"}, {"model.channels", "expected 5"}},
    {"experiments/flowers-alexnet.yaml", {"model.channels=[1, 2, 3, 4, 0]"}, {"model.channels", "item 4"}},
    {"experiments/flowers-alexnet.yaml", {"model.variant=caffe"}, {"model.variant", "torchvision, tutorial"}},
    {"experiments/vgg-d.yaml", {"model.avgpool=[7, 0]"}, {"model.avgpool", "both dimensions"}},
    {"experiments/vgg-d.yaml", {"model.classifier.widths=[1,2,3,4,5,6,7,8,9]"}, {"model.classifier.widths", "at most 8"}},
    {"experiments/vgg-d.yaml", {"model.classifier.bias=false"}, {"model.classifier.bias", "unknown key"}},
    {"experiments/vgg-d.yaml", {"model.column="}, {"model.column", "A, A-LRN"}},
    {"experiments/vgg-d.yaml", {"model.batch_norm=maybe"}, {"model.batch_norm", "true or false"}},
    {"experiments/vgg-d.yaml", {"model.init=xavier"}, {"model.init", "torchvision, pytorch"}},
    {"experiments/vgg-d.yaml", {"model.edit.conv1_1=3"}, {"model.edit.conv1_1", "mapping of layer options"}},
    {"experiments/vgg-d.yaml", {"model.edit=[1]"}, {"model.edit", "a mapping"}},
    {"experiments/vgg-d.yaml", {"model.edit.99.padding=0"}, {"model.edit.99", "no layer"}},
    {"experiments/vgg-d.yaml", {"model.edit.conv1_1.kernal=3"}, {"model.edit.conv1_1.kernal", "unknown key for conv2d"}},
    {"experiments/vgg-d.yaml", {"model=5"}, {"model", "expected a mapping"}},
    {"experiments/vgg-d.yaml", {"model.arch=resnet"}, {"model.arch", "vgg, alexnet, layers"}},
    {"experiments/vgg-d.yaml", {"model.input_size=[224, 224, 3]"}, {"model.input_size", "[height, width]"}},
    {"experiments/vgg-d.yaml", {"model.input_size=16"}, {"pool5", "kernel"}},
    {"t/yaml/layers_ok.yaml", {"model.layers=[]"}, {"model.layers", "at least one layer"}},
    {"t/yaml/layers_ok.yaml", {"model.layers={}"}, {"model.layers", "a list"}},
    {"t/yaml/layers_ok.yaml", {"model.layers.1.name=conv1"}, {"model.layers.1.name", "'conv1' names two layers"}},
    {"t/yaml/layers_ok.yaml", {"model.layers.2={name: r}"}, {"model.layers.2", "'type'"}},
    {"t/yaml/layers_ok.yaml", {"model.layers.2.type=[relu]"}, {"model.layers.2.type", "a single value"}},
    {"t/yaml/layers_ok.yaml", {"model.layers.2.type=re/lu"}, {"model.layers.2", "not a plugin name"}},
    {"t/yaml/layers_ok.yaml", {"model.layers.2.type=sgd"}, {"model.layers.2", "optimizer plugin, not a layer"}},
    {"t/yaml/layers_ok.yaml", {"model.num_classes=3"}, {"num_classes is 3", "10x1x1"}},
    {"t/yaml/layers_ok.yaml", {"model.layers.0.out_channels=many"}, {"model.layers.0.out_channels", "'many'"}},
};
#define N_BAD_BUILDS ((int)(sizeof bad_builds / sizeof bad_builds[0]))

START_TEST(test_bad_build)
{
    const bad_build *c = &bad_builds[_i];
    char *sets[3];
    int n = 0;
    while (n < 3 && c->sets[n]) {
        sets[n] = (char *)c->sets[n];
        n++;
    }
    built b;
    strata_err err = {0};
    /* the optimizers' directory too, so 'sgd' is found as what it is */
    char opt[4096];
    snprintf(opt, sizeof opt, "%s/plugins/optimizers/.libs", builddir());
    setenv("STRATA_PLUGIN_PATH", opt, 1);
    ck_assert_msg(try_build(c->file, sets, n, &b, &err) == -1, "%s -s %s: accepted", c->file, c->sets[0]);
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "several lines: %s", err.msg);
    for (int k = 0; k < 2 && c->expect[k]; k++)
        ck_assert_msg(strstr(err.msg, c->expect[k]) != NULL, "-s %s: expected \"%s\" in: %s", c->sets[0],
                      c->expect[k], err.msg);
    unbuild(&b);
}
END_TEST

START_TEST(test_model_section_missing)
{
    strata_err err = {0};
    experiment x;
    ynode *root = yaml_load_string("train: {epochs: 1}\n", "nomodel.yaml", &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(experiment_from_tree(root, "nomodel.yaml", &x, &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "model") && strstr(err.msg, "vgg | alexnet | layers"), "%s", err.msg);
    experiment_free(&x);
}
END_TEST

/* ---- the program -------------------------------------------------------- */

START_TEST(test_summary_program)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/experiments/vgg-d.yaml", srcdir());
    const char *argv[] = {"summary", path, NULL};
    strata_run r;
    ck_assert_int_eq(run_strata(argv, &r), 0);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, "");
    ck_assert_ptr_nonnull(strstr(r.out, "\nparameters: 138357544\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "\nmultiply-adds per image: 15470264320\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "model: vgg D, input 3x224x224"));
    /* one row per layer, starting with its name */
    built b;
    build("experiments/vgg-d.yaml", NULL, 0, &b);
    for (int i = 0; i < b.net.n_layers; i++) {
        char row[80];
        snprintf(row, sizeof row, "\n%s ", b.net.layers[i].spec->name);
        ck_assert_msg(strstr(r.out, row) != NULL, "no row for %s", b.net.layers[i].spec->name);
    }
    const char *p5 = strstr(r.out, "\npool5 ");
    ck_assert_ptr_nonnull(p5);
    ck_assert_msg(strstr(p5, " 512x7x7 ") && strstr(p5, " 212 ") && strstr(p5, " 32 "), "%.100s", p5);
    unbuild(&b);
    run_strata_free(&r);
}
END_TEST

START_TEST(test_summary_json_program)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/experiments/flowers-alexnet.yaml", srcdir());
    const char *argv[] = {"summary", "--json", path, NULL};
    strata_run r;
    ck_assert_int_eq(run_strata(argv, &r), 0);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "\"params\": 14591685,"));
    ck_assert_ptr_nonnull(strstr(r.out, "\"macs\": 309154064,"));
    ck_assert_ptr_nonnull(strstr(r.out, "{\"name\": \"fc8\", \"type\": \"linear\", \"output\": [5, 1, 1]"));
    ck_assert_int_eq(r.out[0], '{');
    run_strata_free(&r);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("builders",
        {.name = "vgg",
         .tests = TESTS(test_vgg_a_lrn_layout, test_vgg_d_batch_norm, test_vgg_d_five_classes,
                        test_vgg_d_receptive_field, test_vgg_d_shapes_and_keys),
         .loops = LOOPS({test_vgg_columns, (int)(sizeof vgg_refs / sizeof vgg_refs[0])})},
        {.name = "tutorial and alexnet",
         .tests = TESTS(test_tutorial_vgg16, test_tutorial_alexnet, test_torchvision_alexnet, test_arch_layers)},
        {.name = "edits and options",
         .tests = TESTS(test_edit_by_name, test_edit_by_index, test_edit_bad_option, test_dropout_position,
                        test_avgpool_zero, test_classifier_widths, test_model_section_missing),
         .loops = LOOPS({test_bad_build, N_BAD_BUILDS})},
        {.name = "program",
         .tests = TESTS(test_summary_program, test_summary_json_program)});
}
