// cudnn_graph.h (C++ only): one convolution pass planned through cuDNN's backend ("graph") API, autotuned, or refused so the legacy path takes it.
#pragma once
#include <stddef.h>

#include "nn/cuda/dnn.h"

// The three passes; every pass reads or writes the same three tensors by role: x [n,c,h,w],
// w [k,c/g,kh,kw], y [n,k,oh,ow]. Forward writes y, backward data writes x, backward filter w.
enum ConvPass { CONV_PASS_FWD, CONV_PASS_DATA, CONV_PASS_FILTER, CONV_PASS_COUNT };

// A finalized execution plan with the measured time of its best run on the tuning buffers.
struct GraphConv;

// What a plan is built and tuned with. out is the buffer tuning runs write in place of the pass's
// real output (the real one when beta is 0; a scratch copy otherwise, so accumulation is left alone).
struct GraphTune {
    const CudaConv *cv;
    ConvPass pass;
    float beta;
    const void *x, *w, *y; // the real pointers: their alignment goes into the plan
    void *out;             // where tuning runs write the pass's output
    size_t ws_limit;       // no plan may need more workspace than this
    bool deterministic;    // only plans without CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC
};

// Builds the graph, asks the heuristics (mode A, then FALLBACK), keeps float32 FMA plans (no
// tensor-core / down-converting / reduced-precision notes, no runtime compilation) within the
// workspace limit, times up to a few of them and returns the fastest. -1 with *why set (a
// static string naming the failed call or the reason) when no plan survives.
int graph_conv_plan(cudnnHandle_t h, const GraphTune *t, GraphConv **out, const char **why);
// The measured milliseconds of the plan's best tuning run.
float graph_conv_ms(const GraphConv *g);
// Its workspace bytes.
size_t graph_conv_ws(const GraphConv *g);
// Runs the plan on real pointers (x, w, y by role, the output among them); the status of the
// first backend call that failed, so the caller can fall back.
cudnnStatus_t graph_conv_run(cudnnHandle_t h, const GraphConv *g, const void *x, const void *w, const void *y,
                             void *ws);
void graph_conv_free(GraphConv *g);

// Milliseconds of one run of f (cudnnStatus_t f()), the best of `reps` after one warm-up run;
// negative when a run fails. Shared by both paths so the comparison is like for like.
template <typename F> static float conv_time_ms(F f, int reps) {
    cudaEvent_t a, b;
    if (cudaEventCreate(&a) != cudaSuccess) return -1;
    if (cudaEventCreate(&b) != cudaSuccess) return cudaEventDestroy(a), -1;
    float best = -1;
    if (f() == CUDNN_STATUS_SUCCESS && cudaDeviceSynchronize() == cudaSuccess) {
        for (int i = 0; i < reps; i++) {
            float ms = 0;
            cudaEventRecord(a);
            cudnnStatus_t s = f();
            cudaEventRecord(b);
            if (s != CUDNN_STATUS_SUCCESS || cudaEventSynchronize(b) != cudaSuccess ||
                cudaEventElapsedTime(&ms, a, b) != cudaSuccess) {
                best = -1;
                break;
            }
            if (best < 0 || ms < best) best = ms;
        }
    }
    cudaGetLastError(); // a failed run's sticky-free error must not be reported by the next launch check
    cudaEventDestroy(a), cudaEventDestroy(b);
    return best;
}
