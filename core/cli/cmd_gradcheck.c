/* cmd_gradcheck.c — `strata gradcheck --layer NAME [-s option=value]...
 * --input CxHxW [--batch N]`: finite-difference checks of a layer plugin's
 * backward (model/gradcheck.h does the checking). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "config/opts.h"
#include "config/yaml_tree.h"
#include "model/gradcheck.h"
#include "model/plugins.h"
#include "train/blas_select.h"

static const char usage[] =
    "usage: strata [--plugin-dir DIR] gradcheck --layer NAME [-s OPTION=VALUE]...\n"
    "                 --input CxHxW [--batch N] [--seed N] [--samples K] [--tol X]\n"
    "                 [--step H] [--eval] [--threads N]\n"
    "\n"
    "Check a layer plugin's backward against finite differences of its forward.\n"
    "The plugin is found as 'strata run' finds it (--plugin-dir, STRATA_PLUGIN_PATH,\n"
    "the installed plugins), so out-of-tree plugins are checked the same way.\n"
    "Input, parameters and the upstream gradient g are random (from --seed):\n"
    "input and parameters uniform in [-1, 1] (a running variance in [0.5, 1.5]),\n"
    "g uniform in [-1, 1]. With L = sum(out * g), backward gives dL/dinput and\n"
    "dL/dparam; each checked element v is compared with the central difference\n"
    "(L(v+h) - L(v-h)) / 2h, h = H * max(1, |v|), forward in float32, L in double.\n"
    "The error of an element is |numeric - analytic| / max(|numeric|, |analytic|, 0.1).\n"
    "Elements at a kink (ReLU at 0, ties in a max pool), where the one-sided\n"
    "differences disagree at h, h/10 and h/100, are skipped and counted.\n"
    "Backward must write din and add (+=) to the parameter gradients; a din\n"
    "element left unwritten fails the check.\n"
    "\n"
    "Prints one row per tensor (the input, then each trainable parameter):\n"
    "elements, checked, skipped, the worst error with its element and both values.\n"
    "\n"
    "  --layer NAME        the layer plugin (NAME.so)\n"
    "  -s, --set KEY=VALUE one option of the layer, the value read as YAML\n"
    "                      (repeatable), e.g. -s out_channels=4 -s kernel=3\n"
    "  --input CxHxW       the shape of one input image, e.g. 3x8x8 (or 10x1x1)\n"
    "  --batch N           images in the batch (default 2)\n"
    "  --seed N            seed of the random values and of ctx->seed (default 0);\n"
    "                      the same seed on every forward, so dropout's mask is fixed\n"
    "  --samples K         elements checked per tensor, spread at random (default 64;\n"
    "                      0: all)\n"
    "  --tol X             the largest error that passes (default 0.02: float32\n"
    "                      forward passes with h = 0.01 differ from the exact\n"
    "                      gradient by about 1e-4 to 1e-3; real mistakes by 0.1 to 1)\n"
    "  --step H            h relative to max(1, |v|) (default 0.01)\n"
    "  --eval              ctx->training = 0 (batch norm's running statistics,\n"
    "                      dropout off); by default the layer runs in training mode\n"
    "  --threads N         ctx->threads, 1 to 64 (default 1)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 every tensor within the tolerance, 1 a tensor beyond it (or\n"
    "din not written), 2 a usage error (unknown layer, bad shape or option).\n";

typedef struct gc_args {
    const char *layer;
    char **sets;
    int n_sets;
    strata_shape in;
    gradcheck_opts o;
} gc_args;

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return cli_usage(&cmd_gradcheck, "%s: expected a whole number from %ld to %ld, got '%s'", opt, lo, hi, s);
    *out = v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > lo) || v > hi)
        return cli_usage(&cmd_gradcheck, "%s: expected a number above %g, at most %g, got '%s'", opt, lo, hi, s);
    *out = v;
    return 0;
}

/* "CxHxW", each a whole number from 1 to 65536. */
static int parse_shape(const char *s, strata_shape *out)
{
    long d[3];
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        d[i] = strtol(p, &end, 10);
        int sep_ok = i < 2 ? *end == 'x' : *end == '\0';
        if (errno || end == p || !sep_ok || d[i] < 1 || d[i] > 65536 || *p == '-' || *p == '+')
            return cli_usage(&cmd_gradcheck, "--input: expected CxHxW, three whole numbers from 1 to 65536 "
                             "(e.g. 3x8x8), got '%s'", s);
        p = end + 1;
    }
    *out = (strata_shape){(int)d[0], (int)d[1], (int)d[2]};
    return 0;
}

