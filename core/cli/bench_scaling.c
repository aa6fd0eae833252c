/* bench_scaling.c — the tables of `strata bench --ranks N --link GBIT`
 * (see bench_scaling.h). Three variants per link: fp32 gradients and fp16
 * gradients at the experiment's global batch (each rank takes
 * ceil(batch / N) images: strong scaling), and fp32 at the global batch per
 * rank (global batch x N: weak scaling). Speed-up is images/s against one
 * rank at the global batch; efficiency is speed-up / N. */
#include <stdio.h>
#include "cli/bench_scaling.h"
#include "cli/cli.h"

enum { VARIANT_FP32, VARIANT_FP16, VARIANT_WEAK, N_VARIANTS };
static const char *const variant_gradients[N_VARIANTS] = {"fp32", "fp16", "fp32"};
static const char *const variant_scaling[N_VARIANTS] = {"strong", "strong", "weak"};

typedef struct scaling_row {
    int ranks, global_batch, rank_batch;
    scaling_result r;
    double images_per_sec, speedup, efficiency;
} scaling_row;

int scaling_batches_needed(const scaling_opts *o, int global_batch, int *out)
{
    int n = 0;
    for (int i = 0; i < o->n_ranks; i++) {
        int b = scaling_rank_batch(global_batch, o->ranks[i]);
        int seen = b == 0 || b == global_batch;
        for (int j = 0; j < n && !seen; j++)
            seen = out[j] == b;
        if (!seen)
            out[n++] = b;
    }
    return n;
}

static const step_measure *measure_at(const step_measure *m, int n_m, int batch)
{
    for (int i = 0; i < n_m; i++)
        if (m[i].batch == batch)
            return &m[i];
    return NULL;
}

/* One link bandwidth and bucket size of the options. */
typedef struct scaling_net {
    double gbit, bucket_mb;
} scaling_net;

static scaling_result predict(const step_measure *m, int ranks, scaling_net net, const scaling_opts *o, double scale)
{
    scaling_step s = {m->n_layers, m->layers, m->loss_ms, m->optim_ms, o->host_speed};
    scaling_link l = {net.gbit, o->latency_us, net.bucket_mb * 1048576.0, scale};
    return scaling_predict(&s, ranks, &l);
}

/* Images/s of one rank at the global batch: the reference for speed-ups. */
static double one_rank_rate(const step_measure *m, int n_m, int global_batch, const scaling_opts *o)
{
    scaling_result r = predict(measure_at(m, n_m, global_batch), 1, (scaling_net){1, 1}, o, 1);
    return scaling_images_per_sec(global_batch, r.step_ms);
}

/* The row of variant v for ranks over net; 0 when there are more ranks
 * than images to share (strong scaling only). */
static int make_row(const scaling_opts *o, const step_measure *m, int n_m, int global_batch, scaling_net net, int v,
                    int ranks, scaling_row *row)
{
    row->ranks = ranks;
    row->global_batch = v == VARIANT_WEAK ? global_batch * ranks : global_batch;
    row->rank_batch = v == VARIANT_WEAK ? global_batch : scaling_rank_batch(global_batch, ranks);
    if (!row->rank_batch)
        return 0;
    row->r = predict(measure_at(m, n_m, row->rank_batch), ranks, net, o, v == VARIANT_FP16 ? 0.5 : 1);
    row->images_per_sec = scaling_images_per_sec(row->global_batch, row->r.step_ms);
    row->speedup = row->images_per_sec / one_rank_rate(m, n_m, global_batch, o);
    row->efficiency = row->speedup / ranks;
    return 1;
}

static double gradient_mib(const step_measure *m)
{
    double bytes = 0;
    for (int i = 0; i < m->n_layers; i++)
        bytes += m->layers[i].grad_bytes;
    return bytes / 1048576.0;
}

static void print_variant_text(const scaling_opts *o, const step_measure *m, int n_m, int global_batch,
                               scaling_net net, int v)
{
    printf("\n%g Gbit/s, %g MiB buckets, %s gradients, ", net.gbit, net.bucket_mb, variant_gradients[v]);
    if (v == VARIANT_WEAK)
        printf("batch %d per rank (global batch %d x ranks: weak scaling)\n", global_batch, global_batch);
    else
        printf("global batch %d shared by the ranks (strong scaling)\n", global_batch);
    printf("%6s %10s %8s %11s %9s %11s %10s %10s %9s %10s\n", "ranks", "batch/rank", "buckets", "compute ms",
           "comm ms", "exposed ms", "step ms", "images/s", "speed-up", "efficiency");
    for (int i = 0; i < o->n_ranks; i++) {
        scaling_row w;
        if (!make_row(o, m, n_m, global_batch, net, v, o->ranks[i], &w)) {
            printf("%6d %10s (more ranks than the global batch's %d images)\n", o->ranks[i], "-", global_batch);
            continue;
        }
        printf("%6d %10d %8d %11.1f %9.1f %11.1f %10.1f %10.2f %9.2f %10.3f\n", w.ranks, w.rank_batch, w.r.buckets,
               w.r.compute_ms, w.r.comm_ms, w.r.exposed_ms, w.r.step_ms, w.images_per_sec, w.speedup, w.efficiency);
    }
}

