/* scaling_model.h — the step time of data-parallel training on N hosts,
 * predicted from one host's measured compute and a ring-allreduce model of
 * the gradient exchange (`strata bench --ranks N --link GBIT`).
 *
 * Gradients are exchanged in buckets, filled in backward order (from the
 * top layer down) until a bucket holds at least bucket_bytes; a layer is
 * never split. A bucket can start when backward has finished its lowest
 * layer and the previous bucket's allreduce has finished (one link). Its
 * ring allreduce takes 2(N-1)/N x bytes / bandwidth + 2(N-1) x latency.
 * The step is forward + loss + max(end of backward, end of the last
 * allreduce) + optimizer. Pure functions, no I/O. */
#ifndef STRATA_SCALING_MODEL_H
#define STRATA_SCALING_MODEL_H

/* One layer as measured at the per-rank batch. */
typedef struct scaling_layer {
    double fwd_ms, bwd_ms;
    double grad_bytes; /* its trained parameters' gradients (0: none) */
} scaling_layer;

/* One host's measured step, layers in forward order. */
typedef struct scaling_step {
    int n_layers;
    const scaling_layer *layers;
    double loss_ms, optim_ms;
    double host_speed; /* the modelled hosts compute this many times as fast (0: 1) */
} scaling_step;

/* The interconnect and the exchange. */
typedef struct scaling_link {
    double gbit;         /* bandwidth per host and direction, Gbit/s (1e9 bit/s) */
    double latency_us;   /* per message hop */
    double bucket_bytes; /* a bucket closes once it holds at least this */
    double bytes_scale;  /* 1 for fp32 gradients, 0.5 for fp16 */
} scaling_link;

/* The predicted step on N ranks. */
typedef struct scaling_result {
    int ranks, buckets;
    double grad_bytes;  /* exchanged per step, after bytes_scale */
    double compute_ms;  /* forward + loss + backward + optimizer */
    double comm_ms;     /* the buckets' allreduce times, summed */
    double exposed_ms;  /* communication not hidden behind backward */
    double step_ms;     /* compute_ms + exposed_ms */
} scaling_result;

/* Milliseconds of one ring allreduce of bytes over ranks (0 for 1 rank). */
double ring_allreduce_ms(int ranks, double bytes, double gbit, double latency_us);

/* The step of s on ranks ranks over link l. */
scaling_result scaling_predict(const scaling_step *s, int ranks, const scaling_link *l);

/* Images per second of a step of global_batch images taking step_ms. */
double scaling_images_per_sec(int global_batch, double step_ms);

/* The batch of the slowest rank when global_batch is split over ranks
 * (sizes differ by at most one): ceil(global_batch / ranks); 0 when there
 * are more ranks than images. */
int scaling_rank_batch(int global_batch, int ranks);

#endif
