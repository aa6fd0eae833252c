/* conv_winograd.c — see conv_winograd.h. The driver: the scratch, the
 * chunks of tile rows, the alpha^2 batched GEMMs, the pipelined workers and
 * the forward and backward entry points; the kernel transforms are in
 * conv_winograd_weights.c, the tile transforms in conv_winograd_tiles.c,
 * the matrices (BT, G, AT: points 0, +-1, +-2 (alpha 6) or 0, +-1, +-1/2,
 * 2 (alpha 7), and inf) in conv_winograd_matrices.h.
 *
 * For output tile (ty, tx) of image b
 * (m x m outputs at (m ty, m tx)), with d the alpha x alpha input patch at
 * (m ty - ph, m tx - pw) (0 outside the image), xi = alpha*l + k:
 *   U[xi][o][c] = (G w[o][c] G^T)[xi]
 *   V[xi][c][t] = (BT d[c] B)[xi]              t: tile index in the chunk
 *   M[xi] (K, T) = U[xi] (K, C) @ V[xi] (C, T)     (alpha^2 sgemm calls)
 *   out tile    = AT M[.][o][t] A  (+ bias, cropped to oh x ow)
 * backward-data: the forward algorithm on dout with w'[c][o] = flip(w[o][c])
 *   and padding r - 1 - p (a "full" correlation), giving din (n, c, h, w).
 * bias gradient: row 1 of A is all ones (point 1), so E[alpha + 1] =
 *   (A dY A^T)[1][1] is the sum of the tile; dbias[o] += sum_t E[alpha+1][o][t].
 * backward-weights: Y = AT (U . V) A is linear in U, so
 *   dU[xi] (K, C) = sum over tiles of E[xi] (K, T) @ V[xi]^T,
 *   E = A dY A^T (dY the m x m dout tile, 0 past oh x ow),
 *   dw[o][c] += G^T dU[.][o][c] G.
 * Each pass (forward, backward-data, backward-weights) picks its alpha by
 * GEMM work (wino_alpha). The points are, of the sets tried, the ones with
 * the smallest float32 error (bench/README.md, "Tuning notes from the
 * kernels", has the measured errors).
 * Tiles are processed a chunk of tile rows at a time (all tile rows of all
 * images, numbered g = b*nty + ty), so V and M stay within d->budget
 * floats (at least one tile row), pipelined where the layer is small
 * enough (pipe_rows): each worker takes a group of tile rows in chunks
 * that stay in its core's cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "common/parallel.h"
#include "conv_bias.h"
#include "conv_winograd.h"
#include "conv_winograd_impl.h"

int conv_winograd_fits(const conv_dims *d)
{
    if (d->sh != 1 || d->sw != 1 || d->kh != d->kw || (d->kh != 3 && d->kh != 5))
        return 0;
    return d->ph <= d->kh - 1 && d->pw <= d->kw - 1;
}

void conv_winograd_describe(const conv_dims *d, int with_data, char *buf, size_t size)
{
    conv_dims e = data_pass(d);
    int m = tile_m(d), md = tile_m(&e), r = d->kh;
    if (m == md || !with_data)
        snprintf(buf, size, "winograd F(%dx%d,%dx%d)", m, m, r, r);
    else
        snprintf(buf, size, "winograd F(%dx%d,%dx%d), backward-data F(%dx%d,%dx%d)", m, m, r, r, md, md, r, r);
}

/* V per image: alpha^2 c tiles_y tiles_x floats. Kept for layers that are
 * not pipelined (whose V goes through memory anyway) when 32 images' fit
 * the layer's budget, so the memory grows with the batch as activations do
 * (saved_bytes is n times a constant). A pipelined layer's V stays in a
 * core's L2 between its transform and its GEMMs; writing it out cost more
 * than transforming it again saved (AlexNet conv1 and conv2, batch 32:
 * forward 14 -> 19-24 ms and 13.6 -> 15.3-19.6 ms; bench/README.md, "The
 * transformed input kept for backward"). */
#define KEEP_V_IMAGES 32
static int pipe_rows(const conv_dims *d, int n);
static size_t v_per_image(const conv_dims *d)
{
    return tile_elems(d) * (size_t)d->c * tiles_y(d) * tiles_x(d);
}