static int parse_option(gc_args *a, int c, const char *arg)
{
    long v = 0;
    switch (c) {
    case 'l': a->layer = arg; return 0;
    case 's':
        if (!strchr(arg, '=') || arg[0] == '=')
            return cli_usage(&cmd_gradcheck, "-s: expected OPTION=VALUE, got '%s'", arg);
        a->sets[a->n_sets++] = (char *)arg;
        return 0;
    case 'i': return parse_shape(arg, &a->in);
    case 'b': return parse_long("--batch", arg, 1, 4096, &v) ? 2 : (a->o.batch = (int)v, 0);
    case 'r': return parse_long("--seed", arg, 0, 0x7fffffffL, &v) ? 2 : (a->o.seed = (uint64_t)v, 0);
    case 'k': return parse_long("--samples", arg, 0, 1L << 30, &v) ? 2 : (a->o.samples = (size_t)v, 0);
    case 't': return parse_long("--threads", arg, 1, 64, &v) ? 2 : (a->o.threads = (int)v, 0);
    case 'x': return parse_double("--tol", arg, 0.0, 1e6, &a->o.tol);
    case 'e': return parse_double("--step", arg, 0.0, 1.0, &a->o.step);
    case 'v': a->o.training = 0; return 0;
    default: return cli_usage(&cmd_gradcheck, "unknown option '%s'", arg);
    }
}

static int parse_args(int argc, char **argv, gc_args *a)
{
    static const struct option longopts[] = {
        {"layer", required_argument, 0, 'l'},   {"set", required_argument, 0, 's'},
        {"input", required_argument, 0, 'i'},   {"batch", required_argument, 0, 'b'},
        {"seed", required_argument, 0, 'r'},    {"samples", required_argument, 0, 'k'},
        {"tol", required_argument, 0, 'x'},     {"step", required_argument, 0, 'e'},
        {"eval", no_argument, 0, 'v'},          {"threads", required_argument, 0, 't'},
        {0, 0, 0, 0}};
    a->o = (gradcheck_opts){.batch = 2, .samples = 64, .step = GRADCHECK_STEP, .tol = GRADCHECK_TOL,
                            .training = 1, .threads = 1};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":s:", longopts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *what = c == ':' ? "missing value for" : "unknown option";
            return cli_usage(&cmd_gradcheck, "%s '%s'", what, argv[optind - 1]);
        }
        if (parse_option(a, c, optarg))
            return 2;
    }
    if (optind < argc)
        return cli_usage(&cmd_gradcheck, "unexpected argument '%s'", argv[optind]);
    if (!a->layer)
        return cli_usage(&cmd_gradcheck, "--layer NAME is required");
    if (a->in.c == 0)
        return cli_usage(&cmd_gradcheck, "--input CxHxW is required");
    return 0;
}

/* The -s options as one YAML mapping, "KEY: VALUE" a line (NULL: error set). */
static ynode *options_tree(const gc_args *a, strata_err *err)
{
    size_t size = 1;
    for (int i = 0; i < a->n_sets; i++)
        size += strlen(a->sets[i]) + 3;
    char *text = calloc(1, size);
    if (!text) {
        err_set(err, STRATA_ERR_RUNTIME, "out of memory");
        return NULL;
    }
    size_t len = 0;
    for (int i = 0; i < a->n_sets; i++) {
        const char *eq = strchr(a->sets[i], '=');
        len += (size_t)sprintf(text + len, "%.*s: %s\n", (int)(eq - a->sets[i]), a->sets[i], eq + 1);
    }
    ynode *root = yaml_load_string(text, "-s", err);
    free(text);
    if (root && root->kind != YNODE_MAP) {
        err_set(err, STRATA_ERR_CONFIG, "-s: expected OPTION=VALUE options of the layer");
        ynode_free(root);
        return NULL;
    }
    return root;
}

