/* test_conv_isa.c — Winograd's vectorised tile and kernel transforms
 * (AVX-512: masked gathers and scatters, or on AMD for wide maps the AVX2
 * path's rows; AVX2: masked row loads and stores with 8x8 transposes) do the same operations in the same order as the
 * generic loops, so every output must be bit-identical across ISA levels:
 * forward, din, dweight and dbias of shapes with padding on every side,
 * partial last segments, tiles past the map's edge, chunks across images
 * (workspace=1), row-segment maps, on 1 and 2 threads, for each of the four
 * algorithms.
 *
 * strata_isa() is fixed for a process, so this program computes the outputs
 * at its own level and compares them with those of copies of itself run
 * with STRATA_ISA set to each lower level (`--dump` writes them to stdout).
 * At base there is nothing lower to compare with: SKIP (exit 77). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fake_host.h"
#include "testlib.h"

/* c, h, w, k, r (kernel r x r), padding, batch */
typedef struct shape {
    int c, h, w, k, r, p, n;
    const char *what;
} shape;

static const shape SHAPES[] = {
    {24, 45, 20, 40, 3, 1, 3, "F(5,3), pipelined"},
    {24, 30, 36, 40, 3, 1, 3, "F(4,3): row segments without the fused path"},
    {64, 4, 40, 64, 5, 2, 3, "F(2,5): row segments without the fused path"},
    {64, 14, 70, 80, 3, 0, 2, "F(4,3), wide rows, not pipelined"},
    {16, 13, 13, 24, 3, 2, 3, "F(5,3), padding 2"},
    {8, 9, 11, 12, 3, 0, 5, "F(4,3), 3 tiles a row"},
    {24, 32, 31, 40, 5, 4, 3, "F(3,5), padding 4"},
    {48, 15, 15, 96, 5, 2, 3, "F(3,5), gathered"},
    {96, 11, 13, 176, 5, 3, 2, "F(3,5), not pipelined"},
    {24, 6, 7, 16, 5, 1, 3, "F(2,5), tiny map"},
};
#define NSHAPES (sizeof SHAPES / sizeof *SHAPES)
static const char *const WS[] = {NULL, "workspace=1"};

/* The outputs of one case: forward, din, dweight, dbias. */
typedef struct outputs {
    float *v[4];
    size_t n[4];
} outputs;

static void fill(float *x, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * strata_rng_uniform(state) - 1.0f;
}

/* Shape s with extra option ws on `threads` threads, seeded data. */
static outputs run_case(const shape *s, const char *ws, int threads)
{
    const strata_plugin *p = fake_load_builtin("layers", "conv2d");
    if (!p) {
        fprintf(stderr, "cannot load the conv2d plugin\n");
        exit(99);
    }
    const strata_layer_ops *ops = p->layer;
    char o[32], k[32], pad[32];
    snprintf(o, sizeof o, "out_channels=%d", s->k);
    snprintf(k, sizeof k, "kernel=%d", s->r);
    snprintf(pad, sizeof pad, "padding=%d", s->p);
    const char *kv[] = {o, k, pad, "algo=winograd", ws, NULL};
    strata_opts *opts = fake_opts(kv);
    strata_shape in = {s->c, s->h, s->w}, out;
    void *L = ops->create(&fake_host, opts, in, &out);
    if (!L) {
        fprintf(stderr, "create failed: %s\n", fake_opts_error(opts));
        exit(99);
    }
    fake_opts_free(opts);
    size_t nin = (size_t)s->n * s->c * s->h * s->w, nout = (size_t)s->n * out.c * out.h * out.w;
    size_t nw = (size_t)s->k * s->c * s->r * s->r;
    outputs R = {{malloc(nout * 4), malloc(nin * 4), calloc(nw, 4), calloc(s->k, 4)},
                 {nout, nin, nw, (size_t)s->k}};
    float *x = malloc(nin * 4), *dy = malloc(nout * 4), *w = malloc(nw * 4), *b = malloc(s->k * 4);
    uint64_t state = 99;
    fill(x, nin, &state), fill(dy, nout, &state), fill(w, nw, &state), fill(b, s->k, &state);
    void *scratch = malloc(ops->scratch_bytes(L, s->n));
    float *params[2] = {w, b}, *dparams[2] = {R.v[2], R.v[3]};
    strata_ctx ctx = {.training = 1, .threads = threads, .seed = 1};
    ops->forward(L, &ctx, s->n, x, R.v[0], params, NULL, scratch);
    ops->backward(L, &ctx, s->n, x, R.v[0], dy, R.v[1], params, dparams, NULL, scratch);
    ops->destroy(L);
    free(x), free(dy), free(w), free(b), free(scratch);
    return R;
}