size_t conv_winograd_saved_floats(const conv_dims *d, int n)
{
    if (pipe_rows(d, 1) > 0)
        return 0;
    return v_per_image(d) * KEEP_V_IMAGES <= d->budget ? v_per_image(d) * (size_t)n : 0;
}

/* Chunk [g0, g1)'s V in a pass that is not pipelined: in the kept batch's V
 * at its first tile row's place (the chunks are consecutive rows, the same
 * chunk_rows in forward and backward), else at the work area. */
static float *chunk_v(const conv_dims *d, const float *kept, float *work, int g0)
{
    return kept ? (float *)kept + tile_elems(d) * (size_t)d->c * g0 * tiles_x(d) : work;
}

/* Tile rows per chunk for a pass over a batch of n. */
static int chunk_rows(const conv_dims *d, int n)
{
    size_t ntx = (size_t)tiles_x(d), rows = (size_t)n * tiles_y(d);
    size_t r = d->budget / (tile_elems(d) * (size_t)(d->c + d->k) * ntx);
    if (r < 1)
        r = 1;
    return (int)(r < rows ? r : rows);
}

static size_t pass_floats(const conv_dims *d, int n)
{
    return tile_elems(d) * (size_t)(d->c + d->k) * chunk_rows(d, n) * tiles_x(d);
}

/* Floats of the transformed kernel at the start of the scratch: U, dU, or
 * the backward-data U (its alpha may differ: the pass has its own map). */
static size_t u_floats(const conv_dims *d)
{
    conv_dims e = data_pass(d);
    int a = tile_elems(d), b = tile_elems(&e);
    return (size_t)(a > b ? a : b) * d->c * d->k;
}

size_t conv_winograd_scratch_bytes(const conv_dims *d, int n)
{
    conv_dims e = data_pass(d);
    size_t a = pass_floats(d, n), b = pass_floats(&e, n);
    return sizeof(float) * (u_floats(d) + (a > b ? a : b));
}

/* The alpha^2 products of a chunk: C[xi] (m, n) = A[xi] @ op(B[xi]) + beta C[xi],
 * op = transpose when transb (B[xi] then (n, kk)), else B[xi] is (kk, n).
 * Split over `threads` threads by xi, each GEMM on one OpenBLAS thread
 * (the host sets one for the layer, asked by conv2d's blas_threads): 36 or 49
 * independent GEMMs divide evenly, and no OpenBLAS thread spins or waits
 * on another. STRATA_CONV_BLAS_THREADS=1 in the environment instead lets
 * OpenBLAS thread each GEMM (for comparison). */
typedef struct gemm_job {
    const float *A, *B;
    float *C;
    size_t as, bs, cs; /* strides between xi */
    int m, n, kk, transb;
    float beta;
    int count; /* alpha^2 */
} gemm_job;

static void gemm_range(void *arg, int x0, int x1)
{
    const gemm_job *J = arg;
    int lda = J->kk, ldb = J->transb ? J->kk : J->n, ldc = J->n;
    for (int xi = x0; xi < x1; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, J->transb ? CblasTrans : CblasNoTrans, J->m,
                    J->n, J->kk, 1.0f, J->A + xi * J->as, lda, J->B + xi * J->bs, ldb, J->beta,
                    J->C + xi * J->cs, ldc);
}

static void gemm_all(const gemm_job *J, int threads)
{
    static int blas_threads = -1;
    if (blas_threads < 0) {
        const char *e = getenv("STRATA_CONV_BLAS_THREADS");
        blas_threads = e && *e == '1';
    }
    if (blas_threads || threads <= 1) {
        gemm_range((void *)J, 0, J->count);
        return;
    }
    parallel_for(threads, J->count, gemm_range, (void *)J);
}

/* One chunk [g0, g1) on the calling thread alone: its transforms, its
 * alpha^2 GEMMs (on one OpenBLAS thread: the caller set it) and the output. */
