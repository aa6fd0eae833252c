/* conv_bias.c — see conv_bias.h. */
#include "conv_bias.h"
#include "common/parallel.h"
#include "common/simd.h"

/* dbias (OC) += sum_{n,p} dout[n][o][p], dout (N, OC, P): channels [o0, o1)
 * of one call, each image's plane summed in BIAS_LANES independent partial
 * sums (a single running sum is one dependent add per element, bound by the
 * add's latency at about 1 float per 4 cycles), the planes' sums added in
 * double. */
#define BIAS_LANES 64
typedef struct bias_job {
    float *dbias;
    const float *dout;
    int n, oc;
    size_t P;
} bias_job;

STRATA_MULTIVERSION(void, bias_rows, (void *arg, int o0, int o1), (arg, o0, o1))
{
    const bias_job *J = arg;
    size_t P = J->P, full = P / BIAS_LANES * BIAS_LANES;
    for (int o = o0; o < o1; o++) {
        double s = 0;
        for (int b = 0; b < J->n; b++) {
            const float *dy = J->dout + ((size_t)b * J->oc + o) * P;
            float acc[BIAS_LANES] = {0};
            for (size_t p = 0; p < full; p += BIAS_LANES)
                for (int l = 0; l < BIAS_LANES; l++)
                    acc[l] += dy[p + l];
            float part = 0.0f;
            for (size_t p = full; p < P; p++)
                part += dy[p];
            for (int l = 0; l < BIAS_LANES; l++)
                part += acc[l];
            s += part;
        }
        J->dbias[o] += (float)s;
    }
}

void conv_bias_backward(float *dbias, const float *dout, int n, int oc, size_t P, int threads)
{
    bias_job J = {dbias, dout, n, oc, P};
    parallel_for(threads, oc, bias_rows, &J);
}
