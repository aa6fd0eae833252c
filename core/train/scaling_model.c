/* scaling_model.c — data-parallel step time from measured compute and a
 * ring-allreduce model (see scaling_model.h). */
#include "train/scaling_model.h"

double ring_allreduce_ms(int ranks, double bytes, double gbit, double latency_us)
{
    if (ranks <= 1 || bytes <= 0)
        return 0;
    double hops = 2.0 * (ranks - 1);
    double seconds = hops / ranks * bytes * 8.0 / (gbit * 1e9);
    return 1e3 * seconds + hops * latency_us * 1e-3;
}

/* The link is free from *link_free (ms); a bucket of bytes ready at ready
 * runs after both and moves *link_free to its end. */
static void run_bucket(double ready, double bytes, int ranks, const scaling_link *l, double *link_free,
                       scaling_result *r)
{
    double t = ring_allreduce_ms(ranks, bytes, l->gbit, l->latency_us);
    double start = ready > *link_free ? ready : *link_free;
    *link_free = start + t;
    r->comm_ms += t;
    r->buckets++;
}

scaling_result scaling_predict(const scaling_step *s, int ranks, const scaling_link *l)
{
    scaling_result r = {.ranks = ranks};
    double k = s->host_speed > 0 ? 1 / s->host_speed : 1; /* measured ms -> modelled ms */
    double t = s->loss_ms * k;
    for (int i = 0; i < s->n_layers; i++)
        t += s->layers[i].fwd_ms * k;
    double link_free = 0, bucket = 0; /* t: end of forward and loss */
    for (int i = s->n_layers - 1; i >= 0; i--) {
        t += s->layers[i].bwd_ms * k;
        double bytes = s->layers[i].grad_bytes * l->bytes_scale;
        r.grad_bytes += bytes;
        bucket += bytes;
        if (bucket > 0 && bucket >= l->bucket_bytes) {
            run_bucket(t, bucket, ranks, l, &link_free, &r);
            bucket = 0;
        }
    }
    if (bucket > 0)
        run_bucket(t, bucket, ranks, l, &link_free, &r);
    double backward_end = t;
    double exchange_end = link_free > backward_end ? link_free : backward_end;
    r.compute_ms = backward_end + s->optim_ms * k;
    r.exposed_ms = exchange_end - backward_end;
    r.step_ms = exchange_end + s->optim_ms * k;
    return r;
}

double scaling_images_per_sec(int global_batch, double step_ms)
{
    return step_ms > 0 ? global_batch / (step_ms * 1e-3) : 0;
}

int scaling_rank_batch(int global_batch, int ranks)
{
    if (ranks < 1 || ranks > global_batch)
        return 0;
    return (global_batch + ranks - 1) / ranks;
}
