/* model_spec.h — a network as a list of plugin layers with options, before
 * any plugin is loaded. The builders (vgg, alexnet) and the explicit
 * `layers:` list all produce one; `model.edit` then changes options of
 * layers picked by name or index. */
#ifndef STRATA_MODEL_SPEC_H
#define STRATA_MODEL_SPEC_H

#include "config/opts.h"
#include "config/yaml_tree.h"

typedef enum { INIT_TORCHVISION = 0, INIT_PYTORCH = 1 } init_scheme;

typedef struct layer_spec {
    char name[64]; /* conv1_1, pool1, fc6 ... */
    char type[64]; /* the layer plugin's name */
    char key[64];  /* state_dict prefix ("features.0"); "" for none */
    char prefix[96]; /* where its options live, for messages */
    ynode *opts;   /* options mapping (owned) */
    int frozen;    /* named in model.freeze: its parameters are not trained */
    char frozen_where[300]; /* FILE:LINE:COL of its model.freeze item */
} layer_spec;

typedef struct model_spec {
    char arch[16];  /* vgg, alexnet, layers */
    char desc[64];  /* "vgg D", "alexnet tutorial", "layers" */
    int in_c, in_h, in_w;
    int num_classes;
    char classes_where[300]; /* FILE:LINE:COL of num_classes (or of the model section) */
    init_scheme init;
    char weights[1024];  /* model.weights: a safetensors file to start from */
    int weights_strict;  /* model.strict (default true) */
    int n, cap;
    layer_spec *layers;
} model_spec;

/* Read the `model` section (any arch). */
int model_spec_parse(ynode *model, model_spec *out, strata_err *err);
void model_spec_free(model_spec *m);

/* Append a layer; opts is taken (NULL: an empty mapping at `where`). */
layer_spec *model_spec_add(model_spec *m, const char *name, const char *type, const char *key, ynode *opts,
                           const ynode *where);
/* Set an integer / list option of a builder-made layer. */
void layer_set_int(layer_spec *l, const char *key, long v);
void layer_set_pair(layer_spec *l, const char *key, long a, long b);
void layer_set_float(layer_spec *l, const char *key, double v);

/* Builders: fill m from the model section reader (arch-specific keys). */
int build_vgg(strata_opts *o, model_spec *m);
int build_alexnet(strata_opts *o, model_spec *m);
int build_layers(strata_opts *o, model_spec *m);

/* The classifier shared by the builders: [avgpool,] flatten, then for each
 * width a linear+relu with dropout before or after it, then the last linear.
 * Keys follow torchvision's Sequential indices. */
typedef struct classifier_spec {
    int n_widths;
    long widths[8];
    double dropout;
    int dropout_before; /* the tutorial's order: Dropout, Linear, ReLU */
    long avgpool[2];    /* adaptive avgpool output; 0 = none */
} classifier_spec;
int classifier_parse(strata_opts *o, classifier_spec *c, const long def_widths[], int n_def, int def_before,
                     long def_avgpool);
void classifier_build(model_spec *m, const classifier_spec *c, int first_fc, const ynode *where);

#endif
