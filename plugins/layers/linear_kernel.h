/* linear_kernel.h — the three GEMMs of a fully connected layer at small
 * batch, written out for AVX-512 and for AVX2 + FMA and split between
 * threads: W (OUT, IN) is streamed from memory in its own layout (no
 * packing of the whole weight, unlike sgemm, which packs it on every call
 * and splits M = batch badly between threads).
 *
 * Every output element is one fixed chain of FMAs (its order below), and
 * threads only divide the elements between them, so results do not depend
 * on the thread count (bit-identical for 1, 2, 3 ... threads), nor on the
 * ISA level: the AVX-512 and the AVX2 kernels compute the same chains with
 * vectors of 16 or 8 lanes, so their results are bit-identical too. */
#ifndef STRATA_LINEAR_KERNEL_H
#define STRATA_LINEAR_KERNEL_H
#include <stddef.h>

/* 1 when strata_isa() is AVX2 or AVX-512 (the kernels below may then be
 * called; they run at that level), 0 at the base level. */
int linear_kernel_available(void);

/* Scratch floats linear_kernel_forward needs for a batch of n:
 * in^T (IN, n16), n16 = n rounded up to 16. */
size_t linear_kernel_forward_scratch(int n, int nin, int nout);

/* in (n, nin), weight (nout, nin), bias (nout) or NULL -> out (n, nout):
 *   out[b][o] = bias[o] + sum_i in[b][i] * weight[o][i]
 * summed as: acc = bias[o] (or 0); for i = 0 .. nin-1: acc = fma(w, x, acc).
 * scratch: linear_kernel_forward_scratch(n, nin, nout) floats. */
void linear_kernel_forward(int n, int nin, int nout, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, int threads);

/* dout (n, nout), weight (nout, nin) -> din (n, nin):
 *   din[b][i] = sum_o dout[b][o] * weight[o][i]
 * summed as: acc = 0; for o = 0 .. nout-1: acc = fma(d, w, acc). */
void linear_kernel_backward_data(int n, int nin, int nout, const float *dout,
                                 const float *weight, float *din, int threads);

/* Scratch floats linear_kernel_backward_weights needs: in packed in
 * panels of 48 columns (n * nin rounded up). */
size_t linear_kernel_backward_scratch(int n, int nin, int nout);

/* in (n, nin), dout (n, nout):
 *   dweight (nout, nin) += dout^T in: dweight[o][i] += sum_b dout[b][o] * in[b][i]
 *   dbias (nout) += sum_b dout[b][o]  (skipped when dbias is NULL)
 * each summed as: acc = 0; for b = 0 .. n-1: acc = fma(d, x, acc) (dbias:
 * acc += d); then dweight[o][i] += acc. */
void linear_kernel_backward_weights(int n, int nin, int nout, const float *in,
                                    const float *dout, float *dweight, float *dbias,
                                    float *scratch, int threads);
#endif