static void chunk_alone(const conv_dims *d, const float *in, const float *U, const float *bias,
                        float *out, float *work, int g0, int g1)
{
    int ntx = tiles_x(d);
    size_t T = (size_t)(g1 - g0) * ntx, KC = (size_t)d->k * d->c;
    int aa = tile_elems(d);
    float *V = work, *M = work + aa * (size_t)d->c * T;
    wino_tiles(V, T, TILE_INPUT, in, NULL, d, g0, g1, 1);
    gemm_job J = {U, V, M, KC, (size_t)d->c * T, (size_t)d->k * T, d->k, (int)T, d->c, 0, 0.0f, aa};
    gemm_range(&J, 0, aa);
    wino_tiles(M, T, TILE_OUTPUT, out, bias, d, g0, g1, 1);
}

/* Pipelined: the tile rows split into a fixed number of groups (G, not
 * the thread count: results do not depend on threads), each group's rows
 * run in small chunks on one thread alone (chunk_alone), so a chunk's V and
 * M stay in that core's cache between the transforms and the GEMMs, with no
 * fork-join per step. Worker w of `workers` takes groups
 * [G*w/workers, G*(w+1)/workers), with its own work area. */
#define PIPE_GROUPS 8
typedef struct pipe_job {
    const conv_dims *d;
    const float *in, *U, *bias;
    float *out, *work;
    int rows, R, groups, workers;
    size_t per; /* floats of work per worker */
} pipe_job;

/* Tile rows [*r0, *r1) of group g. */
static void group_rows(int rows, int groups, int g, int *r0, int *r1)
{
    *r0 = (int)((long)rows * g / groups);
    *r1 = (int)((long)rows * (g + 1) / groups);
}

static void pipe_part(void *arg, int w0, int w1)
{
    const pipe_job *P = arg;
    for (int w = w0; w < w1; w++)
        for (int g = P->groups * w / P->workers; g < P->groups * (w + 1) / P->workers; g++) {
            int r0, r1;
            group_rows(P->rows, P->groups, g, &r0, &r1);
            for (int g0 = r0; g0 < r1; g0 += P->R)
                chunk_alone(P->d, P->in, P->U, P->bias, P->out, P->work + w * P->per, g0,
                            g0 + P->R < r1 ? g0 + P->R : r1);
        }
}

/* Tile rows per pipelined chunk: V and M within PIPE_BYTES, which a core's
 * L2 holds, at least one row and at most the chunk_rows of the scratch; 0:
 * not pipelined. Pipelining pays while the chunk's GEMMs stay large enough:
 * for 3x3 kernels up to c + k = 128 (above, the GEMMs of a chunk are too
 * small), for 5x5 kernels up to c + k = 256 (V and M hold 2.4 to 4 times
 * as many floats per output as with 3x3 kernels, so staying in L2 pays
 * more). The limits and the 2 MiB were measured: bench/README.md, "Tuning
 * notes from the kernels". */
#define PIPE_BYTES ((size_t)2 << 20)
static int pipe_rows(const conv_dims *d, int n)
{
    if (d->c + d->k > (d->kh == 5 ? 256 : 128))
        return 0;
    size_t row = tile_elems(d) * (size_t)(d->c + d->k) * tiles_x(d);
    size_t r = PIPE_BYTES / (sizeof(float) * row), most = (size_t)chunk_rows(d, n);
    if (r < 1)
        r = 1;
    return (int)(r < most ? r : most);
}

/* Workers that fit: min(threads, groups, areas of `per` floats in `have`). */
static int pipe_workers(int threads, int groups, size_t have, size_t per)
{
    size_t fit = have / per;
    int w = threads < groups ? threads : groups;
    return (size_t)w < fit ? w : (int)fit;
}

static int pipe_groups(int rows) { return rows < PIPE_GROUPS ? rows : PIPE_GROUPS; }

/* out = conv(in, the kernel whose transforms are U[xi] (k, c)) + bias;
 * keep (or NULL): where the batch's V goes (conv_winograd_saved_floats:
 * only layers that are not pipelined keep it). */
