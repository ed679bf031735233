/* cmd_bench.c: rune bench — the engine's speed at the shapes that matter, printed as times and GFLOP/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_cuda.h"
#include "cmd/commands.h"
#include "nn/backend.h"
#include "util/args.h"
#include "util/err.h"

/* Benchmarks are registered by name so `--only` can pick; each prints its own lines. */
typedef struct {
    const char *name, *what;
} BenchEntry;

static const BenchEntry entries[] = {
    {"conv", "conv2d forward+backward at CARN-M and ResNet-18 (480x360) shapes"},
    {"carn", "CARN-M x4: inference 120x90 -> 480x360, a training step (batch 16 of 16x16 LR)"},
    {"seg", "ESPNet 480x360 and SwiftNet-RN18 480x360 / 2048x1024 forward (and input gradient)"},
    {"asr", "one ASR fine-tuning step on a 480x360 frame (CARN-M x4 + frozen ESPNet, to the input)"},
    {"image", "PNG decode, JPEG encode/decode, bicubic downscale, degrade (480x360 and 2048x1024)"},
};

static bool wanted(const char *only, const char *name) {
    if (!only) return true;
    char buf[256];
    snprintf(buf, sizeof buf, ",%s,", only);
    char key[64];
    snprintf(key, sizeof key, ",%s,", name);
    return strstr(buf, key) != NULL;
}

int cmd_bench(int argc, char **argv) {
    int reps = 5;
    bool breakdown = false;
    const char *only = NULL, *image = NULL, *device = "cpu";
    ArgSpec specs[] = {
        {"reps", ARG_INT, &reps, "N", "repetitions per measurement (the median is reported)"},
        {"only", ARG_STR, &only, "LIST", "comma-separated subset: conv,carn,seg,asr,image (with --device cuda: carn_train,carn_infer,"
                                             "swiftnet_fwd,asr_espnet,asr_swiftnet)"},
        {"image", ARG_STR, &image, "FILE", "frame for the image benchmarks (default: first sample frame)"},
        {"device", ARG_STR, &device, "cpu|cuda",
         "cuda: the GPU set instead (CARN-M train step and 2048x1024 inference, SwiftNet 2048x1024, ASR steps; "
         "scripts/gpu-bench.sh sets PyTorch beside it)"},
        {"breakdown", ARG_BOOL, &breakdown, NULL,
         "after each model row (carn, seg, asr; with --device cuda every row), a per-op table from a few more "
         "steps: forward and backward by op, calls, share, busy threads, the time outside any op, and host "
         "sub-regions (conv im2col/GEMM/col2im, zeroed gradients, arena chunks; on a GPU allocations, copies, "
         "syncs, each op waited for)"},
        {0},
    };
    ArgCmd cmd = {"bench", "[--only conv,carn,seg,asr,image] [--reps N] [--breakdown] [--device cpu|cuda]",
                  "Times the engine at the shapes rune trains and serves with and prints ms and GFLOP/s.\n"
                  "Compare with PyTorch on the same machine: scripts/bench_conv.py, scripts/bench_carn.py\n"
                  "(same shapes, same thread count). Run with OMP_WAIT_POLICY=passive on a quiet machine.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (reps < 1) args_usage_error(&cmd, "--reps must be >= 1");
    Device dev;
    if (device_parse(device, &dev) < 0 || device_ready(dev) < 0) {
        fprintf(stderr, "rune bench: %s\n", rn_errmsg());
        return 1;
    }
    if (dev == DEV_CUDA) {
        for (int i = 0; bench_cuda_keys[i]; i++)
            if (wanted(only, bench_cuda_keys[i])) bench_cuda_run(bench_cuda_keys[i], reps, breakdown);
        return 0;
    }
    const char *omp = getenv("OMP_NUM_THREADS"), *core = getenv("OPENBLAS_CORETYPE");
    printf("rune bench: OMP_NUM_THREADS=%s OPENBLAS_CORETYPE=%s reps=%d\n", omp ? omp : "(default)", core ? core : "(default)", reps);
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        if (!wanted(only, entries[i].name)) continue;
        printf("\n== %s: %s\n", entries[i].name, entries[i].what);
        fflush(stdout);
        if (!strcmp(entries[i].name, "conv")) bench_conv_shapes(reps);
        else if (!strcmp(entries[i].name, "carn")) bench_carn(reps, breakdown);
        else if (!strcmp(entries[i].name, "seg")) bench_seg(reps, breakdown);
        else if (!strcmp(entries[i].name, "asr")) bench_asr_step(reps, breakdown);
        else bench_image(image);
        fflush(stdout);
    }
    return 0;
}
