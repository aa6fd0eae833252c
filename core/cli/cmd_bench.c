/* cmd_bench.c — `strata bench EXPERIMENT.yaml [-s K=V]... [--batch N]
 * [--steps N] [--warmup N] [--threads N] [--json] [--no-sgemm]
 * [--ranks N,...] [--link GBIT,...] [--latency US] [--bucket-mb M,...]
 * [--host-speed X]`
 *
 * Times full training steps of the experiment's network on synthetic data
 * (seeded uniform inputs in [-1, 1), uniform labels): each layer's forward
 * and backward, the loss and the optimizer update, as the trainer runs
 * them (same memory plan, same plugin calls, same order). Reports images/s,
 * per-layer milliseconds and GFLOP/s, the BLAS kernel, threads, peak RSS,
 * and the sgemm 2048^3 rate of this BLAS as the ceiling to compare with.
 *
 * FLOPs per step: forward 2·MACs·batch for layers with MACs (conv2d,
 * linear); backward twice that (dweight and din), or once for the first
 * layer, whose din is not computed.
 *
 * With --ranks, the step is also measured at each rank's share of the
 * batch, and bench_scaling.c predicts data-parallel steps on N hosts from
 * those measurements (core/train/scaling_model.c). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "train/blas_select.h"
#include "cli/cli.h"
#include "config/experiment.h"
#include "model/init.h"
#include "train/loss.h"
#include "train/assemble.h"
#include "cli/bench_scaling.h"

static const char usage[] =
    "usage: strata bench EXPERIMENT.yaml [-s KEY.PATH=VALUE]... [--batch N] [--steps N]\n"
    "                    [--warmup N] [--threads N] [--json] [--no-sgemm]\n"
    "                    [--ranks N,...] [--link GBIT,...] [--latency US] [--bucket-mb M,...]\n"
    "                    [--host-speed X]\n"
    "\n"
    "Time training steps (forward, loss, backward, optimizer) of the experiment's\n"
    "network on synthetic seeded data; no data set is read. Prints images/s, each\n"
    "layer's forward and backward milliseconds and GFLOP/s, the optimizer's time,\n"
    "the OpenBLAS kernel in use, threads, peak memory, and the sgemm 2048^3 rate\n"
    "of this BLAS as the reference for the layers' efficiency.\n"
    "\n"
    "  -s, --set KEY.PATH=VALUE  override a key of the experiment (repeatable)\n"
    "      --batch N             images per step (default train.batch_size)\n"
    "      --steps N             timed steps (default 5)\n"
    "      --warmup N            untimed steps first (default 1)\n"
    "      --threads N           BLAS and layer threads (default train.threads)\n"
    "      --json                one JSON document instead of the table\n"
    "      --no-sgemm            skip the sgemm 2048^3 measurement\n"
    "  -h, --help                this text\n"
    "\n"
    "Scaling model (data-parallel training on N hosts, predicted, not run):\n"
    "      --ranks N[,N...]      rank counts to predict (repeatable); the step is also\n"
    "                            measured at each rank's share, ceil(batch / N)\n"
    "      --link GBIT[,GBIT...] link bandwidths in Gbit/s (repeatable; default 10)\n"
    "      --latency US          latency per message hop in microseconds (default 5)\n"
    "      --bucket-mb M[,M...]  gradient bucket sizes in MiB (repeatable; default 25,\n"
    "                            as train.bucket_mb)\n"
    "      --host-speed X        model hosts X times as fast as this one: the measured\n"
    "                            compute divided by X (default 1)\n"
    "  Each bucket (filled from the top layer down) is a ring allreduce of\n"
    "  2(N-1)/N x bytes / bandwidth + 2(N-1) x latency, started when backward has\n"
    "  finished its layers and the previous bucket is sent. Tables for fp32 and\n"
    "  fp16 gradients at the global batch, and fp32 at the global batch per rank.\n"
    "\n"
    "Exit status: 0 done, 1 runtime failure, 2 usage or configuration error.\n";

enum { MAX_LIST = 64 };

typedef struct bench_args {
    const char *path;
    char **sets;
    int n_sets;
    long batch, steps, warmup, threads; /* 0: from the experiment / default */
    int json, sgemm;
    int ranks[MAX_LIST];  /* --ranks, in the order given */
    double links[MAX_LIST]; /* --link, Gbit/s */
    double buckets[MAX_LIST]; /* --bucket-mb, MiB */
    scaling_opts scaling; /* n_ranks 0: no scaling model */
} bench_args;