static void wino_conv(const conv_dims *d, int n, const float *in, const float *U,
                      const float *bias, float *out, float *work, float *keep, int threads)
{
    int ntx = tiles_x(d), rows = n * tiles_y(d), R = chunk_rows(d, n);
    size_t KC = (size_t)d->k * d->c;
    int pr = pipe_rows(d, n), G = pipe_groups(rows);
    if (pr > 0) { /* chunk_rows >= pr: one worker always fits */
        size_t per = tile_elems(d) * (size_t)(d->c + d->k) * pr * ntx;
        pipe_job P = {d, in, U, bias, out, work, rows, pr, G,
                      pipe_workers(threads, G, pass_floats(d, n), per), per};
        parallel_for(P.workers, P.workers, pipe_part, &P);
        return;
    }
    for (int g0 = 0; g0 < rows; g0 += R) {
        int g1 = g0 + R < rows ? g0 + R : rows;
        size_t T = (size_t)(g1 - g0) * ntx;
        float *V = chunk_v(d, keep, work, g0), *M = work + tile_elems(d) * (size_t)d->c * T;
        wino_tiles(V, T, TILE_INPUT, in, NULL, d, g0, g1, threads);
        gemm_job J = {U,    V,     M,    KC,   (size_t)d->c * T, (size_t)d->k * T,
                      d->k, (int)T, d->c, 0,    0.0f,             tile_elems(d)};
        gemm_all(&J, threads);
        wino_tiles(M, T, TILE_OUTPUT, out, bias, d, g0, g1, threads);
    }
}

void conv_winograd_forward(const conv_dims *d, int n, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, float *keep, int threads)
{
    float *U = scratch, *work = scratch + u_floats(d);
    wino_weight_tiles(U, weight, d, 0, threads);
    wino_conv(d, n, in, U, bias, out, work, keep, threads);
}

/* Backward-weights over tile rows [g0, g1) on the calling thread alone:
 * dU (+)= E V^T (beta 0 when first), dbias (+)= the tiles' sums. */
static void grad_chunk_alone(const conv_dims *d, const float *in, const float *dout, float *dU,
                             float *dbias, float *work, int g0, int g1, int first)
{
    int ntx = tiles_x(d);
    size_t T = (size_t)(g1 - g0) * ntx, KC = (size_t)d->k * d->c;
    int aa = tile_elems(d);
    float *V = work, *E = work + aa * (size_t)d->c * T;
    wino_tiles(V, T, TILE_INPUT, in, NULL, d, g0, g1, 1);
    wino_tiles(E, T, TILE_DOUT, dout, NULL, d, g0, g1, 1);
    if (dbias)
        conv_bias_backward(dbias, E + bias_elem(d) * (size_t)d->k * T, 1, d->k, T, 1);
    gemm_job J = {E, V, dU, (size_t)d->k * T, (size_t)d->c * T, KC, d->k, d->c, (int)T, 1,
                  first ? 0.0f : 1.0f, aa};
    gemm_range(&J, 0, aa);
}

/* Pipelined backward-weights: group g's tile rows into its own dU (g = 0:
 * the real one; others: extra (alpha^2 k c) buffers after the workers' areas)
 * and its own dbias (k floats), added in group order after: the sums do not
 * depend on the thread count. */
typedef struct grad_pipe {
    const conv_dims *d;
    const float *in, *dout;
    float *dU, *dbias, *work, *extra;
    int rows, R, groups, workers;
    size_t per;
} grad_pipe;

static size_t grad_extra(const conv_dims *d) { return tile_elems(d) * (size_t)d->k * d->c + d->k; }

static void grad_part(void *arg, int w0, int w1)
{
    const grad_pipe *P = arg;
    size_t KC = (size_t)P->d->k * P->d->c;
    for (int w = w0; w < w1; w++)
        for (int g = P->groups * w / P->workers; g < P->groups * (w + 1) / P->workers; g++) {
            int r0, r1;
            group_rows(P->rows, P->groups, g, &r0, &r1);
            float *dU = g ? P->extra + (g - 1) * grad_extra(P->d) : P->dU;
            float *db = dU + tile_elems(P->d) * KC; /* group 0's unused: it adds to dbias */
            if (g)
                memset(db, 0, sizeof(float) * P->d->k);
            if (r0 == r1)
                memset(dU, 0, sizeof(float) * tile_elems(P->d) * KC);
            for (int g0 = r0; g0 < r1; g0 += P->R)
                grad_chunk_alone(P->d, P->in, P->dout, dU,
                                 P->dbias ? (g ? db : P->dbias) : NULL, P->work + w * P->per,
                                 g0, g0 + P->R < r1 ? g0 + P->R : r1, g0 == r0);
        }
}

