/* fma_peak.c — this CPU's AVX-512 FMA throughput: 12 independent chains of
 * vfmadd on zmm registers per thread (no memory traffic), 1 and 2 threads,
 * best of 3. The ceiling no direct convolution can pass. Not built by make:
 *   gcc -O3 -funroll-all-loops -mavx512f -mfma bench/fma_peak.c -lpthread -o fma_peak && ./fma_peak
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define CHAINS 12
#define ROUNDS 20000000L

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *chains(void *out)
{
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++)
        acc[i] = _mm512_set1_ps(i * 0.001f);
    const __m512 x = _mm512_set1_ps(0.9999999f), y = _mm512_set1_ps(1e-7f);
    for (long k = 0; k < ROUNDS; k++)
        for (int i = 0; i < CHAINS; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    float s = 0;
    for (int i = 0; i < CHAINS; i++)
        s += _mm512_reduce_add_ps(acc[i]);
    *(float *)out = s; /* keeps the loop alive */
    return NULL;
}

int main(void)
{
    float sink[2];
    for (int threads = 1; threads <= 2; threads++) {
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            pthread_t t;
            double t0 = now();
            if (threads == 2)
                pthread_create(&t, NULL, chains, &sink[1]);
            chains(&sink[0]);
            if (threads == 2)
                pthread_join(t, NULL);
            best = now() - t0 < best ? now() - t0 : best;
        }
        double flops = 2.0 * 16 * CHAINS * ROUNDS * threads;
        printf("%d thread%s: %.0f GFLOP/s (AVX-512 FMA peak)\n", threads, threads > 1 ? "s" : "", flops / best / 1e9);
    }
    return 0;
}