/* What one bench measured; times are seconds summed over the timed steps. */
typedef struct bench_result {
    int n_layers;
    double *fwd, *bwd;  /* per layer */
    double loss, optim; /* loss + gradient zeroing; optimizer update */
    double total;       /* wall time of the timed steps */
    double sgemm_gflops; /* 0 when skipped */
    double peak_mib;
} bench_result;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A whole number in [lo, hi] from s, or -1 (message printed, exit 2). */
static int parse_count(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_usage(&cmd_bench, "%s: expected a whole number from %ld to %ld, got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* One number of a list: finite, in (lo, hi] (or [lo, hi] when lo_ok), whole
 * when whole; 0 or -1. */
static int list_item(const char *s, size_t len, double lo, int lo_ok, double hi, int whole, double *out)
{
    char buf[64], *end;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    errno = 0;
    double v = whole ? (double)strtol(buf, &end, 10) : strtod(buf, &end);
    if (errno || *end || !isfinite(v) || v > hi || v < lo || (v == lo && !lo_ok))
        return -1;
    *out = v;
    return 0;
}

/* Comma-separated numbers (see list_item) from s appended to out[*n];
 * -1 when one is not (message printed, exit 2). */
static int parse_list(const char *opt, const char *s, double lo, int lo_ok, double hi, int whole,
                      const char *expected, double *out, int *n)
{
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (*n == MAX_LIST) {
            cli_usage(&cmd_bench, "%s: at most %d values, got '%s'", opt, MAX_LIST, s);
            return -1;
        }
        if (list_item(p, len, lo, lo_ok, hi, whole, &out[*n])) {
            cli_usage(&cmd_bench, "%s: expected %s, got '%s'", opt, expected, s);
            return -1;
        }
        ++*n;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int parse_ranks(const char *s, bench_args *a)
{
    double v[MAX_LIST];
    int n = a->scaling.n_ranks;
    if (parse_list("--ranks", s, 1, 1, 65536, 1, "whole numbers from 1 to 65536 separated by commas", v, &n))
        return -1;
    for (int i = a->scaling.n_ranks; i < n; i++)
        a->ranks[i] = (int)v[i];
    a->scaling.n_ranks = n;
    return 0;
}

static int parse_scaling_args(int c, const char *arg, bench_args *a)
{
    double v[MAX_LIST];
    int n = 0;
    scaling_opts *o = &a->scaling;
    if (c == 'r')
        return parse_ranks(arg, a);
    if (c == 'l')
        return parse_list("--link", arg, 0, 0, 1e6, 0, "Gbit/s above 0 (at most 1e6) separated by commas", a->links,
                          &o->n_links);
    if (c == 'B')
        return parse_list("--bucket-mb", arg, 0, 0, 1e6, 0, "MiB above 0 (at most 1e6) separated by commas",
                          a->buckets, &o->n_buckets);
    const char *opt = c == 'L' ? "--latency" : "--host-speed";
    const char *expected = c == 'L' ? "microseconds from 0 to 1e6" : "a factor above 0 (at most 1e6)";
    if (parse_list(opt, arg, 0, c == 'L', 1e6, 0, expected, v, &n))
        return -1;
    if (n != 1)
        return cli_usage(&cmd_bench, "%s: expected one number, got '%s'", opt, arg);
    *(c == 'L' ? &o->latency_us : &o->host_speed) = v[0];
    return 0;
}

/* --link, --latency, --bucket-mb and --host-speed only with --ranks;
 * default link 10 Gbit/s, buckets of 25 MiB. */
static int check_scaling_args(bench_args *a, int model_opts)
{
    scaling_opts *o = &a->scaling;
    if (model_opts && !o->n_ranks)
        return cli_usage(&cmd_bench, "--link, --latency, --bucket-mb and --host-speed need --ranks");
    if (o->n_ranks && !o->n_links)
        a->links[o->n_links++] = 10;
    if (o->n_ranks && !o->n_buckets)
        a->buckets[o->n_buckets++] = 25;
    o->ranks = a->ranks;
    o->links = a->links;
    o->buckets = a->buckets;
    return 0;
}

static int parse_args(int argc, char **argv, bench_args *a)
{
    static const struct option longopts[] = {
        {"set", required_argument, 0, 's'},   {"batch", required_argument, 0, 'b'},
        {"steps", required_argument, 0, 'n'}, {"warmup", required_argument, 0, 'w'},
        {"threads", required_argument, 0, 't'}, {"json", no_argument, 0, 'j'},
        {"no-sgemm", no_argument, 0, 'g'},    {"ranks", required_argument, 0, 'r'},
        {"link", required_argument, 0, 'l'},  {"latency", required_argument, 0, 'L'},
        {"bucket-mb", required_argument, 0, 'B'}, {"host-speed", required_argument, 0, 'H'}, {0, 0, 0, 0}};
    int c, model_opts = 0;
    a->steps = 5, a->warmup = 1, a->sgemm = 1;
    a->scaling.latency_us = 5, a->scaling.host_speed = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
        int bad = 0;
        strata_err err = {0};
        if (c == 's' && experiment_override_syntax(optarg, &err))
            return cli_fail(&err);
        else if (c == 's')
            a->sets[a->n_sets++] = optarg;
        else if (c == 'b')
            bad = parse_count("--batch", optarg, 1, 1 << 16, &a->batch);
        else if (c == 'n')
            bad = parse_count("--steps", optarg, 1, 1000000, &a->steps);
        else if (c == 'w')
            bad = parse_count("--warmup", optarg, 0, 1000000, &a->warmup);
        else if (c == 't')
            bad = parse_count("--threads", optarg, 1, 1024, &a->threads);
        else if (c == 'j')
            a->json = 1;
        else if (c == 'g')
            a->sgemm = 0;
        else if (c == 'r' || c == 'l' || c == 'L' || c == 'B' || c == 'H') {
            bad = parse_scaling_args(c, optarg, a);
            model_opts |= c != 'r';
        } else
            return cli_usage(&cmd_bench, "unknown option or missing value '%s'", argv[optind - 1]);
        if (bad)
            return STRATA_ERR_CONFIG;
    }
    if (optind != argc - 1)
        return cli_usage(&cmd_bench, "expected one EXPERIMENT.yaml");
    a->path = argv[optind];
    return check_scaling_args(a, model_opts);
}

/* Everything a bench holds. */
typedef struct bench {
    experiment x;
    plugin_registry reg;
    assembly m;
    int *labels;
    int batch, threads;
} bench;

static int bench_prepare(bench *b, const bench_args *a, strata_err *err)
{
    memset(b, 0, sizeof *b);
    plugins_init(&b->reg, cli_plugin_dir);
    if (experiment_load(a->path, a->sets, a->n_sets, &b->x, err))
        return -1;
    const train_cfg *t = &b->x.train;
    b->batch = a->batch ? (int)a->batch : t->batch_size;
    b->threads = a->threads ? (int)a->threads : t->threads;
    if (assembly_create(&b->m, &b->x, &b->reg, 1, err))
        return -1;
    blas_set_threads(b->threads);
    assembly_cfg cfg = {.batch = b->batch, .threads = b->threads, .init_params = 1};
    if (assembly_alloc(&b->m, &b->x, &cfg, err))
        return -1;
    b->labels = calloc(b->batch, sizeof *b->labels);
    if (!b->labels)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for %d labels", b->batch);
    return 0;
}

static void bench_free(bench *b)
{
    assembly_free(&b->m);
    experiment_free(&b->x);
    plugins_free(&b->reg);
    free(b->labels);
}

/* x (batch, C, H, W) uniform in [-1, 1); labels uniform in [0, k). */
static void synthetic_batch(float *x, size_t n_x, int *labels, int batch, int k, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n_x; i++)
        x[i] = 2.0f * strata_rng_uniform(&s) - 1.0f;
    for (int i = 0; i < batch; i++)
        labels[i] = (int)(strata_rng_next(&s) % (uint64_t)k);
}

/* One training step, each part's time added to r (when r is not NULL). */
static double timed_step(bench *b, double lr, bench_result *r)
{
    int ok;
    step_times times = {0};
    if (r)
        times.fwd = r->fwd, times.bwd = r->bwd, times.loss = r->loss, times.optim = r->optim;
    double loss = trainer_train_step_timed(&b->m.tr, &b->m.opt, b->labels, b->batch, lr, b->x.train.label_smoothing,
                                           &ok, r ? &times : NULL);
    if (r)
        r->loss = times.loss, r->optim = times.optim;
    return loss;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* FLOPs per step of layer i, forward and backward (0 without MACs). */
static void layer_flops(const bench *b, int i, double *fwd, double *bwd)
{
    const net_layer *nl = &b->m.net.layers[i];
    int64_t macs = nl->plugin->layer->macs ? nl->plugin->layer->macs(nl->self) : 0;
    *fwd = 2.0 * (double)macs * b->batch;
    *bwd = *fwd * (i ? 2.0 : 1.0);
}

static const char *omp_wait_policy(void)
{
    const char *p = getenv("OMP_WAIT_POLICY");
    return p ? p : "(unset)";
}

static double gflops(double flops, double seconds) { return seconds > 0 ? flops / seconds * 1e-9 : 0; }

/* How layer i computes, as its plugin describes it ("" when it does not). */
static const char *layer_path(const bench *b, int i, char *buf, size_t size)
{
    const net_layer *nl = &b->m.net.layers[i];
    nl->plugin->layer->describe(nl->self, buf, size);
    return buf;
}

static void print_text(const bench *b, const bench_args *a, const bench_result *r)
{
    int steps = (int)a->steps;
    double fl_total = 0, t_total = 0;
    printf("strata bench: %s (%s, %lld parameters), batch %d, %d timed steps after %ld warm-up, %d thread%s\n",
           b->x.name, b->x.model.desc, (long long)network_trainable(&b->m.net), b->batch, steps, a->warmup,
           b->threads, b->threads == 1 ? "" : "s");
    printf("BLAS kernel: %s; ISA path: %s; OMP_WAIT_POLICY=%s\n\n", blas_kernel_note(), strata_isa_note(),
           omp_wait_policy());
    printf("%-14s %-18s %10s %10s %10s %10s  %s\n", "layer", "type", "fwd ms", "bwd ms", "fwd GF/s", "bwd GF/s",
           "path");
    for (int i = 0; i < r->n_layers; i++) {
        const layer_spec *sp = b->m.net.layers[i].spec;
        double ff, fb;
        char path[128];
        layer_flops(b, i, &ff, &fb);
        printf("%-14s %-18s %10.2f %10.2f", sp->name, sp->type, 1e3 * r->fwd[i] / steps, 1e3 * r->bwd[i] / steps);
        if (ff > 0)
            printf(" %10.1f %10.1f", gflops(ff * steps, r->fwd[i]), gflops(fb * steps, r->bwd[i]));
        else
            printf(" %10s %10s", "-", "-");
        layer_path(b, i, path, sizeof path);
        printf(*path ? "  %s\n" : "\n", path);
        fl_total += (ff + fb) * steps;
        t_total += r->fwd[i] + r->bwd[i];
    }
    printf("%-14s %-18s %10.2f\n", "loss+zero", "softmax_xent", 1e3 * r->loss / steps);
    printf("%-14s %-18s %10.2f\n", "optimizer", b->x.optimizer.name, 1e3 * r->optim / steps);
    printf("\nstep: %.1f ms, %.2f images/s; layers: %.1f GFLOP/s overall\n", 1e3 * r->total / steps,
           b->batch * steps / r->total, gflops(fl_total, t_total));
    if (r->sgemm_gflops > 0)
        printf("sgemm 2048^3: %.1f GFLOP/s (%d threads); layers reach %.0f%% of it\n", r->sgemm_gflops, b->threads,
               100.0 * gflops(fl_total, t_total) / r->sgemm_gflops);
    printf("peak memory: %.1f MiB (step plan: activations and their gradients %.1f (%.1f unshared), kept for "
           "backward %.1f, workspace %.1f; parameters, gradients and optimizer state %.1f MiB)\n",
           r->peak_mib, b->m.tr.plan.arena / 1048576.0, b->m.tr.plan.unshared / 1048576.0,
           b->m.tr.plan.saved / 1048576.0, b->m.tr.plan.scratch / 1048576.0,
           (double)b->m.net.total * sizeof(float) * (2 + b->m.opt.n_slots) / 1048576.0);
}

static void print_json(const bench *b, const bench_args *a, const bench_result *r)
{
    int steps = (int)a->steps;
    printf("{\"experiment\": ");
    json_string(stdout, a->path);
    printf(", \"name\": ");
    json_string(stdout, b->x.name);
    printf(", \"model\": ");
    json_string(stdout, b->x.model.desc);
    printf(", \"parameters\": %lld, \"batch\": %d, \"steps\": %d, \"warmup\": %ld, \"threads\": %d,\n",
           (long long)network_trainable(&b->m.net), b->batch, steps, a->warmup, b->threads);
    printf(" \"blas_kernel\": ");
    json_string(stdout, blas_kernel_name());
    printf(", \"blas_note\": ");
    json_string(stdout, blas_kernel_note());
    printf(", \"isa\": ");
    json_string(stdout, strata_isa_name(strata_isa()));
    printf(", \"isa_cpu\": ");
    json_string(stdout, strata_isa_name(strata_isa_cpu()));
    printf(", \"omp_wait_policy\": ");
    json_string(stdout, omp_wait_policy());
    printf(",\n \"layers\": [");
    for (int i = 0; i < r->n_layers; i++) {
        const layer_spec *sp = b->m.net.layers[i].spec;
        double ff, fb;
        layer_flops(b, i, &ff, &fb);
        printf("%s\n  {\"name\": ", i ? "," : "");
        json_string(stdout, sp->name);
        printf(", \"type\": ");
        json_string(stdout, sp->type);
        char path[128];
        printf(", \"path\": ");
        json_string(stdout, layer_path(b, i, path, sizeof path));
        printf(", \"forward_ms\": %.4f, \"backward_ms\": %.4f, \"forward_gflops\": %.3f, \"backward_gflops\": %.3f}",
               1e3 * r->fwd[i] / steps, 1e3 * r->bwd[i] / steps, gflops(ff * steps, r->fwd[i]),
               gflops(fb * steps, r->bwd[i]));
    }
    printf("],\n \"loss_ms\": %.4f, \"optimizer\": ", 1e3 * r->loss / steps);
    json_string(stdout, b->x.optimizer.name);
    printf(", \"optimizer_ms\": %.4f,\n \"step_ms\": %.4f, \"images_per_sec\": %.4f, ", 1e3 * r->optim / steps,
           1e3 * r->total / steps, b->batch * steps / r->total);
    if (r->sgemm_gflops > 0)
        printf("\"sgemm_2048_gflops\": %.3f, ", r->sgemm_gflops);
    else
        printf("\"sgemm_2048_gflops\": null, ");
    printf("\"peak_rss_mib\": %.1f", r->peak_mib); /* the caller closes the object */
}

/* Warm up, time the steps, then sgemm (after the peak RSS is read, so its
 * 48 MiB of matrices do not count). */
static int bench_measure(bench *b, const bench_args *a, bench_result *r, strata_err *err)
{
    int k = (int)shape_size(b->m.net.layers[b->m.net.n_layers - 1].out);
    synthetic_batch(trainer_input(&b->m.tr), (size_t)b->batch * shape_size(b->m.net.input), b->labels, b->batch, k,
                    seed_stream_of(b->x.train.seed, SEED_BENCH_DATA));
    double lr = schedule_lr(&b->m.opt.sched, 0);
    for (long s = 0; s < a->warmup; s++)
        timed_step(b, lr, NULL);
    for (long s = 0; s < a->steps; s++) {
        double t0 = now();
        timed_step(b, lr, r);
        r->total += now() - t0;
    }
    r->peak_mib = peak_rss_mib();
    if (a->sgemm && blas_sgemm_gflops(2048, 0.5, &r->sgemm_gflops))
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for the sgemm 2048^3 matrices");
    return 0;
}

static int result_alloc(bench_result *r, int n_layers, strata_err *err)
{
    r->n_layers = n_layers;
    r->fwd = calloc(n_layers, sizeof *r->fwd);
    r->bwd = calloc(n_layers, sizeof *r->bwd);
    if (!r->fwd || !r->bwd)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for %d layers' times", n_layers);
    return 0;
}

static void result_free(bench_result *r)
{
    free(r->fwd);
    free(r->bwd);
}

/* r's times per step, and each layer's trained gradient bytes, as m. */
static int measure_of(const bench *b, const bench_args *a, const bench_result *r, step_measure *m, strata_err *err)
{
    double ms = 1e3 / (double)a->steps;
    m->batch = b->batch;
    m->n_layers = r->n_layers;
    m->layers = calloc(r->n_layers, sizeof *m->layers);
    if (!m->layers)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for %d layers' times", r->n_layers);
    for (int i = 0; i < r->n_layers; i++)
        m->layers[i].fwd_ms = r->fwd[i] * ms, m->layers[i].bwd_ms = r->bwd[i] * ms;
    for (int i = 0; i < b->m.net.n_params; i++) {
        const net_param *p = &b->m.net.params[i];
        if (!(p->desc.flags & STRATA_PARAM_BUFFER))
            m->layers[p->layer].grad_bytes += (double)p->count * sizeof(float);
    }
    m->loss_ms = r->loss * ms;
    m->optim_ms = r->optim * ms;
    return 0;
}

/* The experiment's step measured at another batch (no sgemm, no report). */
static int measure_batch(const bench_args *base, int batch, step_measure *m, strata_err *err)
{
    bench_args a = *base;
    a.batch = batch, a.sgemm = 0;
    bench b;
    bench_result r = {0};
    int rc = -1;
    if (!bench_prepare(&b, &a, err) && !result_alloc(&r, b.m.net.n_layers, err) && !bench_measure(&b, &a, &r, err))
        rc = measure_of(&b, &a, &r, m, err);
    result_free(&r);
    bench_free(&b);
    return rc;
}

/* The global batch: --batch, else the experiment's train.batch_size. */
static int global_batch(const bench_args *a, int *batch, strata_err *err)
{
    experiment x;
    if (experiment_load(a->path, a->sets, a->n_sets, &x, err))
        return -1;
    *batch = a->batch ? (int)a->batch : x.train.batch_size;
    experiment_free(&x);
    return 0;
}

/* Measures for the scaling model at each rank's batch other than the global
 * one, which the caller adds as m[0]; *n_m counts them (from 1). */
static int measure_rank_batches(const bench_args *a, step_measure *m, int *n_m, strata_err *err)
{
    int batches[MAX_LIST], gb;
    if (global_batch(a, &gb, err))
        return -1;
    int n = scaling_batches_needed(&a->scaling, gb, batches);
    for (int i = 0; i < n; i++) {
        if (measure_batch(a, batches[i], &m[*n_m], err))
            return -1;
        ++*n_m;
    }
    return 0;
}

/* The usual report, then the scaling model's when --ranks asked for it. */
static int report(const bench *b, const bench_args *a, const bench_result *r, step_measure *m, int n_m,
                  strata_err *err)
{
    int scaling = a->scaling.n_ranks > 0;
    if (scaling && measure_of(b, a, r, &m[0], err))
        return -1;
    int64_t params = network_trainable(&b->m.net);
    if (a->json) {
        print_json(b, a, r);
        if (scaling) {
            printf(",\n ");
            scaling_print_json(&a->scaling, b->batch, m, n_m, params, b->threads);
        }
        printf("}\n");
    } else {
        print_text(b, a, r);
        if (scaling)
            scaling_print_text(&a->scaling, b->batch, m, n_m, params, b->threads);
    }
    return 0;
}

static int run(int argc, char **argv)
{
    bench_args a = {0};
    a.sets = calloc(argc, sizeof *a.sets);
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        free(a.sets);
        return rc;
    }
    strata_err err = {0};
    bench b = {0};
    bench_result r = {0};
    step_measure m[MAX_LIST + 1] = {{0}};
    int n_m = 1; /* m[0]: the global batch, filled by report */
    if ((a.scaling.n_ranks && measure_rank_batches(&a, m, &n_m, &err)) || bench_prepare(&b, &a, &err) ||
        result_alloc(&r, b.m.net.n_layers, &err) || bench_measure(&b, &a, &r, &err) ||
        report(&b, &a, &r, m, n_m, &err))
        rc = cli_fail(&err);
    for (int i = 0; i < n_m; i++)
        free(m[i].layers);
    result_free(&r);
    bench_free(&b);
    free(a.sets);
    return rc;
}

const cli_command cmd_bench = {"bench", "time training steps per layer on synthetic data; BLAS and sgemm rates",
                               run, usage};
