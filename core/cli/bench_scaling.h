/* bench_scaling.h — `strata bench --ranks N --link GBIT`: the scaling
 * model's tables (text and JSON) from the steps bench measured at each
 * rank's batch. The model itself is core/train/scaling_model.c. */
#ifndef STRATA_BENCH_SCALING_H
#define STRATA_BENCH_SCALING_H

#include <stdint.h>
#include "train/scaling_model.h"

/* One step measured at one batch size, per step (not summed). */
typedef struct step_measure {
    int batch;
    int n_layers;
    scaling_layer *layers; /* malloc'd */
    double loss_ms, optim_ms;
} step_measure;

/* What --ranks, --link, --latency and --bucket-mb asked for. */
typedef struct scaling_opts {
    const int *ranks;
    int n_ranks;
    const double *links; /* Gbit/s */
    int n_links;
    const double *buckets; /* --bucket-mb, MiB */
    int n_buckets;
    double latency_us;
    double host_speed; /* --host-speed: modelled hosts this many times as fast */
} scaling_opts;

/* The per-rank batches to measure for global_batch over o's rank counts:
 * each distinct ceil(global_batch / N) other than global_batch itself,
 * written to out (room for o->n_ranks); returns how many. */
int scaling_batches_needed(const scaling_opts *o, int global_batch, int *out);

/* The scaling tables: global_batch over each rank count, link and bucket
 * size, with fp32
 * and fp16 gradients and with global_batch per rank (weak scaling). m holds
 * a measurement for global_batch and for each batch scaling_batches_needed
 * named; params is the trained parameter count, threads the threads each
 * measurement used. */
void scaling_print_text(const scaling_opts *o, int global_batch, const step_measure *m, int n_m, int64_t params,
                        int threads);
/* The same as the members of a JSON object: `"scaling": {...}` (no braces
 * around it). */
void scaling_print_json(const scaling_opts *o, int global_batch, const step_measure *m, int n_m, int64_t params,
                        int threads);

#endif
