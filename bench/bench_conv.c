/* bench_conv.c: times op_conv2d forward + backward at CARN-M and ResNet-18 shapes; see bench/bench.h. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"
#include "bench/bench_run.h"
#include "nn/ops/ops.h"
#include "util/progress.h"
#include "util/sort.h"

typedef struct {
    const char *name;
    int n, cin, h, w, cout, k, stride, pad, dil, groups;
    bool wgrad; /* trained layer (dx, dw, db) or frozen task model (dx only) */
} ConvShape;

/* Keep in step with SHAPES in scripts/bench_conv.py. */
static const ConvShape SHAPES[] = {
    {"carn 3x3 g4 64->64 16x16", 16, 64, 16, 16, 64, 3, 1, 1, 1, 4, true},
    {"carn 3x3 g4 64->64 64x64", 16, 64, 64, 64, 64, 3, 1, 1, 1, 4, true},
    {"carn 1x1 64->64 16x16", 16, 64, 16, 16, 64, 1, 1, 0, 1, 1, true},
    {"carn 1x1 128->64 64x64", 16, 128, 64, 64, 64, 1, 1, 0, 1, 1, true},
    {"carn 1x1 256->64 64x64", 16, 256, 64, 64, 64, 1, 1, 0, 1, 1, true},
    {"carn 3x3 g4 64->256 64x64", 16, 64, 64, 64, 256, 3, 1, 1, 1, 4, true},
    {"carn 3x3 g4 64->256 180x240", 1, 64, 180, 240, 256, 3, 1, 1, 1, 4, true}, /* x4 head, 2nd stage */
    {"carn 3x3 64->3 360x480", 1, 64, 360, 480, 3, 3, 1, 1, 1, 1, true},        /* exit conv at 480x360 */
    {"r18 7x7/2 3->64 360x480", 1, 3, 360, 480, 64, 7, 2, 3, 1, 1, false},
    {"r18 3x3 64->64 90x120", 1, 64, 90, 120, 64, 3, 1, 1, 1, 1, false},
    {"r18 3x3/2 64->128 90x120", 1, 64, 90, 120, 128, 3, 2, 1, 1, 1, false},
    {"r18 3x3 128->128 45x60", 1, 128, 45, 60, 128, 3, 1, 1, 1, 1, false},
    {"r18 3x3/2 128->256 45x60", 1, 128, 45, 60, 256, 3, 2, 1, 1, 1, false},
    {"r18 3x3 256->256 23x30", 1, 256, 23, 30, 256, 3, 1, 1, 1, 1, false},
    {"r18 3x3 512->512 12x15", 1, 512, 12, 15, 512, 3, 1, 1, 1, 1, false},
    {"r18 1x1/2 64->128 90x120", 1, 64, 90, 120, 128, 1, 2, 0, 1, 1, false},
    {"r18 3x3/2 256->512 23x30", 1, 256, 23, 30, 512, 3, 2, 1, 1, 1, false},
    {"r18 1x1/2 128->256 45x60", 1, 128, 45, 60, 256, 1, 2, 0, 1, 1, false},
    {"r18 1x1/2 256->512 23x30", 1, 256, 23, 30, 512, 1, 2, 0, 1, 1, false},
};

static double now_ms(void) { return 1e3 * now_seconds(); }
static double cpu_ms(void) { return 1e3 * cpu_seconds(); }

/* Fills with a cheap deterministic pattern in [-0.5, 0.5) (values do not matter, only the work). */
static Tensor *bench_tensor(int n, int c, int h, int w, bool grad) {
    Tensor *t = tensor_new(n, c, h, w);
    size_t total = tensor_numel(t);
    for (size_t i = 0; i < total; i++) t->data[i] = (real_t)((i * 2654435761u % 1000) / 1000.0 - 0.5);
    t->requires_grad = grad;
    return t;
}

