/* build_layers.c — an explicit list of plugin layers:
 *
 *   model:
 *     arch: layers
 *     input_size: 32
 *     layers:
 *       - {type: conv2d, name: conv1, out_channels: 16, kernel: 3, padding: 1}
 *       - {type: relu}
 *
 * `type` names a layer plugin; `name` (default TYPE + index) names the layer
 * in summaries and edits; `key` (default the name) prefixes its tensors in
 * checkpoints; every other key is the plugin's option. */
#include <stdio.h>
#include <string.h>
#include "model/model_spec.h"

static int add_one(strata_opts *o, model_spec *m, ynode *item, int i)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "model.layers.%d", i);
    strata_opts lo;
    opts_init(&lo, item, prefix, o->err);
    if (item->kind != YNODE_MAP) {
        lo.map = NULL;
        return opts_error(o, "layers", "item %d: expected a mapping with a type, e.g. {type: relu}", i);
    }
    const char *type, *name, *key;
    if (opts_string(&lo, "type", NULL, &type) == 1)
        return opts_error(&lo, NULL, "expected a 'type' naming a layer plugin");
    char defname[80];
    snprintf(defname, sizeof defname, "%s%d", type ? type : "layer", i);
    opts_string(&lo, "name", defname, &name);
    opts_string(&lo, "key", name, &key);
    if (lo.failed) {
        o->failed = 1;
        return -1;
    }
    for (int j = 0; j < m->n; j++)
        if (strcmp(m->layers[j].name, name) == 0)
            return opts_error(&lo, "name", "'%s' names two layers (%d and %d)", name, j, i);
    ynode *opts = ynode_clone(item);
    ynode_del(opts, "type");
    ynode_del(opts, "name");
    ynode_del(opts, "key");
    layer_spec *l = model_spec_add(m, name, type, key, opts, item);
    snprintf(l->prefix, sizeof l->prefix, "%s", prefix);
    return 0;
}

int build_layers(strata_opts *o, model_spec *m)
{
    ynode *list;
    int rc = opts_node(o, "layers", YNODE_SEQ, &list);
    if (rc == 1)
        return opts_error(o, "layers", "required for arch: layers (a list of {type: ..., options})");
    if (rc < 0)
        return -1;
    if (list->n == 0)
        return opts_error(o, "layers", "expected at least one layer");
    snprintf(m->desc, sizeof m->desc, "layers");
    for (int i = 0; i < list->n; i++)
        if (add_one(o, m, list->items[i], i))
            return -1;
    return 0;
}
