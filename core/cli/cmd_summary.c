/* cmd_summary.c — `strata summary EXPERIMENT.yaml [-s k=v]... [--json]` */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "config/experiment.h"
#include "data/augment_config.h"
#include "model/summary.h"

static const char usage[] =
    "usage: strata summary EXPERIMENT.yaml [-s KEY.PATH=VALUE]... [--json]\n"
    "\n"
    "Build the experiment's model and print one row per layer: name, type,\n"
    "output shape (CxHxW), trainable parameters, receptive field and jump\n"
    "(accumulated from the input: F = F_prev + (k-1)*jump_prev, jump = jump_prev*stride,\n"
    "along the height), and multiply-adds per image. Then the totals: parameters,\n"
    "multiply-adds, and forward activation memory per image (all layer outputs,\n"
    "float32) in MiB.\n"
    "\n"
    "  -s, --set KEY.PATH=VALUE  override a key of the experiment (repeatable)\n"
    "      --json                print one JSON document instead of the table\n"
    "  -h, --help                this text\n";

static void print_table(const network *net, const layer_stats *st, const net_stats *t)
{
    printf("%-12s %-20s %16s %14s %6s %5s %16s\n", "layer", "type", "output", "params", "rf", "jump", "MACs");
    for (int i = 0; i < net->n_layers; i++) {
        const net_layer *nl = &net->layers[i];
        char shape[48];
        snprintf(shape, sizeof shape, "%dx%dx%d", nl->out.c, nl->out.h, nl->out.w);
        printf("%-12s %-20s %16s %14lld %6d %5d %16lld\n", nl->spec->name, nl->spec->type, shape,
               (long long)st[i].params, st[i].rf, st[i].jump, (long long)st[i].macs);
    }
    printf("\nmodel: %s, input %dx%dx%d\n", net->spec->desc, net->input.c, net->input.h, net->input.w);
    printf("parameters: %lld\n", (long long)t->params);
    printf("multiply-adds per image: %lld\n", (long long)t->macs);
    printf("activations per image (forward): %.2f MiB\n", t->act_mib);
}

static void print_json(const network *net, const layer_stats *st, const net_stats *t)
{
    printf("{\"model\": ");
    json_string(stdout, net->spec->desc);
    printf(", \"input\": [%d, %d, %d], \"layers\": [", net->input.c, net->input.h, net->input.w);
    for (int i = 0; i < net->n_layers; i++) {
        const net_layer *nl = &net->layers[i];
        printf("%s\n  {\"name\": ", i ? "," : "");
        json_string(stdout, nl->spec->name);
        printf(", \"type\": ");
        json_string(stdout, nl->spec->type);
        printf(", \"output\": [%d, %d, %d], \"params\": %lld, \"rf\": %d, \"jump\": %d, \"macs\": %lld}", nl->out.c,
               nl->out.h, nl->out.w, (long long)st[i].params, st[i].rf, st[i].jump, (long long)st[i].macs);
    }
    printf("],\n \"params\": %lld, \"macs\": %lld, \"activation_mib\": %.4f}\n", (long long)t->params,
           (long long)t->macs, t->act_mib);
}

/* The augmentation lists, checked as `strata run` checks them (a summary
 * of an experiment that cannot run would mislead). */
static int check_augment(const experiment *x, strata_err *err)
{
    aug_pipeline p;
    const model_spec *m = &x->model;
    return augment_config(x->augment_train, "augment.train", m->in_h, m->in_w, &p, err) ||
                   augment_config(x->augment_val, "augment.val", m->in_h, m->in_w, &p, err)
               ? -1
               : 0;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"set", required_argument, 0, 's'}, {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char **sets = calloc(argc, sizeof *sets);
    int n_sets = 0, json = 0, c;
    strata_err err = {0};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
        if (c == 's' && experiment_override_syntax(optarg, &err)) {
            free(sets);
            return cli_fail(&err);
        } else if (c == 's')
            sets[n_sets++] = optarg;
        else if (c == 'j')
            json = 1;
        else {
            free(sets);
            return cli_usage(&cmd_summary, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        free(sets);
        return cli_usage(&cmd_summary, "expected one EXPERIMENT.yaml");
    }
    experiment x;
    plugin_registry reg;
    network net = {0};
    int rc = 0;
    plugins_init(&reg, cli_plugin_dir);
    if (experiment_load(argv[optind], sets, n_sets, &x, &err) || check_augment(&x, &err) ||
        network_create(&net, &x.model, &reg, &err)) {
        rc = cli_fail(&err);
    } else {
        layer_stats *st = calloc(net.n_layers, sizeof *st);
        net_stats t;
        summary_compute(&net, st, &t);
        if (json)
            print_json(&net, st, &t);
        else
            print_table(&net, st, &t);
        free(st);
    }
    network_free(&net);
    experiment_free(&x);
    plugins_free(&reg);
    free(sets);
    return rc;
}

const cli_command cmd_summary = {"summary", "print a model's layers, shapes, parameters, receptive field and MACs",
                                 run, usage};
