// conv.cu: cuDNN convolution forward, backward-data, backward-filter and bias, with per-shape algorithm plans.
#include <stdlib.h>
#include <string.h>

#include "nn/cuda/dnn.h"
#include "nn/cuda/dnn_desc.h"

extern "C" {
#include "nn/profile.h"
#include "util/progress.h"
}

// Algorithms may use at most this much scratch: the fastest within it is taken (the workspace is
// shared, so the limit caps the memory any one plan pins). A quarter of the memory free at the
// first plan, between 1 and 8 GiB: at 2048x1024 the fastest algorithms of the big convs (FFT, tiled
// GEMMs) want more than a fixed GiB, and PyTorch's benchmark mode lets them have what is free.
static size_t g_ws_limit;
static size_t workspace_limit(void) {
    if (!g_ws_limit) {
        size_t free_b = 0, total_b = 0;
        CHECK_CUDA(cudaMemGetInfo(&free_b, &total_b));
        const size_t lo = (size_t)1 << 30, hi = (size_t)8 << 30; // 8 GiB: no one plan pins more
        size_t q = free_b / 4;
        g_ws_limit = q < lo ? lo : q > hi ? hi : q;
    }
    return g_ws_limit;
}

// RUNE_DETERMINISTIC=1 (any value but 0) keeps every pass to cuDNN's deterministic algorithms
// (same inputs, same bits, run after run). By default the fastest measured one is taken,
// deterministic or not, as PyTorch's benchmark mode does: the non-deterministic ones (atomics in
// backward filter and data) differ in the last bits only, well inside the CPU parity tolerances.
static bool only_deterministic(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("RUNE_DETERMINISTIC");
        v = e && *e && strcmp(e, "0") != 0;
    }
    return v;
}

// The three passes of a convolution, each with its own algorithm.
enum Pass { PASS_FWD, PASS_DATA, PASS_FILTER, PASS_COUNT };
static const char *const pass_names[PASS_COUNT] = {"forward", "backward data", "backward filter"};

// Descriptors and the chosen algorithms of one geometry; made once, kept for the process.
struct ConvPlan {
    CudaConv key;
    TensorDesc xd, yd;
    FilterDesc wd;
    ConvDesc cd;
    bool found[PASS_COUNT] = {false, false, false};
    int algo[PASS_COUNT];                // cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t of each pass
    size_t ws[PASS_COUNT] = {0, 0, 0}; // its workspace bytes
    ConvPlan *next = nullptr;
};

static ConvPlan *g_plans; // few shapes per model: a list is enough

static int plan_init(ConvPlan *p, const CudaConv *cv) {
    p->key = *cv;
    if (cv->groups < 1 || cv->c % cv->groups || cv->k % cv->groups)
        return rn_fail("cuDNN conv: %d input / %d output channels do not split into %d groups", cv->c, cv->k,
                       cv->groups);
    TRY(p->xd.make(cv->n, cv->c, cv->h, cv->w));
    TRY(p->wd.make(cv->k, cv->c / cv->groups, cv->kh, cv->kw));
    TRY(p->cd.make(cv->ph, cv->pw, cv->sh, cv->sw, cv->dh, cv->dw, cv->groups));
    int n, k, oh, ow;
    CHECK_CUDNN(cudnnGetConvolution2dForwardOutputDim(p->cd.d, p->xd.d, p->wd.d, &n, &k, &oh, &ow));
    if (oh != cv->oh || ow != cv->ow)
        return rn_fail("cuDNN conv: a %dx%d input with a %dx%d kernel (stride %dx%d, pad %dx%d, dilation %dx%d) "
                       "gives %dx%d, not the %dx%d asked for (a transposed conv's output_padding must be below "
                       "its stride on CUDA)",
                       cv->h, cv->w, cv->kh, cv->kw, cv->sh, cv->sw, cv->ph, cv->pw, cv->dh, cv->dw, oh, ow, cv->oh,
                       cv->ow);
    TRY(p->yd.make(cv->n, cv->k, cv->oh, cv->ow));
    return 0;
}

