/* pixel_shuffle.c: [N, C*r*r, H, W] -> [N, C, H*r, W*r] as torch.nn.PixelShuffle. */
#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* out[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]: a bijection, so backward is the same
 * index walk in the other direction, and (n, c) planes never share a write. `sub` is one group of
 * r*r input planes [r*r,H,W]; `big` the output plane [H*r,W*r] they make. */
#if defined(__AVX512F__) && !defined(RUNE_DOUBLE)
#include <immintrin.h>
/* r = 2 (every CARN head stage but x3's): an output row interleaves two input rows, a then b, so
 * two permutes make 32 contiguous outputs from 16 of each: contiguous stores instead of a stride-2
 * scatter, which cost as much as the memory pass itself. */
static const int LO[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
static const int HI[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};

static bool interleave2(const real_t *a, const real_t *b, real_t *dst, int W) {
    __m512i lo = _mm512_loadu_si512(LO), hi = _mm512_loadu_si512(HI);
    int w = 0;
    for (; w + 16 <= W; w += 16) {
        __m512 va = _mm512_loadu_ps(a + w), vb = _mm512_loadu_ps(b + w);
        _mm512_storeu_ps(dst + 2 * w, _mm512_permutex2var_ps(va, lo, vb));
        _mm512_storeu_ps(dst + 2 * w + 16, _mm512_permutex2var_ps(va, hi, vb));
    }
    for (; w < W; w++) dst[2 * w] = a[w], dst[2 * w + 1] = b[w];
    return true;
}

/* The inverse: a[w] += src[2w], b[w] += src[2w+1]. */
static bool deinterleave2_add(const real_t *src, real_t *a, real_t *b, int W) {
    __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    __m512i od = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    int w = 0;
    for (; w + 16 <= W; w += 16) {
        __m512 s0 = _mm512_loadu_ps(src + 2 * w), s1 = _mm512_loadu_ps(src + 2 * w + 16);
        _mm512_storeu_ps(a + w, _mm512_add_ps(_mm512_loadu_ps(a + w), _mm512_permutex2var_ps(s0, ev, s1)));
        _mm512_storeu_ps(b + w, _mm512_add_ps(_mm512_loadu_ps(b + w), _mm512_permutex2var_ps(s0, od, s1)));
    }
    for (; w < W; w++) a[w] += src[2 * w], b[w] += src[2 * w + 1];
    return true;
}
#else
static bool interleave2(const real_t *a, const real_t *b, real_t *dst, int W) {
    (void)a, (void)b, (void)dst, (void)W;
    return false;
}
static bool deinterleave2_add(const real_t *src, real_t *a, real_t *b, int W) {
    (void)src, (void)a, (void)b, (void)W;
    return false;
}
#endif

static void shuffle_fwd(const real_t *sub, real_t *big, int r, int H, int W) {
    size_t plane = (size_t)H * W, OW = (size_t)W * r;
    for (int i = 0; i < r; i++)
        for (int h = 0; h < H; h++) {
            const real_t *src = sub + (size_t)i * r * plane + (size_t)h * W; /* [W], r planes apart */
            real_t *dst = big + (size_t)(h * r + i) * OW;                    /* [W*r] */
            if (r == 2 && interleave2(src, src + plane, dst, W)) continue;
            for (int j = 0; j < r; j++)
                for (int w = 0; w < W; w++) dst[(size_t)w * r + j] = src[j * plane + w];
        }
}

static void shuffle_bwd(const real_t *dbig, real_t *dsub, int r, int H, int W) {
    size_t plane = (size_t)H * W, OW = (size_t)W * r;
    for (int i = 0; i < r; i++)
        for (int h = 0; h < H; h++) {
            real_t *dst = dsub + (size_t)i * r * plane + (size_t)h * W; /* [W], r planes apart */
            const real_t *src = dbig + (size_t)(h * r + i) * OW;        /* [W*r] */
            if (r == 2 && deinterleave2_add(src, dst, dst + plane, W)) continue;
            for (int j = 0; j < r; j++)
                for (int w = 0; w < W; w++) dst[j * plane + w] += src[(size_t)w * r + j];
        }
}

static void pixel_shuffle_backward(Node *nd) {
    Tensor *x = nd->in[0], *out = nd->out;
    if (!node_wants(nd, 0)) return;
    real_t *dx = tensor_grad(x);    /* [N,C*r*r,H,W] */
    const real_t *dout = out->grad; /* [N,C,H*r,W*r] */
    int r = nd->iarg[0], NC = TN(out) * TC(out);
    size_t block = (size_t)r * r * TH(x) * TW(x);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < NC; p++) shuffle_bwd(dout + p * block, dx + p * block, r, TH(x), TW(x));
}

Tensor *op_pixel_shuffle(Tensor *x, int r) {
    OPS_DISPATCH(pixel_shuffle, x->device, x, r);
    char s[64];
    if (r < 1 || TC(x) % (r * r) != 0)
        rn_die("pixel_shuffle: %s has channels not divisible by r*r = %d", tensor_shape_str(x, s, sizeof s), r * r);
    int C = TC(x) / (r * r);
    Tensor *out = tensor_new(TN(x), C, TH(x) * r, TW(x) * r); /* [N,C,H*r,W*r] */
    int NC = TN(x) * C;
    size_t block = (size_t)r * r * TH(x) * TW(x);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < NC; p++) shuffle_fwd(x->data + p * block, out->data + p * block, r, TH(x), TW(x));
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_PIXEL_SHUFFLE, pixel_shuffle_backward, out, x, NULL, NULL, NULL);
        nd->iarg[0] = r;
    }
    return out;
}
