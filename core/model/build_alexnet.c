/* build_alexnet.c — AlexNet as torchvision builds it (64-192-384-256-256,
 * adaptive avgpool 6x6, FC 4096) or as the flower tutorial does
 * (48-128-192-192-128, no avgpool, FC 2048), dropout before each hidden
 * linear in both. Layers: conv1..conv5, relu1..relu5, pool1, pool2, pool5,
 * then the classifier (fc6, fc7, fc8).
 *
 *   model: {arch: alexnet, variant: torchvision|tutorial, channels: [5 ints],
 *           num_classes: 1000, avgpool: 6, classifier: {...}} */
#include <stdio.h>
#include "model/model_spec.h"

static const int kernels[5] = {11, 5, 3, 3, 3};
static const int strides[5] = {4, 1, 1, 1, 1};
static const int paddings[5] = {2, 2, 1, 1, 1};
static const int pool_after[5] = {1, 1, 0, 0, 1};

int build_alexnet(strata_opts *o, model_spec *m)
{
    static const char *const variants[] = {"torchvision", "tutorial", NULL};
    static const long tv_channels[5] = {64, 192, 384, 256, 256}, tut_channels[5] = {48, 128, 192, 192, 128};
    static const long tv_widths[2] = {4096, 4096}, tut_widths[2] = {2048, 2048};
    int variant, n;
    long channels[5];
    opts_choice(o, "variant", variants, 0, &variant);
    if (o->failed)
        return -1;
    int rc = opts_int_list(o, "channels", 1, 1 << 16, channels, 5, &n);
    if (rc < 0)
        return -1;
    if (rc == 0 && n != 5)
        return opts_error(o, "channels", "expected 5 channel counts (conv1..conv5), got %d", n);
    if (rc == 1)
        for (int i = 0; i < 5; i++)
            channels[i] = variant ? tut_channels[i] : tv_channels[i];
    classifier_spec cls;
    if (classifier_parse(o, &cls, variant ? tut_widths : tv_widths, 2, 1, variant ? 0 : 6))
        return -1;
    snprintf(m->desc, sizeof m->desc, "alexnet %s", variants[variant]);
    int k = 0;
    char name[32], key[32];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "conv%d", i + 1);
        snprintf(key, sizeof key, "features.%d", k++);
        layer_spec *c = model_spec_add(m, name, "conv2d", key, NULL, o->map);
        layer_set_int(c, "out_channels", channels[i]);
        layer_set_int(c, "kernel", kernels[i]);
        layer_set_int(c, "stride", strides[i]);
        layer_set_int(c, "padding", paddings[i]);
        snprintf(name, sizeof name, "relu%d", i + 1);
        snprintf(key, sizeof key, "features.%d", k++);
        model_spec_add(m, name, "relu", key, NULL, o->map);
        if (!pool_after[i])
            continue;
        snprintf(name, sizeof name, "pool%d", i + 1);
        snprintf(key, sizeof key, "features.%d", k++);
        layer_spec *p = model_spec_add(m, name, "maxpool", key, NULL, o->map);
        layer_set_int(p, "kernel", 3);
        layer_set_int(p, "stride", 2);
    }
    classifier_build(m, &cls, 6, o->map);
    return 0;
}
