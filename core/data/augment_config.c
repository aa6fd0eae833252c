/* augment_config.c — see augment_config.h */
#include <stdio.h>
#include <string.h>
#include "data/augment_config.h"
#include "config/opts.h"

static const char *const names[] = {"random_resized_crop", "horizontal_flip", "resize", "center_crop",
                                    "color_jitter", "normalize", NULL};

static int read_pair(strata_opts *o, const char *key, double def0, double def1, double out[2])
{
    int n;
    out[0] = def0;
    out[1] = def1;
    if (opts_float_list(o, key, out, 2, &n) == 0 && n != 2)
        return opts_error(o, key, "expected two numbers [low, high]");
    if (out[0] > out[1] || out[0] < 0)
        return opts_error(o, key, "expected 0 <= low <= high");
    return o->failed ? -1 : 0;
}

static int read_rgb(strata_opts *o, const char *key, double def, float out[3])
{
    double v[3] = {def, def, def};
    int n;
    if (opts_float_list(o, key, v, 3, &n) == 0 && n != 3)
        return opts_error(o, key, "expected three numbers, one per channel (R, G, B)");
    for (int i = 0; i < 3; i++)
        out[i] = (float)v[i];
    return o->failed ? -1 : 0;
}

static int read_size(strata_opts *o, int *h, int *w)
{
    long s[2];
    if (opts_int_pair(o, "size", 0, 1, 16384, s) == 1)
        return opts_error(o, "size", "required: an integer or [height, width]");
    *h = (int)s[0];
    *w = (int)s[1];
    return o->failed ? -1 : 0;
}

static int read_op(strata_opts *o, int kind, aug_op *op)
{
    memset(op, 0, sizeof *op);
    op->kind = (aug_kind)kind;
    int aa;
    switch (op->kind) {
    case AUG_RANDOM_RESIZED_CROP:
        if (read_size(o, &op->u.rrc.h, &op->u.rrc.w) || read_pair(o, "scale", 0.08, 1.0, op->u.rrc.scale) ||
            read_pair(o, "ratio", 3.0 / 4.0, 4.0 / 3.0, op->u.rrc.ratio))
            return -1;
        if (op->u.rrc.ratio[0] <= 0)
            return opts_error(o, "ratio", "expected ratios > 0");
        return 0;
    case AUG_HORIZONTAL_FLIP:
        return opts_float(o, "p", 0.5, 0.0, 1.0, &op->u.flip.p) < 0 ? -1 : 0;
    case AUG_RESIZE: {
        /* torchvision: Resize(N) scales the shorter side to N; Resize((h, w)) is exact. */
        const ynode *size = ynode_get(o->map, "size");
        if (read_size(o, &op->u.resize.h, &op->u.resize.w))
            return -1;
        if (size && size->kind == YNODE_SCALAR)
            op->u.resize.w = 0;
        opts_bool(o, "antialias", 1, &aa);
        op->u.resize.antialias = aa;
        return o->failed ? -1 : 0;
    }
    case AUG_CENTER_CROP:
        return read_size(o, &op->u.crop.h, &op->u.crop.w);
    case AUG_COLOR_JITTER:
        opts_float(o, "brightness", 0, 0, 10, &op->u.jitter.brightness);
        opts_float(o, "contrast", 0, 0, 10, &op->u.jitter.contrast);
        opts_float(o, "saturation", 0, 0, 10, &op->u.jitter.saturation);
        return o->failed ? -1 : 0;
    case AUG_NORMALIZE:
        if (read_rgb(o, "mean", 0.5, op->u.norm.mean) || read_rgb(o, "std", 0.5, op->u.norm.std))
            return -1;
        for (int i = 0; i < 3; i++)
            if (op->u.norm.std[i] <= 0)
                return opts_error(o, "std", "expected standard deviations > 0");
        return 0;
    }
    return -1;
}

static int read_item(const ynode *item, const char *prefix, int idx, aug_op *op, strata_err *err)
{
    char where[300], pre[128];
    const char *name = NULL;
    ynode *opts = NULL;
    if (item->kind == YNODE_SCALAR)
        name = item->str;
    else if (item->kind == YNODE_MAP && item->n == 1) {
        name = item->keys[0];
        opts = item->items[0];
    }
    int kind = -1;
    for (int k = 0; name && names[k]; k++)
        if (strcmp(name, names[k]) == 0)
            kind = k;
    if (kind < 0)
        return err_set(err, STRATA_ERR_CONFIG,
                       "%s: %s.%d: expected one transform: random_resized_crop, horizontal_flip, resize, "
                       "center_crop, color_jitter or normalize, got %s",
                       ynode_where(item, where, sizeof where), prefix, idx, name ? name : "something else");
    snprintf(pre, sizeof pre, "%s.%d.%s", prefix, idx, name);
    if (opts && opts->kind != YNODE_MAP)
        return err_set(err, STRATA_ERR_CONFIG, "%s: %s: expected a mapping of options",
                       ynode_where(opts, where, sizeof where), pre);
    strata_opts o;
    opts_init(&o, opts, pre, err);
    if (read_op(&o, kind, op))
        return -1;
    return opts_check_unused(&o, name);
}

int augment_config(const ynode *list, const char *prefix, int h, int w, aug_pipeline *p, strata_err *err)
{
    memset(p, 0, sizeof *p);
    if (!list) {
        p->n = 1;
        p->ops[0].kind = AUG_RESIZE;
        p->ops[0].u.resize.h = h;
        p->ops[0].u.resize.w = w;
        p->ops[0].u.resize.antialias = 1;
        return 0;
    }
    char where[300];
    if (list->n > AUG_MAX_OPS)
        return err_set(err, STRATA_ERR_CONFIG, "%s: %s: at most %d transforms",
                       ynode_where(list, where, sizeof where), prefix, AUG_MAX_OPS);
    for (int i = 0; i < list->n; i++)
        if (read_item(list->items[i], prefix, i, &p->ops[p->n++], err))
            return -1;
    int oh, ow;
    strata_err e2 = {0};
    if (augment_output_size(p, &oh, &ow, &e2))
        return err_set(err, STRATA_ERR_CONFIG, "%s: %s: %s", ynode_where(list, where, sizeof where), prefix, e2.msg);
    if (oh != h || ow != w)
        return err_set(err, STRATA_ERR_CONFIG, "%s: %s: the transforms give %dx%d images, model.input_size is %dx%d",
                       ynode_where(list, where, sizeof where), prefix, oh, ow, h, w);
    return 0;
}