static int plan_get(const CudaConv *cv, ConvPlan **out) {
    for (ConvPlan *p = g_plans; p; p = p->next)
        if (!memcmp(&p->key, cv, sizeof *cv)) return *out = p, 0;
    ConvPlan *p = new ConvPlan;
    if (plan_init(p, cv) < 0) {
        delete p; // its descriptors go with it
        return -1;
    }
    p->next = g_plans, g_plans = p;
    *out = p;
    return 0;
}

// Index of the fastest measured algorithm that ran and fits the workspace limit, preferring in
// turn: deterministic ones when only_deterministic() (else any), and ones cuDNN reports as
// FMA math over DEFAULT math (which may mean TF32 on Ampere and later; Find may list those even
// under our FMA-only descriptor, which is what governs the run). Tensor-op results never qualify.
// cuDNN lists results fastest first.
template <typename Perf> static int pick(const Perf *perf, int n, const char *pass, const CudaConv *cv) {
    static const cudnnMathType_t maths[2] = {CUDNN_FMA_MATH, CUDNN_DEFAULT_MATH};
    size_t limit = workspace_limit();
    for (int det = only_deterministic() ? 1 : 0; det >= 0; det--)
        for (int m = 0; m < 2; m++)
            for (int i = 0; i < n; i++)
                if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == maths[m] &&
                    perf[i].memory <= limit && (!det || perf[i].determinism == CUDNN_DETERMINISTIC))
                    return i;
    return rn_fail("cuDNN conv %s: no float32 algorithm within %zu MiB of workspace for x %dx%dx%dx%d, w %dx%dx%dx%d, "
                   "groups %d",
                   pass, limit >> 20, cv->n, cv->c, cv->h, cv->w, cv->k, cv->c / cv->groups, cv->kh, cv->kw,
                   cv->groups);
}

// Fills p's choice for `pass` from a list of measured algorithms; ws_of(algo) is the workspace
// the algorithm needs under our descriptor (the measured figure may be another math type's). One
// that our descriptor refuses is struck off and the next best taken.
template <typename Perf, typename WsOf>
static int choose(ConvPlan *p, Pass pass, Perf *perf, int got, WsOf ws_of) {
    for (;;) {
        int i = pick(perf, got, pass_names[pass], &p->key);
        if (i < 0) return -1;
        size_t ws = 0;
        if (ws_of(perf[i].algo, &ws) != CUDNN_STATUS_SUCCESS) {
            perf[i].status = CUDNN_STATUS_NOT_SUPPORTED;
            continue;
        }
        p->algo[pass] = (int)perf[i].algo, p->ws[pass] = ws > perf[i].memory ? ws : perf[i].memory;
        p->found[pass] = true;
        return 0;
    }
}

// Measures every algorithm of one pass once per shape (cudnnFind*, its own buffers: ours are untouched).
static int find(cudnnHandle_t h, ConvPlan *p, Pass pass) {
    enum { MAX = 16 }; // more than any pass's CUDNN_CONVOLUTION_*_ALGO_COUNT
    int got = 0;
    if (pass == PASS_FWD) {
        cudnnConvolutionFwdAlgoPerf_t perf[MAX];
        CHECK_CUDNN(cudnnFindConvolutionForwardAlgorithm(h, p->xd.d, p->wd.d, p->cd.d, p->yd.d, MAX, &got, perf));
        return choose(p, pass, perf, got, [&](cudnnConvolutionFwdAlgo_t a, size_t *ws) {
            return cudnnGetConvolutionForwardWorkspaceSize(h, p->xd.d, p->wd.d, p->cd.d, p->yd.d, a, ws);
        });
    }
    if (pass == PASS_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[MAX];
        CHECK_CUDNN(cudnnFindConvolutionBackwardDataAlgorithm(h, p->wd.d, p->yd.d, p->cd.d, p->xd.d, MAX, &got, perf));
        return choose(p, pass, perf, got, [&](cudnnConvolutionBwdDataAlgo_t a, size_t *ws) {
            return cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->wd.d, p->yd.d, p->cd.d, p->xd.d, a, ws);
        });
    }
    cudnnConvolutionBwdFilterAlgoPerf_t perf[MAX];
    CHECK_CUDNN(cudnnFindConvolutionBackwardFilterAlgorithm(h, p->xd.d, p->yd.d, p->cd.d, p->wd.d, MAX, &got, perf));
    return choose(p, pass, perf, got, [&](cudnnConvolutionBwdFilterAlgo_t a, size_t *ws) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->xd.d, p->yd.d, p->cd.d, p->wd.d, a, ws);
    });
}

