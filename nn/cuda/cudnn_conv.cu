// conv.cu: cuDNN convolution forward, backward-data, backward-filter and bias, with per-shape algorithm plans.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cuda/cudnn_graph.h"
#include "nn/cuda/dnn.h"
#include "nn/cuda/dnn_desc.h"

extern "C" {
#include "nn/cuda/cuda.h"
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
// An on/off environment switch (set and not "0" = on), read once into *cache (-1 = not read yet).
static bool env_flag(const char *name, int *cache) {
    if (*cache < 0) {
        const char *e = getenv(name);
        *cache = e && *e && strcmp(e, "0") != 0;
    }
    return *cache;
}

static bool only_deterministic(void) {
    static int v = -1;
    return env_flag("RUNE_DETERMINISTIC", &v);
}

// The three passes of a convolution, each with its own algorithm (ConvPass of cudnn_graph.h).
typedef ConvPass Pass;
static const Pass PASS_FWD = CONV_PASS_FWD, PASS_DATA = CONV_PASS_DATA, PASS_FILTER = CONV_PASS_FILTER;
enum { PASS_COUNT = CONV_PASS_COUNT };

// Which cuDNN API runs a pass: the legacy algorithms (cudnnFind*), the backend graph API's
// autotuned plans (cudnn_graph.cu; legacy where the graph has no plan), or per shape, pass
// and beta the faster of the two as measured on the first call (auto, the default: the graph
// path can then only help). RUNE_CUDNN_API=legacy|graph|auto, or cuda_conv_set_api().
static int g_api = -1;
static CudaConvApi conv_api(void) {
    if (g_api < 0) {
        const char *e = getenv("RUNE_CUDNN_API");
        if (!e || !*e || !strcmp(e, "auto")) g_api = CUDA_CONV_API_AUTO;
        else if (!strcmp(e, "legacy")) g_api = CUDA_CONV_API_LEGACY;
        else if (!strcmp(e, "graph")) g_api = CUDA_CONV_API_GRAPH;
        else rn_die("RUNE_CUDNN_API=%s: expected legacy, graph or auto", e);
    }
    return (CudaConvApi)g_api;
}
extern "C" void cuda_conv_set_api(CudaConvApi api) { g_api = api; }

// RUNE_CUDNN_VERBOSE=1: one line per shape and pass saying which API won and why.
static bool verbose(void) {
    static int v = -1;
    return env_flag("RUNE_CUDNN_VERBOSE", &v);
}

// Passes run by each API since the last reset, and those where the graph API was asked for but
// had no plan (the tests report these rather than fail).
static CudaConvApiStats g_stats;
extern "C" CudaConvApiStats cuda_conv_api_stats(int reset) {
    CudaConvApiStats s = g_stats;
    if (reset) memset(&g_stats, 0, sizeof g_stats);
    return s;
}

// One (pass, beta, pointer alignments, API) decision of a shape: a graph plan, or NULL for legacy.
struct Choice {
    Pass pass;
    float beta;
    int align; // x, w, y byte alignments (16/8/4) packed: the graph plan assumes them
    CudaConvApi api;
    GraphConv *g = nullptr;
    Choice *next = nullptr;
};
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
    Choice *choices = nullptr;         // graph-or-legacy decisions, made on first use
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

// The bytes of the pass's output (what it writes): y, dx or dw.
static size_t out_bytes(const CudaConv *cv, Pass pass) {
    size_t n = pass == PASS_FWD    ? (size_t)cv->n * cv->k * cv->oh * cv->ow
               : pass == PASS_DATA ? (size_t)cv->n * cv->c * cv->h * cv->w
                                   : (size_t)cv->k * (cv->c / cv->groups) * cv->kh * cv->kw;
    return n * sizeof(float);
}

static int align_bits(const void *p) {
    uintptr_t a = (uintptr_t)p;
    return a % 16 == 0 ? 16 : a % 8 == 0 ? 8 : 4;
}

// The pass's call on given pointers (x, w, y by role) with the legacy algorithm.
typedef cudnnStatus_t (*LegacyFn)(const Ready *r, const void *x, const void *w, void *y, float beta);

static void describe(char *buf, size_t n, const CudaConv *cv, Pass pass, float beta) {
    snprintf(buf, n, "conv %s x %dx%dx%dx%d w %dx%dx%dx%d s%dx%d p%dx%d d%dx%d g%d beta %g", pass_names[pass], cv->n,
             cv->c, cv->h, cv->w, cv->k, cv->c / cv->groups, cv->kh, cv->kw, cv->sh, cv->sw, cv->ph, cv->pw, cv->dh,
             cv->dw, cv->groups, beta);
}

// Makes the decision for this pass: tries the graph API on the real inputs (tuning runs write to
// the real output when beta is 0, since the real run overwrites it after; to a zeroed scratch
// copy otherwise, so accumulated gradients are untouched) and, under auto, times the legacy
// algorithm the same way and keeps the faster.
static Choice *decide(Ready *r, Pass pass, float beta, const void *x, const void *w, void *y, int align,
                      LegacyFn legacy) {
    Choice *c = new Choice;
    c->pass = pass, c->beta = beta, c->align = align, c->api = conv_api();
    c->next = r->p->choices, r->p->choices = c;
    const CudaConv *cv = &r->p->key;
    void *real_out = pass == PASS_FWD ? y : pass == PASS_DATA ? (void *)x : (void *)w;
    void *out = real_out, *scratch = nullptr;
    char what[200];
    describe(what, sizeof what, cv, pass, beta);
    if (beta != 0.f) {
        if (cudaMalloc(&scratch, out_bytes(cv, pass)) != cudaSuccess ||
            cudaMemset(scratch, 0, out_bytes(cv, pass)) != cudaSuccess) {
            cudaGetLastError(); // not sticky: clear it so no later check reports it
            if (scratch) cudaFree(scratch);
            if (verbose()) fprintf(stderr, "cudnn: %s: graph: no memory to tune in, legacy used\n", what);
            return c;
        }
        out = scratch;
    }
    double t0 = now_seconds();
    GraphTune t = {cv, pass, beta, x, w, y, out, workspace_limit(), only_deterministic()};
    const char *why = nullptr;
    if (graph_conv_plan(r->h, &t, &c->g, &why) < 0) {
        if (verbose()) fprintf(stderr, "cudnn: %s: graph: no plan (%s), legacy used\n", what, why);
    } else if (c->api == CUDA_CONV_API_AUTO) {
        const void *lx = pass == PASS_DATA ? out : x, *lw = pass == PASS_FILTER ? out : w;
        void *ly = pass == PASS_FWD ? out : y;
        // the legacy pass's workspace was sized by prepare(); the graph's tuning may have moved it
        float ms = conv_time_ms([&] {
            Ready lr = *r;
            if (lr.ws_size && !(lr.ws = cuda_workspace(lr.ws_size))) return CUDNN_STATUS_NOT_SUPPORTED;
            return legacy(&lr, lx, lw, ly, beta);
        }, 2);
        float gms = graph_conv_ms(c->g);
        if (verbose())
            fprintf(stderr, "cudnn: %s: graph %.3f ms, legacy algo %d %.3f ms: %s\n", what, gms, r->p->algo[pass], ms,
                    ms >= 0 && ms <= gms ? "legacy" : "graph");
        if (ms >= 0 && ms <= gms) graph_conv_free(c->g), c->g = nullptr;
    } else if (verbose())
        fprintf(stderr, "cudnn: %s: graph %.3f ms (forced)\n", what, graph_conv_ms(c->g));
    if (scratch) cudaFree(scratch);
    profile_add("cuDNN graph tuning (new conv shape)", now_seconds() - t0);
    return c;
}

// Runs one pass: through its graph plan when the API and the decision say so, else (and when the
// plan fails at run time: then the decision turns to legacy for good) through the legacy algorithm.
static int run_pass(Pass pass, const CudaConv *cv, const void *x, const void *w, void *y, float beta,
                    LegacyFn legacy, const char *call) {
    Ready r;
    TRY(prepare(cv, pass, &r));
    CudaConvApi api = conv_api();
    if (api != CUDA_CONV_API_LEGACY) {
        int align = align_bits(x) | align_bits(w) << 5 | align_bits(y) << 10;
        Choice *c = r.p->choices;
        while (c && !(c->pass == pass && c->beta == beta && c->align == align && c->api == api)) c = c->next;
        if (!c) {
            c = decide(&r, pass, beta, x, w, y, align, legacy);
            r.ws = r.ws_size ? cuda_workspace(r.ws_size) : NULL; // tuning may have grown (moved) it
            if (r.ws_size && !r.ws) return -1;
        }
        if (c->g) {
            size_t need = graph_conv_ws(c->g);
            void *ws = need ? cuda_workspace(need) : NULL;
            if (need && !ws) return -1;
            cudnnStatus_t s = graph_conv_run(r.h, c->g, x, w, y, ws);
            if (s == CUDNN_STATUS_SUCCESS) return g_stats.graph++, 0;
            if (verbose()) fprintf(stderr, "cudnn: conv %s: graph plan failed to run (%s), legacy from now on\n",
                                   pass_names[pass], cudnnGetErrorString(s));
            graph_conv_free(c->g), c->g = nullptr;
            r.ws = r.ws_size ? cuda_workspace(r.ws_size) : NULL;
            if (r.ws_size && !r.ws) return -1;
        }
        if (api == CUDA_CONV_API_GRAPH) g_stats.graph_refused++;
    }
    g_stats.legacy++;
    cudnnStatus_t s = legacy(&r, x, w, y, beta);
    if (s != CUDNN_STATUS_SUCCESS) rn_die("cuDNN: %s failed: %s", call, cudnnGetErrorString(s));
    return 0;
}

static const float k_one = 1.f;

static cudnnStatus_t legacy_fwd(const Ready *r, const void *x, const void *w, void *y, float beta) {
    return cudnnConvolutionForward(r->h, &k_one, r->p->xd.d, x, r->p->wd.d, w, r->p->cd.d,
                                   (cudnnConvolutionFwdAlgo_t)r->p->algo[PASS_FWD], r->ws, r->ws_size, &beta,
                                   r->p->yd.d, y);
}

static cudnnStatus_t legacy_data(const Ready *r, const void *dx, const void *w, void *dy, float beta) {
    return cudnnConvolutionBackwardData(r->h, &k_one, r->p->wd.d, w, r->p->yd.d, dy, r->p->cd.d,
                                        (cudnnConvolutionBwdDataAlgo_t)r->p->algo[PASS_DATA], r->ws, r->ws_size,
                                        &beta, r->p->xd.d, (void *)dx);
}

static cudnnStatus_t legacy_filter(const Ready *r, const void *x, const void *dw, void *dy, float beta) {
    return cudnnConvolutionBackwardFilter(r->h, &k_one, r->p->xd.d, x, r->p->yd.d, dy, r->p->cd.d,
                                          (cudnnConvolutionBwdFilterAlgo_t)r->p->algo[PASS_FILTER], r->ws,
                                          r->ws_size, &beta, r->p->wd.d, (void *)dw);
}

// The roles: every pass names its tensors x, w, y (the output among them, written in place).
extern "C" int cuda_conv_forward(const CudaConv *cv, const float *x, const float *w, float beta, float *y) {
    return run_pass(PASS_FWD, cv, x, w, y, beta, legacy_fwd, "cudnnConvolutionForward");
}

extern "C" int cuda_conv_backward_data(const CudaConv *cv, const float *w, const float *dy, float beta, float *dx) {
    return run_pass(PASS_DATA, cv, dx, w, (void *)dy, beta, legacy_data, "cudnnConvolutionBackwardData");
}

extern "C" int cuda_conv_backward_filter(const CudaConv *cv, const float *x, const float *dy, float beta,
                                         float *dw) {
    return run_pass(PASS_FILTER, cv, x, dw, (void *)dy, beta, legacy_filter, "cudnnConvolutionBackwardFilter");
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
