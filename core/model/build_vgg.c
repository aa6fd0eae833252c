/* build_vgg.c — the columns of Table 1 of Simonyan & Zisserman (2015), with
 * torchvision's layout (features / avgpool / classifier) and key names.
 *
 *   model: {arch: vgg, column: A|A-LRN|B|C|D|E, batch_norm: false,
 *           num_classes: 1000, avgpool: 7, classifier: {widths: [4096, 4096],
 *           dropout: 0.5, dropout_position: after}}
 *
 * Layers are named as in the paper: conv{block}_{i}, relu{block}_{i},
 * bn{block}_{i}, pool{block}, lrn1; then avgpool, flatten, fc6, relu6,
 * drop6, fc7 ... */
#include <stdio.h>
#include <string.h>
#include "model/model_spec.h"

/* Per column, each block's convolutions as kernel sizes (0 ends a block). */
static const char *const column_names[] = {"A", "A-LRN", "B", "C", "D", "E", NULL};
static const int column_convs[6][5][5] = {
    /* A */ {{3}, {3}, {3, 3}, {3, 3}, {3, 3}},
    /* A-LRN */ {{3}, {3}, {3, 3}, {3, 3}, {3, 3}},
    /* B */ {{3, 3}, {3, 3}, {3, 3}, {3, 3}, {3, 3}},
    /* C */ {{3, 3}, {3, 3}, {3, 3, 1}, {3, 3, 1}, {3, 3, 1}},
    /* D */ {{3, 3}, {3, 3}, {3, 3, 3}, {3, 3, 3}, {3, 3, 3}},
    /* E */ {{3, 3}, {3, 3}, {3, 3, 3, 3}, {3, 3, 3, 3}, {3, 3, 3, 3}},
};
static const int block_width[5] = {64, 128, 256, 512, 512};

static void add_conv(model_spec *m, int block, int i, int kernel, int width, int bn, int *k, const ynode *where)
{
    char name[32], key[32];
    snprintf(name, sizeof name, "conv%d_%d", block, i);
    snprintf(key, sizeof key, "features.%d", (*k)++);
    layer_spec *c = model_spec_add(m, name, "conv2d", key, NULL, where);
    layer_set_int(c, "out_channels", width);
    layer_set_int(c, "kernel", kernel);
    layer_set_int(c, "padding", kernel / 2);
    if (bn) {
        snprintf(name, sizeof name, "bn%d_%d", block, i);
        snprintf(key, sizeof key, "features.%d", (*k)++);
        model_spec_add(m, name, "batchnorm2d", key, NULL, where);
    }
    snprintf(name, sizeof name, "relu%d_%d", block, i);
    snprintf(key, sizeof key, "features.%d", (*k)++);
    model_spec_add(m, name, "relu", key, NULL, where);
}

/* The LRN of column A-LRN: Krizhevsky's parameters (size 5, alpha 1e-4,
 * beta 0.75, k 2), after the first convolution's ReLU. */
static void add_lrn(model_spec *m, int *k, const ynode *where)
{
    char key[32];
    snprintf(key, sizeof key, "features.%d", (*k)++);
    layer_spec *l = model_spec_add(m, "lrn1", "local_response_norm", key, NULL, where);
    layer_set_int(l, "size", 5);
    layer_set_float(l, "alpha", 1e-4);
    layer_set_float(l, "beta", 0.75);
    layer_set_float(l, "k", 2.0);
}

int build_vgg(strata_opts *o, model_spec *m)
{
    static const long widths[] = {4096, 4096};
    int col, bn;
    if (opts_choice(o, "column", column_names, -1, &col) == 1)
        return opts_error(o, "column", "required: one of A, A-LRN, B, C, D, E");
    opts_bool(o, "batch_norm", 0, &bn);
    classifier_spec cls;
    if (o->failed || classifier_parse(o, &cls, widths, 2, 0, 7))
        return -1;
    snprintf(m->desc, sizeof m->desc, "vgg %s%s", column_names[col], bn ? " bn" : "");
    int k = 0;
    for (int b = 0; b < 5; b++) {
        for (int i = 0; i < 5 && column_convs[col][b][i]; i++) {
            add_conv(m, b + 1, i + 1, column_convs[col][b][i], block_width[b], bn, &k, o->map);
            if (col == 1 && b == 0 && i == 0)
                add_lrn(m, &k, o->map);
        }
        char name[32], key[32];
        snprintf(name, sizeof name, "pool%d", b + 1);
        snprintf(key, sizeof key, "features.%d", k++);
        layer_spec *p = model_spec_add(m, name, "maxpool", key, NULL, o->map);
        layer_set_int(p, "kernel", 2);
        layer_set_int(p, "stride", 2);
    }
    classifier_build(m, &cls, 6, o->map);
    return 0;
}