void scaling_print_text(const scaling_opts *o, int global_batch, const step_measure *m, int n_m, int64_t params,
                        int threads)
{
    const step_measure *ref = measure_at(m, n_m, global_batch);
    printf("\nscaling model: ring allreduce of %.1f MiB of fp32 gradients (%lld parameters) in buckets, "
           "latency %g us per hop; compute measured here at each rank's batch on %d threads",
           gradient_mib(ref), (long long)params, o->latency_us, threads);
    if (o->host_speed != 1)
        printf(", divided by %g (--host-speed)", o->host_speed);
    printf("; 1 rank: %.2f images/s\n", one_rank_rate(m, n_m, global_batch, o));
    for (int k = 0; k < o->n_links; k++)
        for (int j = 0; j < o->n_buckets; j++)
            for (int v = 0; v < N_VARIANTS; v++)
                print_variant_text(o, m, n_m, global_batch, (scaling_net){o->links[k], o->buckets[j]}, v);
}

static void print_row_json(const scaling_row *w, scaling_net net, int v, int *first)
{
    printf("%s\n   {\"link_gbit\": %g, \"bucket_mb\": %g, \"gradients\": \"%s\", \"scaling\": \"%s\", \"ranks\": %d, "
           "\"global_batch\": %d, \"batch_per_rank\": %d, \"buckets\": %d, \"gradient_bytes\": %.0f,\n"
           "    \"compute_ms\": %.4f, \"comm_ms\": %.4f, \"exposed_ms\": %.4f, \"step_ms\": %.4f, "
           "\"images_per_sec\": %.4f, \"speedup\": %.4f, \"efficiency\": %.4f}",
           *first ? "" : ",", net.gbit, net.bucket_mb, variant_gradients[v], variant_scaling[v], w->ranks, w->global_batch,
           w->rank_batch, w->r.buckets, w->r.grad_bytes, w->r.compute_ms, w->r.comm_ms, w->r.exposed_ms,
           w->r.step_ms, w->images_per_sec, w->speedup, w->efficiency);
    *first = 0;
}

static void print_measures_json(const step_measure *m, int n_m)
{
    printf("  \"measured\": [");
    for (int i = 0; i < n_m; i++) {
        double fwd = 0, bwd = 0;
        for (int j = 0; j < m[i].n_layers; j++)
            fwd += m[i].layers[j].fwd_ms, bwd += m[i].layers[j].bwd_ms;
        printf("%s{\"batch\": %d, \"forward_ms\": %.4f, \"loss_ms\": %.4f, \"backward_ms\": %.4f, "
               "\"optimizer_ms\": %.4f}",
               i ? ",\n    " : "", m[i].batch, fwd, m[i].loss_ms, bwd, m[i].optim_ms);
    }
    printf("],\n");
}

void scaling_print_json(const scaling_opts *o, int global_batch, const step_measure *m, int n_m, int64_t params,
                        int threads)
{
    const step_measure *ref = measure_at(m, n_m, global_batch);
    printf("\"scaling\": {\"global_batch\": %d, \"parameters\": %lld, \"gradient_bytes\": %.0f, "
           "\"latency_us\": %g, \"host_speed\": %g, \"threads\": %d,\n",
           global_batch, (long long)params, gradient_mib(ref) * 1048576.0, o->latency_us, o->host_speed, threads);
    print_measures_json(m, n_m);
    printf("  \"rows\": [");
    int first = 1;
    for (int k = 0; k < o->n_links; k++)
        for (int j = 0; j < o->n_buckets; j++)
            for (int v = 0; v < N_VARIANTS; v++)
                for (int i = 0; i < o->n_ranks; i++) {
                    scaling_net net = {o->links[k], o->buckets[j]};
                    scaling_row w;
                    if (make_row(o, m, n_m, global_batch, net, v, o->ranks[i], &w))
                        print_row_json(&w, net, v, &first);
                }
    printf("]}");
}
