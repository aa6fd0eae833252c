/* loss.c — see loss.h */
#include <stddef.h>
#include <math.h>
#include "train/loss.h"

/* Index of the first maximum of x (k). */
static int argmax(const float *x, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (x[j] > x[best])
            best = j;
    return best;
}

/* One row: x (k), label y. With m = max x and lse = m + log sum_j e^(x_j - m),
 *   log p_j = x_j - lse,  loss = -(1-ε) log p_y - ε/k sum_j log p_j,
 *   dx_j = (p_j - t_j) * scale,  t_j = (1-ε)[j == y] + ε/k. */
static double row_xent(const float *x, int y, int k, double eps, float *dx, double scale)
{
    double m = x[argmax(x, k)], sum = 0, sum_logp = 0;
    for (int j = 0; j < k; j++)
        sum += exp((double)x[j] - m);
    double lse = m + log(sum);
    for (int j = 0; j < k; j++)
        sum_logp += (double)x[j] - lse;
    if (dx)
        for (int j = 0; j < k; j++) {
            double t = (1 - eps) * (j == y) + eps / k;
            dx[j] = (float)((exp((double)x[j] - lse) - t) * scale);
        }
    return -(1 - eps) * ((double)x[y] - lse) - eps / k * sum_logp;
}

double softmax_xent(const float *logits, const int *labels, int n, int k,
                    double smoothing, float *dlogits, int *correct)
{
    return softmax_xent_part(logits, labels, n, n, k, smoothing, dlogits, correct);
}

double softmax_xent_part(const float *logits, const int *labels, int n, int n_global, int k,
                         double smoothing, float *dlogits, int *correct)
{
    if (n < 1 || n_global < n || k < 1 || !(smoothing >= 0 && smoothing <= 1))
        return NAN;
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return NAN;
    double total = 0;
    int right = 0;
    for (int i = 0; i < n; i++) {
        const float *x = logits + (size_t)i * k;
        total += row_xent(x, labels[i], k, smoothing,
                          dlogits ? dlogits + (size_t)i * k : NULL, 1.0 / n_global);
        right += argmax(x, k) == labels[i];
    }
    if (correct)
        *correct += right;
    return total / n;
}
