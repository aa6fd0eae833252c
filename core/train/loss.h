/* loss.h — the training loss: softmax cross-entropy over class logits. */
#ifndef STRATA_LOSS_H
#define STRATA_LOSS_H

/*
 * logits (n, k); labels (n), each in [0, k); smoothing ε in [0, 1].
 * Returns the mean over the batch of -sum_j t_j log softmax(logits_i)_j with
 * t = (1-ε)·onehot(label_i) + ε/k (PyTorch's label_smoothing).
 * dlogits (n, k) = d(mean loss)/d(logits) = (softmax - t) / n when not NULL.
 * *correct += the number of rows whose argmax (the first, on ties) equals the
 * label, when correct is not NULL.
 * Returns NAN (and writes nothing) when n < 1, k < 1, a label is out of
 * range or ε is outside [0, 1].
 */
double softmax_xent(const float *logits, const int *labels, int n, int k,
                    double smoothing, float *dlogits, int *correct);

/* softmax_xent over this rank's n rows of a global batch of n_global rows
 * (data-parallel training): the same, but dlogits = (softmax - t) / n_global,
 * so that the ranks' gradients summed are those of the global batch's mean
 * loss. n_global == n is softmax_xent, bit for bit. */
double softmax_xent_part(const float *logits, const int *labels, int n, int n_global, int k,
                         double smoothing, float *dlogits, int *correct);

#endif