/* One forward + backward; returns the two wall times and the CPU time in ms. */
static void run_once(const ConvShape *s, Tensor *x, Tensor *w, Tensor *b, const real_t *seed, double *fwd,
                     double *bwd, double *cpu) {
    Arena *ar = engine_arena();
    ArenaMark m = arena_mark(ar);
    x->grad = w->grad = NULL;
    if (b) b->grad = NULL;
    double c0 = cpu_ms(), t0 = now_ms();
    Tensor *y = op_conv2d(x, w, b, conv_args(s->stride, s->pad, s->dil, s->groups));
    double t1 = now_ms();
    tape_backward_seed(y, seed);
    double t2 = now_ms();
    *cpu = cpu_ms() - c0;
    tape_clear();
    arena_rewind(ar, m);
    *fwd = t1 - t0, *bwd = t2 - t1;
}

/* The BENCH key of a shape, as scripts/bench_util.py's conv_key: "carn 3x3 g4 64->64 16x16" ->
 * "conv_carn_3x3_g4_64-64_16x16". */
static void conv_key(const char *name, char *key, size_t cap) {
    size_t k = (size_t)snprintf(key, cap, "conv_");
    for (const char *p = name; *p && k + 1 < cap; p++) {
        if (p[0] == '-' && p[1] == '>') key[k++] = '-', p++;
        else key[k++] = *p == ' ' ? '_' : *p == '/' ? 's' : *p;
    }
    key[k] = 0;
}

static void bench_one(const ConvShape *s, int reps) {
    Arena *ar = engine_arena();
    ArenaMark m = arena_mark(ar);
    int oh = (s->h + 2 * s->pad - s->dil * (s->k - 1) - 1) / s->stride + 1;
    int ow = (s->w + 2 * s->pad - s->dil * (s->k - 1) - 1) / s->stride + 1;
    Tensor *x = bench_tensor(s->n, s->cin, s->h, s->w, true);
    Tensor *w = bench_tensor(s->cout, s->cin / s->groups, s->k, s->k, s->wgrad);
    Tensor *b = s->wgrad ? bench_tensor(s->cout, 1, 1, 1, true) : NULL;
    Tensor *seed = bench_tensor(s->n, s->cout, oh, ow, false);
    double *f = malloc(4 * (size_t)reps * sizeof *f), *bw = f + reps, *tot = bw + reps, *cpu = tot + reps;
    double wf, wb, wc;
    run_once(s, x, w, b, seed->data, &wf, &wb, &wc); /* warm-up: arena chunks, BLAS buffers */
    for (int r = 0; r < reps; r++) run_once(s, x, w, b, seed->data, &f[r], &bw[r], &cpu[r]), tot[r] = f[r] + bw[r];
    for (int i = 0; i < 4; i++) qsort(f + (size_t)i * reps, reps, sizeof *f, cmp_double);
    double flop = 2.0 * s->n * s->cout * oh * ow * (s->cin / s->groups) * s->k * s->k * (s->wgrad ? 3 : 2);
    printf("%-28s %-5s fwd %7.2f  bwd %7.2f  total %7.2f ms (min %7.2f, max %7.2f, cpu %7.2f)  %6.1f GFLOP/s\n",
           s->name, s->wgrad ? "dx,dw" : "dx", f[reps / 2], bw[reps / 2], tot[reps / 2], tot[0], tot[reps - 1],
           cpu[reps / 2], flop / (tot[reps / 2] * 1e6));
    char key[96];
    conv_key(s->name, key, sizeof key);
    bench_line("rune", key, (BenchTimes){tot[reps / 2], tot[0], tot[reps - 1], cpu[reps / 2], reps});
    free(f);
    tape_clear();
    arena_rewind(ar, m);
}

void bench_conv_shapes(int reps) {
    if (reps < 1) reps = 1;
    printf("conv2d forward+backward, median of %d runs, %d OpenMP threads, batch 16 (carn) / 1 (r18)\n", reps,
           omp_get_max_threads());
    bool old = engine_set_grad(true);
    for (size_t i = 0; i < sizeof SHAPES / sizeof *SHAPES; i++) bench_one(&SHAPES[i], reps);
    engine_set_grad(old);
}