static void free_outputs(outputs *R)
{
    for (int i = 0; i < 4; i++)
        free(R->v[i]);
}

/* Every case in order: (shape, workspace, threads). */
#define FOR_CASES(s, ws, t)                                                              \
    for (size_t s = 0; s < NSHAPES; s++)                                                 \
        for (int ws = 0; ws < 2; ws++)                                                   \
            for (int t = 1; t <= 2; t++)

/* --dump: every case's outputs to stdout, raw floats. */
static int dump(void)
{
    FOR_CASES(s, ws, t)
    {
        outputs R = run_case(&SHAPES[s], WS[ws], t);
        for (int i = 0; i < 4; i++)
            if (fwrite(R.v[i], 4, R.n[i], stdout) != R.n[i])
                return 99;
        free_outputs(&R);
    }
    return fflush(stdout) ? 99 : 0;
}

/* The outputs of this program run with STRATA_ISA=isa (all cases, in
 * order), *len bytes. */
static char *dump_at(const char *isa, size_t *len)
{
    int fd[2];
    if (pipe(fd))
        return NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]), close(fd[1]);
        setenv("STRATA_ISA", isa, 1);
        execl("/proc/self/exe", "test_conv_isa", "--dump", (char *)NULL);
        _exit(99);
    }
    close(fd[1]);
    char *buf = NULL;
    FILE *mem = open_memstream(&buf, len);
    char chunk[65536];
    ssize_t got;
    while ((got = read(fd[0], chunk, sizeof chunk)) > 0)
        fwrite(chunk, 1, (size_t)got, mem);
    fclose(mem);
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--dump"))
        return dump();
    skip_unless_isa(1); /* a vectorised level to compare with the lower ones */
    static const char *const names[] = {"base", "avx2", "avx512"};
    const char *what[] = {"forward", "din", "dweight", "dbias"};
    int failed = 0;
    for (int lower = 0; lower < test_isa(); lower++) {
        size_t len;
        char *ref = dump_at(names[lower], &len), *at = ref;
        if (!ref) {
            printf("FAIL: the --dump run at %s failed\n", names[lower]);
            return 1;
        }
        int bad = 0;
        FOR_CASES(s, ws, t)
        {
            outputs R = run_case(&SHAPES[s], WS[ws], t);
            for (int i = 0; i < 4; i++) {
                size_t bytes = 4 * R.n[i];
                if (at + bytes > ref + len || memcmp(at, R.v[i], bytes)) {
                    const shape *h = &SHAPES[s];
                    printf("FAIL: %s at %s and %s differ: %dx%dx%d -> %d, %dx%d, padding %d, "
                           "batch %d, %s, %d threads (%s)\n",
                           what[i], test_isa_name(), names[lower], h->c, h->h, h->w, h->k, h->r,
                           h->r, h->p, h->n, WS[ws] ? WS[ws] : "default workspace", t, h->what);
                    bad++;
                }
                at += bytes;
            }
            free_outputs(&R);
        }
        if (at != ref + len && !bad)
            printf("FAIL: the %s run wrote %zu bytes, expected %zu\n", names[lower], len,
                   (size_t)(at - ref)), bad++;
        printf("%s vs %s: %s\n", test_isa_name(), names[lower], bad ? "DIFFER" : "bit-identical");
        failed += bad;
        free(ref);
    }
    return failed ? 1 : 0;
}
