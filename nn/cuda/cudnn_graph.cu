// cudnn_graph.cu: a convolution pass through cuDNN's backend API: op graph, heuristics, float32-only engine configs, plans timed on the real buffers.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nn/cuda/cuda_check.h"
#include "nn/cuda/cudnn_graph.h"

// The backend engines PyTorch's cudnn-frontend autotunes over include ones the legacy
// cudnnFind* never lists (Hopper's newer FMA kernels); here they are reached without the
// frontend library. Nothing on this path may die: a failed call names itself in *why and the
// caller falls back to the legacy algorithms, so the soft check below replaces CHECK_CUDNN.
static const char *g_why;
static char g_why_buf[512];
static int gfail(const char *call, cudnnStatus_t s) {
    snprintf(g_why_buf, sizeof g_why_buf, "%s: %s", call, cudnnGetErrorString(s));
    g_why = g_why_buf;
    return -1;
}
#define GTRY(call)                                                                             \
    do {                                                                                       \
        cudnnStatus_t s_ = (call);                                                             \
        if (s_ != CUDNN_STATUS_SUCCESS) return gfail(#call, s_);                               \
    } while (0)
#define GSET(d, attr, type, n, v) GTRY(cudnnBackendSetAttribute(d, attr, type, n, v))

// One backend descriptor, destroyed with its owner, so no path leaks one.
struct BDesc {
    cudnnBackendDescriptor_t d = nullptr;
    BDesc() = default;
    BDesc(const BDesc &) = delete;
    BDesc &operator=(const BDesc &) = delete;
    ~BDesc() { reset(); }
    void reset() {
        if (d) cudnnBackendDestroyDescriptor(d);
        d = nullptr;
    }
    int make(cudnnBackendDescriptorType_t t) {
        reset();
        GTRY(cudnnBackendCreateDescriptor(t, &d));
        return 0;
    }
};

enum { UID_X = 'x', UID_W = 'w', UID_Y = 'y' };

struct GraphConv {
    BDesc plan;
    size_t ws = 0;
    float ms = -1;
};

float graph_conv_ms(const GraphConv *g) { return g->ms; }
size_t graph_conv_ws(const GraphConv *g) { return g->ws; }
void graph_conv_free(GraphConv *g) { delete g; }

// The byte alignment the plan may assume of p: 16 where it holds (arena and cudaMalloc pointers
// are 64- and 256-byte aligned), less for views at odd offsets; the caller keys plans on it.
static int64_t align_of(const void *p) {
    uintptr_t a = (uintptr_t)p;
    return a % 16 == 0 ? 16 : a % 8 == 0 ? 8 : 4;
}

// A packed NCHW float32 tensor.
static int tensor(BDesc &t, int64_t uid, int64_t n, int64_t c, int64_t h, int64_t w, const void *p) {
    const int64_t dims[4] = {n, c, h, w}, strides[4] = {c * h * w, h * w, w, 1}, align = align_of(p);
    const cudnnDataType_t dt = CUDNN_DATA_FLOAT;
    if (t.make(CUDNN_BACKEND_TENSOR_DESCRIPTOR) < 0) return -1;
    GSET(t.d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt);
    GSET(t.d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims);
    GSET(t.d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides);
    GSET(t.d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
    GSET(t.d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align);
    GTRY(cudnnBackendFinalize(t.d));
    return 0;
}

// Cross-correlation in float32 (compute type float: the math-type knob of the legacy API is
// replaced by filtering engines on their numerical notes below). Symmetric padding, as the
// legacy descriptor's: the caller has checked that it gives the asked-for output size.
static int conv_desc(BDesc &c, const CudaConv *cv) {
    const int64_t nd = 2, pad[2] = {cv->ph, cv->pw}, stride[2] = {cv->sh, cv->sw}, dil[2] = {cv->dh, cv->dw};
    const cudnnDataType_t dt = CUDNN_DATA_FLOAT;
    const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    if (c.make(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR) < 0) return -1;
    GSET(c.d, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt);
    GSET(c.d, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
    GSET(c.d, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &nd);
    GSET(c.d, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pad);
    GSET(c.d, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pad);
    GSET(c.d, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, stride);
    GSET(c.d, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil);
    GTRY(cudnnBackendFinalize(c.d));
    return 0;
}

// The pass's operation: y = alpha * op + beta * y with alpha 1; beta as the caller accumulates
// (rune's backward passes add into gradients with beta 1, forwards overwrite with beta 0).
static int operation(BDesc &op, ConvPass pass, BDesc &x, BDesc &w, BDesc &y, BDesc &c, float beta) {
    static const cudnnBackendDescriptorType_t types[CONV_PASS_COUNT] = {
        CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR,
        CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR,
        CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR};
    // attribute names per pass: alpha, beta, conv, x, w, y (by role)
    static const cudnnBackendAttributeName_t at[CONV_PASS_COUNT][6] = {
        {CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X,
         CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y},
        {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY},
        {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY}};
    const float alpha = 1.f;
    if (op.make(types[pass]) < 0) return -1;
    GSET(op.d, at[pass][0], CUDNN_TYPE_FLOAT, 1, &alpha);
    GSET(op.d, at[pass][1], CUDNN_TYPE_FLOAT, 1, &beta);
    GSET(op.d, at[pass][2], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &c.d);
    GSET(op.d, at[pass][3], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x.d);
    GSET(op.d, at[pass][4], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w.d);
    GSET(op.d, at[pass][5], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y.d);
    GTRY(cudnnBackendFinalize(op.d));
    return 0;
}

// Whether an engine config computes in true float32 (and deterministically when asked), and
// needs no runtime compilation (NVRTC may be absent, and compiling costs seconds per plan).
static int config_ok(cudnnBackendDescriptor_t cfg, bool deterministic, bool *ok) {
    BDesc eng;
    int64_t got = 0;
    if (eng.make(CUDNN_BACKEND_ENGINE_DESCRIPTOR) < 0) return -1;
    GTRY(cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &got, &eng.d));
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    GTRY(cudnnBackendGetAttribute(eng.d, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                  CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &got, notes));
    *ok = true;
    for (int64_t i = 0; i < got; i++)
        if (notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE || notes[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS ||
            notes[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION ||
            (deterministic && notes[i] == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC))
            *ok = false;
    cudnnBackendBehaviorNote_t beh[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
    got = 0;
    GTRY(cudnnBackendGetAttribute(eng.d, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                                  CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, &got, beh));
    for (int64_t i = 0; i < got; i++)
        if (beh[i] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION) *ok = false;
    return 0;
}

// Everything the graph needs alive while its plans are made.
struct Graph {
    BDesc x, w, y, conv, op, graph;
};

static int build_graph(cudnnHandle_t h, const GraphTune *t, Graph *g) {
    const CudaConv *cv = t->cv;
    if (tensor(g->x, UID_X, cv->n, cv->c, cv->h, cv->w, t->x) < 0 ||
        tensor(g->w, UID_W, cv->k, cv->c / cv->groups, cv->kh, cv->kw, t->w) < 0 ||
        tensor(g->y, UID_Y, cv->n, cv->k, cv->oh, cv->ow, t->y) < 0 || conv_desc(g->conv, cv) < 0 ||
        operation(g->op, t->pass, g->x, g->w, g->y, g->conv, t->beta) < 0)
        return -1;
    if (g->graph.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR) < 0) return -1;
    GSET(g->graph.d, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
    GSET(g->graph.d, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &g->op.d);
    GTRY(cudnnBackendFinalize(g->graph.d));
    return 0;
}

enum { MAX_CFG = 48, MAX_TIMED = 8, MAX_FALLBACK_TIMED = 2, TUNE_REPS = 2 };

// The engine configs the heuristics of `mode` rank for the graph, best first (up to MAX_CFG).
static int heuristics(cudnnBackendDescriptor_t graph, cudnnBackendHeurMode_t mode, BDesc *cfgs, int *n) {
    BDesc heur;
    *n = 0;
    if (heur.make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR) < 0) return -1;
    GSET(heur.d, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph);
    GSET(heur.d, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode);
    GTRY(cudnnBackendFinalize(heur.d));
    int64_t count = 0;
    GTRY(cudnnBackendGetAttribute(heur.d, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count,
                                  nullptr));
    if (count > MAX_CFG) count = MAX_CFG;
    cudnnBackendDescriptor_t raw[MAX_CFG];
    for (int64_t i = 0; i < count; i++) {
        if (cfgs[i].make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR) < 0) return -1;
        raw[i] = cfgs[i].d;
    }
    int64_t got = 0;
    GTRY(cudnnBackendGetAttribute(heur.d, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got,
                                  raw));
    *n = (int)(got < count ? got : count);
    return 0;
}

// A finalized plan of cfg and its workspace bytes.
static int make_plan(cudnnHandle_t h, cudnnBackendDescriptor_t cfg, BDesc &plan, size_t *ws) {
    int64_t bytes = 0, got = 0;
    if (plan.make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR) < 0) return -1;
    GSET(plan.d, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
    GSET(plan.d, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg);
    GTRY(cudnnBackendFinalize(plan.d));
    GTRY(cudnnBackendGetAttribute(plan.d, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &got,
                                  &bytes));
    *ws = (size_t)(bytes > 0 ? bytes : 0);
    return 0;
}

cudnnStatus_t graph_conv_run(cudnnHandle_t h, const GraphConv *g, const void *x, const void *w, const void *y,
                             void *ws) {
    const int64_t uids[3] = {UID_X, UID_W, UID_Y};
    void *ptrs[3] = {(void *)x, (void *)w, (void *)y};
    cudnnBackendDescriptor_t vp = nullptr;
    cudnnStatus_t s = cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    if ((s = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, uids)) ==
            CUDNN_STATUS_SUCCESS &&
        (s = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, ptrs)) ==
            CUDNN_STATUS_SUCCESS &&
        (s = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws)) ==
            CUDNN_STATUS_SUCCESS &&
        (s = cudnnBackendFinalize(vp)) == CUDNN_STATUS_SUCCESS)
        s = cudnnBackendExecute(h, g->plan.d, vp);
    cudnnBackendDestroyDescriptor(vp);
    return s;
}