/* dU (+ dbias) += groups 1..G-1's partial sums, added in group order for
 * every element (the same bits on any thread count), blocks of elements
 * split between threads (the partial sums are megabytes: one thread alone
 * would be a visible part of the backward pass). */
#define SUM_BLOCK 4096
static void group_sum_range(void *arg, int b0, int b1)
{
    const grad_pipe *P = arg;
    size_t aakc = tile_elems(P->d) * (size_t)P->d->k * P->d->c, ex = grad_extra(P->d);
    size_t i0 = (size_t)b0 * SUM_BLOCK, i1 = (size_t)b1 * SUM_BLOCK;
    i1 = i1 < aakc ? i1 : aakc;
    for (int g = 1; g < P->groups; g++) {
        const float *x = P->extra + (g - 1) * ex;
        for (size_t i = i0; i < i1; i++)
            P->dU[i] += x[i];
    }
}

static void group_sum(const grad_pipe *P, int threads)
{
    size_t aakc = tile_elems(P->d) * (size_t)P->d->k * P->d->c;
    parallel_for(threads, (int)((aakc + SUM_BLOCK - 1) / SUM_BLOCK), group_sum_range, (void *)P);
    for (int g = 1; g < P->groups; g++)
        for (int o = 0; P->dbias && o < P->d->k; o++)
            P->dbias[o] += P->extra[(g - 1) * grad_extra(P->d) + aakc + o];
}

void conv_winograd_backward(const conv_dims *d, int n, const float *in, const float *dout,
                            const float *weight, float *dweight, float *dbias, float *din,
                            float *scratch, const float *kept, int threads)
{
    int ntx = tiles_x(d), rows = n * tiles_y(d), R = chunk_rows(d, n);
    size_t KC = (size_t)d->k * d->c;
    size_t aa = tile_elems(d);
    float *dU = scratch, *work = scratch + u_floats(d);
    int pr = pipe_rows(d, n), G = pipe_groups(rows), workers = 0;
    size_t per = aa * (d->c + d->k) * pr * ntx, extra = (G - 1) * grad_extra(d);
    if (pr > 0 && pass_floats(d, n) >= extra + per)
        workers = pipe_workers(threads, G, pass_floats(d, n) - extra, per);
    if (workers > 0) { /* pipelined: never a kept V (conv_winograd_saved_floats) */
        grad_pipe P = {d, in, dout, dU, dbias, work, work + pass_floats(d, n) - extra, rows, pr, G,
                       workers, per};
        parallel_for(workers, workers, grad_part, &P);
        group_sum(&P, threads);
    } else
        for (int g0 = 0; g0 < rows; g0 += R) {
            int g1 = g0 + R < rows ? g0 + R : rows;
            size_t T = (size_t)(g1 - g0) * ntx;
            float *V = chunk_v(d, kept, work, g0), *E = work + aa * d->c * T;
            if (!kept)
                wino_tiles(V, T, TILE_INPUT, in, NULL, d, g0, g1, threads);
            wino_tiles(E, T, TILE_DOUT, dout, NULL, d, g0, g1, threads);
            if (dbias) /* E[alpha + 1] = (A dY A^T)[1][1]: each tile's sum (0 past the edge) */
                conv_bias_backward(dbias, E + bias_elem(d) * (size_t)d->k * T, 1, d->k, T,
                                   threads);
            gemm_job J = {E, V, dU, (size_t)d->k * T, (size_t)d->c * T, KC, d->k, d->c, (int)T, 1,
                          g0 ? 1.0f : 0.0f, (int)aa};
            gemm_all(&J, threads);
        }
    wino_weight_grad(dweight, dU, d, threads);
    if (!din)
        return;
    conv_dims e = data_pass(d);
    wino_weight_tiles(dU, weight, d, 1, threads);
    wino_conv(&e, n, dout, dU, NULL, din, work, NULL, threads);
}