// What a pass runs with: the handle, the plan with its algorithm chosen, the workspace.
struct Ready {
    cudnnHandle_t h;
    ConvPlan *p;
    void *ws; // NULL when the algorithm needs none
    size_t ws_size;
};

static int prepare(const CudaConv *cv, Pass pass, Ready *r) {
    TRY(cuda_dnn_handle(&r->h));
    TRY(plan_get(cv, &r->p));
    if (!r->p->found[pass]) {
        double t0 = now_seconds();
        TRY(find(r->h, r->p, pass));
        profile_add("cudnnFind (new conv shape)", now_seconds() - t0);
    }
    r->ws_size = r->p->ws[pass], r->ws = NULL;
    if (r->ws_size && !(r->ws = cuda_workspace(r->ws_size))) return -1;
    return 0;
}

extern "C" int cuda_conv_forward(const CudaConv *cv, const float *x, const float *w, float beta, float *y) {
    Ready r;
    const float one = 1.f;
    TRY(prepare(cv, PASS_FWD, &r));
    CHECK_CUDNN(cudnnConvolutionForward(r.h, &one, r.p->xd.d, x, r.p->wd.d, w, r.p->cd.d,
                                        (cudnnConvolutionFwdAlgo_t)r.p->algo[PASS_FWD], r.ws, r.ws_size, &beta,
                                        r.p->yd.d, y));
    return 0;
}

extern "C" int cuda_conv_backward_data(const CudaConv *cv, const float *w, const float *dy, float beta, float *dx) {
    Ready r;
    const float one = 1.f;
    TRY(prepare(cv, PASS_DATA, &r));
    CHECK_CUDNN(cudnnConvolutionBackwardData(r.h, &one, r.p->wd.d, w, r.p->yd.d, dy, r.p->cd.d,
                                             (cudnnConvolutionBwdDataAlgo_t)r.p->algo[PASS_DATA], r.ws, r.ws_size,
                                             &beta, r.p->xd.d, dx));
    return 0;
}

extern "C" int cuda_conv_backward_filter(const CudaConv *cv, const float *x, const float *dy, float beta,
                                         float *dw) {
    Ready r;
    const float one = 1.f;
    TRY(prepare(cv, PASS_FILTER, &r));
    CHECK_CUDNN(cudnnConvolutionBackwardFilter(r.h, &one, r.p->xd.d, x, r.p->yd.d, dy, r.p->cd.d,
                                               (cudnnConvolutionBwdFilterAlgo_t)r.p->algo[PASS_FILTER], r.ws,
                                               r.ws_size, &beta, r.p->wd.d, dw));
    return 0;
}

extern "C" int cuda_bias_add(int n, int c, int h, int w, const float *b, float *y) {
    cudnnHandle_t hd;
    TensorDesc bd, yd;
    const float one = 1.f;
    TRY(cuda_dnn_handle(&hd));
    TRY(bd.make(1, c, 1, 1));
    TRY(yd.make(n, c, h, w));
    CHECK_CUDNN(cudnnAddTensor(hd, &one, bd.d, b, &one, yd.d, y));
    return 0;
}

extern "C" int cuda_bias_grad(int n, int c, int h, int w, const float *dy, float beta, float *db) {
    cudnnHandle_t hd;
    TensorDesc bd, yd;
    const float one = 1.f;
    TRY(cuda_dnn_handle(&hd));
    TRY(bd.make(1, c, 1, 1));
    TRY(yd.make(n, c, h, w));
    CHECK_CUDNN(cudnnConvolutionBackwardBias(hd, &one, yd.d, dy, &beta, bd.d, db));
    return 0;
}