/* Create the layer with its options, as the host does for `strata run`. */
static void *create_layer(const strata_plugin *p, const gc_args *a, ynode *opts, strata_shape *out,
                          strata_err *err)
{
    strata_opts o;
    opts_init(&o, opts, "", err);
    void *self = p->layer->create(plugins_host(), &o, a->in, out);
    if (!self) {
        if (!o.failed)
            err_set(err, STRATA_ERR_CONFIG, "%s refused its options or the input %dx%dx%d", a->layer, a->in.c,
                    a->in.h, a->in.w);
        return NULL;
    }
    if (opts_check_unused(&o, a->layer) == 0 && out->c >= 1 && out->h >= 1 && out->w >= 1)
        return self;
    if (!o.failed)
        err_set(err, STRATA_ERR_CONFIG, "%s leaves no output for input %dx%dx%d", a->layer, a->in.c, a->in.h,
                a->in.w);
    p->layer->destroy(self);
    return NULL;
}

static void print_report(const gc_args *a, const strata_plugin *p, const gradcheck_result *r)
{
    printf("layer %s %s, input %dx%dx%d, output %dx%dx%d, batch %d, seed %llu, %s\n", p->name,
           p->version ? p->version : "-", a->in.c, a->in.h, a->in.w, r->out.c, r->out.h, r->out.w, a->o.batch,
           (unsigned long long)a->o.seed, a->o.training ? "training" : "eval");
    printf("%-16s %10s %8s %8s %12s %10s %13s %13s %6s\n", "tensor", "elements", "checked", "skipped",
           "worst error", "at", "numeric", "analytic", "result");
    for (int i = 0; i < r->n; i++) {
        const gradcheck_tensor *t = &r->t[i];
        int ok = !t->unwritten && t->worst <= a->o.tol && (t->checked || !t->size);
        printf("%-16s %10zu %8zu %8zu %12.3e %10zu %13.6g %13.6g %6s\n", t->name, t->size, t->checked,
               t->skipped, t->worst, t->worst_at, t->numeric, t->analytic, ok ? "ok" : "FAIL");
        if (t->unwritten)
            printf("%-16s %zu elements of din left unwritten by backward\n", "", (size_t)t->unwritten);
    }
    printf("tolerance %.3g: %s\n", a->o.tol, gradcheck_passed(r, a->o.tol) ? "passed" : "FAILED");
}

static int check(const gc_args *a, ynode *opts, strata_err *err)
{
    plugin_registry reg;
    plugins_init(&reg, cli_plugin_dir);
    int status = STRATA_ERR_CONFIG;
    const strata_plugin *p = plugins_find(&reg, STRATA_PLUGIN_LAYER, a->layer, err);
    strata_shape out;
    void *self = p ? create_layer(p, a, opts, &out, err) : NULL;
    if (self) {
        gradcheck_result r;
        blas_set_threads(a->o.threads);
        if (gradcheck_layer(p->layer, self, a->in, out, &a->o, &r, err) == 0) {
            print_report(a, p, &r);
            status = gradcheck_passed(&r, a->o.tol) ? 0 : STRATA_ERR_RUNTIME;
        } else {
            status = err->status;
        }
        p->layer->destroy(self);
    }
    plugins_free(&reg);
    return status;
}

static int run(int argc, char **argv)
{
    gc_args a = {.sets = calloc(argc, sizeof(char *))};
    if (!a.sets)
        return 1;
    strata_err err = {0};
    int status = parse_args(argc, argv, &a);
    ynode *opts = status ? NULL : options_tree(&a, &err);
    if (!status && !opts)
        status = cli_fail(&err);
    if (!status) {
        status = check(&a, opts, &err);
        if (status && err.msg[0])
            cli_fail(&err);
        else if (status)
            fprintf(stderr, "strata gradcheck: %s: a gradient fails the check (tolerance %g; see the table)\n",
                    a.layer, a.o.tol);
    }
    ynode_free(opts);
    free(a.sets);
    return status;
}

const cli_command cmd_gradcheck = {"gradcheck", "check a layer plugin's gradients by finite differences", run,
                                   usage};
