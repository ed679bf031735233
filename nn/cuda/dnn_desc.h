// dnn_desc.h (C++ only): cuDNN descriptors that destroy themselves, so no error path can leak one.
#pragma once
#include <cudnn.h>

#include "nn/cuda/cuda_check.h"

// One descriptor of type T, destroyed with its owner (never copied).
template <typename T, cudnnStatus_t (*Destroy)(T)> struct Owned {
    T d = nullptr;
    Owned() = default;
    Owned(const Owned &) = delete;
    Owned &operator=(const Owned &) = delete;
    ~Owned() {
        if (d) Destroy(d);
    }
};

// An NCHW float32 tensor [n,c,h,w].
struct TensorDesc : Owned<cudnnTensorDescriptor_t, cudnnDestroyTensorDescriptor> {
    int make(int n, int c, int h, int w) {
        if (!d) CHECK_CUDNN(cudnnCreateTensorDescriptor(&d));
        CHECK_CUDNN(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
        return 0;
    }
};

// A float32 filter [k, c_per_group, kh, kw] (PyTorch's conv weight layout).
struct FilterDesc : Owned<cudnnFilterDescriptor_t, cudnnDestroyFilterDescriptor> {
    int make(int k, int c, int kh, int kw) {
        if (!d) CHECK_CUDNN(cudnnCreateFilterDescriptor(&d));
        CHECK_CUDNN(cudnnSetFilter4dDescriptor(d, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k, c, kh, kw));
        return 0;
    }
};

// Cross-correlation (PyTorch's conv) in float32 with FMA math only: no TF32 tensor cores.
struct ConvDesc : Owned<cudnnConvolutionDescriptor_t, cudnnDestroyConvolutionDescriptor> {
    int make(int ph, int pw, int sh, int sw, int dh, int dw, int groups) {
        if (!d) CHECK_CUDNN(cudnnCreateConvolutionDescriptor(&d));
        CHECK_CUDNN(cudnnSetConvolution2dDescriptor(d, ph, pw, sh, sw, dh, dw, CUDNN_CROSS_CORRELATION,
                                                    CUDNN_DATA_FLOAT));
        CHECK_CUDNN(cudnnSetConvolutionGroupCount(d, groups));
        CHECK_CUDNN(cudnnSetConvolutionMathType(d, CUDNN_FMA_MATH));
        return 0;
    }
};