// Times one finalized candidate on the tuning buffers; keeps it in *best when it is the fastest so far.
static void try_candidate(cudnnHandle_t h, const GraphTune *t, GraphConv *cand, GraphConv **best) {
    void *ws = nullptr;
    if (cand->ws && !(ws = cuda_workspace(cand->ws))) { // cannot grow: this candidate is out
        cudaGetLastError(); // the failed cudaMalloc's error must not surface at the next launch check
        delete cand;
        return;
    }
    // the output pointer of this pass's role is replaced by the tuning buffer
    const void *x = t->pass == CONV_PASS_DATA ? t->out : t->x;
    const void *w = t->pass == CONV_PASS_FILTER ? t->out : t->w;
    const void *y = t->pass == CONV_PASS_FWD ? t->out : t->y;
    cand->ms = conv_time_ms([&] { return graph_conv_run(h, cand, x, w, y, ws); }, TUNE_REPS);
    if (cand->ms < 0 || (*best && (*best)->ms <= cand->ms)) {
        delete cand;
        return;
    }
    delete *best;
    *best = cand;
}

int graph_conv_plan(cudnnHandle_t h, const GraphTune *t, GraphConv **out, const char **why) {
    static const cudnnBackendHeurMode_t modes[2] = {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK};
    static const int quota[2] = {MAX_TIMED, MAX_FALLBACK_TIMED};
    Graph g;
    GraphConv *best = nullptr;
    int considered = 0, rejected = 0;
    g_why = nullptr;
    *out = nullptr;
    if (build_graph(h, t, &g) < 0) return *why = g_why, -1;
    for (int m = 0; m < 2; m++) {
        BDesc cfgs[MAX_CFG];
        int n = 0, timed = 0;
        if (heuristics(g.graph.d, modes[m], cfgs, &n) < 0) continue; // the other mode may still answer
        for (int i = 0; i < n && timed < quota[m]; i++) {
            bool ok = false;
            considered++;
            if (config_ok(cfgs[i].d, t->deterministic, &ok) < 0 || !ok) {
                rejected++;
                continue;
            }
            GraphConv *cand = new GraphConv;
            if (make_plan(h, cfgs[i].d, cand->plan, &cand->ws) < 0 || cand->ws > t->ws_limit) {
                delete cand;
                continue;
            }
            timed++;
            try_candidate(h, t, cand, &best);
        }
    }
    if (!best) {
        if (!g_why || considered) {
            char last[256];
            snprintf(last, sizeof last, "%s", g_why ? g_why : "");
            snprintf(g_why_buf, sizeof g_why_buf,
                     "no float32 plan ran within the workspace limit (%d configs, %d with tensor-core, "
                     "down-convert, nondeterministic or runtime-compiled notes%s%.200s)",
                     considered, rejected, *last ? "; last error " : "", last);
            g_why = g_why_buf;
        }
        return *why = g_why, -1;
    }
    *out = best;
    return 0;
}
