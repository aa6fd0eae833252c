/* summary.c — see summary.h
 *
 * Receptive field, from the input forward (the tutorial's recurrence run the
 * other way): rf_0 = 1, jump_0 = 1; for a layer with kernel k and stride s,
 * rf = rf_prev + (k - 1)·jump_prev, jump = jump_prev·s. */
#include "model/summary.h"

void summary_compute(const network *net, layer_stats *stats, net_stats *total)
{
    int rf = 1, jump = 1;
    total->params = total->macs = 0;
    double act = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const net_layer *nl = &net->layers[i];
        const strata_layer_ops *ops = nl->plugin->layer;
        layer_stats *s = &stats[i];
        int k[2] = {1, 1}, st[2] = {1, 1};
        if (ops->geometry)
            ops->geometry(nl->self, k, st);
        rf += (k[0] - 1) * jump;
        jump *= st[0];
        s->rf = rf;
        s->jump = jump;
        s->macs = ops->macs ? ops->macs(nl->self) : 0;
        s->params = 0;
        for (int j = 0; j < nl->n_params; j++) {
            const net_param *p = &net->params[nl->first_param + j];
            if (!(p->desc.flags & STRATA_PARAM_BUFFER))
                s->params += (int64_t)p->count;
        }
        total->params += s->params;
        total->macs += s->macs;
        act += (double)shape_size(nl->out);
    }
    total->act_mib = act * sizeof(float) / (1024.0 * 1024.0);
}
