// conv.cu: cuDNN convolution forward, backward-data, backward-filter and bias, with per-shape algorithm plans.
#include <string.h>

#include "nn/cuda/dnn.h"
#include "nn/cuda/dnn_desc.h"

// Algorithms may use at most this much scratch: the fastest within it is taken (the workspace is
// shared, so the limit caps the memory any one plan pins).
static const size_t kWorkspaceLimit = (size_t)1 << 30;

// Descriptors and the chosen algorithms of one geometry; made once, kept for the process.
struct ConvPlan {
    CudaConv key;
    TensorDesc xd, yd;
    FilterDesc wd;
    ConvDesc cd;
    bool has_fwd = false, has_data = false, has_filter = false;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t data;
    cudnnConvolutionBwdFilterAlgo_t filter;
    size_t fwd_ws = 0, data_ws = 0, filter_ws = 0;
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

// Index of the fastest measured algorithm that ran, uses FMA math (no TF32), fits the workspace
// limit and is deterministic (same inputs, same bits: rune's runs repeat); a non-deterministic one
// only when no deterministic one qualifies. cuDNN lists results fastest first.
template <typename Perf> static int pick(const Perf *perf, int n, const char *pass, const CudaConv *cv) {
    for (int pass_det = 1; pass_det >= 0; pass_det--)
        for (int i = 0; i < n; i++)
            if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == CUDNN_FMA_MATH &&
                perf[i].memory <= kWorkspaceLimit && (!pass_det || perf[i].determinism == CUDNN_DETERMINISTIC))
                return i;
    return rn_fail("cuDNN conv %s: no float32 algorithm within %zu MiB of workspace for x %dx%dx%dx%d, w %dx%dx%dx%d, "
                   "groups %d",
                   pass, kWorkspaceLimit >> 20, cv->n, cv->c, cv->h, cv->w, cv->k, cv->c / cv->groups, cv->kh, cv->kw,
                   cv->groups);
}

// Each pass measures every algorithm once per shape (cudnnFind*, its own buffers: ours are untouched).
static int find_fwd(cudnnHandle_t h, ConvPlan *p) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int got = 0;
    CHECK_CUDNN(cudnnFindConvolutionForwardAlgorithm(h, p->xd.d, p->wd.d, p->cd.d, p->yd.d,
                                                     CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf));
    int i = pick(perf, got, "forward", &p->key);
    if (i < 0) return -1;
    p->fwd = perf[i].algo, p->fwd_ws = perf[i].memory, p->has_fwd = true;
    return 0;
}

static int find_data(cudnnHandle_t h, ConvPlan *p) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int got = 0;
    CHECK_CUDNN(cudnnFindConvolutionBackwardDataAlgorithm(h, p->wd.d, p->yd.d, p->cd.d, p->xd.d,
                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf));
    int i = pick(perf, got, "backward data", &p->key);
    if (i < 0) return -1;
    p->data = perf[i].algo, p->data_ws = perf[i].memory, p->has_data = true;
    return 0;
}

static int find_filter(cudnnHandle_t h, ConvPlan *p) {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int got = 0;
    CHECK_CUDNN(cudnnFindConvolutionBackwardFilterAlgorithm(h, p->xd.d, p->yd.d, p->cd.d, p->wd.d,
                                                            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, perf));
    int i = pick(perf, got, "backward filter", &p->key);
    if (i < 0) return -1;
    p->filter = perf[i].algo, p->filter_ws = perf[i].memory, p->has_filter = true;
    return 0;
}

// The shared workspace at `bytes` (NULL when none is needed); -1 when it cannot grow.
static int workspace(size_t bytes, void **ws) {
    *ws = NULL;
    if (bytes && !(*ws = cuda_workspace(bytes))) return -1;
    return 0;
}

extern "C" int cuda_conv_forward(const CudaConv *cv, const float *x, const float *w, float beta, float *y) {
    cudnnHandle_t h;
    ConvPlan *p;
    void *ws;
    const float one = 1.f;
    TRY(cuda_dnn_handle(&h));
    TRY(plan_get(cv, &p));
    if (!p->has_fwd) TRY(find_fwd(h, p));
    TRY(workspace(p->fwd_ws, &ws));
    CHECK_CUDNN(cudnnConvolutionForward(h, &one, p->xd.d, x, p->wd.d, w, p->cd.d, p->fwd, ws, p->fwd_ws, &beta,
                                        p->yd.d, y));
    return 0;
}

extern "C" int cuda_conv_backward_data(const CudaConv *cv, const float *w, const float *dy, float beta, float *dx) {
    cudnnHandle_t h;
    ConvPlan *p;
    void *ws;
    const float one = 1.f;
    TRY(cuda_dnn_handle(&h));
    TRY(plan_get(cv, &p));
    if (!p->has_data) TRY(find_data(h, p));
    TRY(workspace(p->data_ws, &ws));
    CHECK_CUDNN(cudnnConvolutionBackwardData(h, &one, p->wd.d, w, p->yd.d, dy, p->cd.d, p->data, ws, p->data_ws,
                                             &beta, p->xd.d, dx));
    return 0;
}

extern "C" int cuda_conv_backward_filter(const CudaConv *cv, const float *x, const float *dy, float beta,
                                         float *dw) {
    cudnnHandle_t h;
    ConvPlan *p;
    void *ws;
    const float one = 1.f;
    TRY(cuda_dnn_handle(&h));
    TRY(plan_get(cv, &p));
    if (!p->has_filter) TRY(find_filter(h, p));
    TRY(workspace(p->filter_ws, &ws));
    CHECK_CUDNN(cudnnConvolutionBackwardFilter(h, &one, p->xd.d, x, p->yd.d, dy, p->cd.d, p->filter, ws,
                                               p->filter_ws, &beta, p->wd.d, dw));
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
