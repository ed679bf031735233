/* darknet_maxpool.c: max pooling with darknet's window placement (odd padding pads right/bottom only). */
#include "nn/models/darknet.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* The engine's op_max_pool2d pads symmetrically. darknet starts window (oy, ox) at
 * (oy*s - pad/2, ox*s - pad/2) and sizes the output (H + pad - size)/s + 1, so with an odd pad
 * (yolov3-tiny's size=2 stride=1: pad 1) the extra row/column lies on the right/bottom. As in
 * darknet, the first maximum in window order wins a tie; unlike darknet, a NaN wins (op_max_pool2d's
 * PyTorch rule), so a NaN upstream shows instead of being skipped. */
Tensor *darknet_maxpool(Tensor *x, int size, int stride, int pad) {
    RN_CHECK(size >= 1 && stride >= 1 && pad >= 0 && pad <= 2 * (size - 1), "darknet_maxpool: size %d stride %d pad %d",
             size, stride, pad);
    int H = TH(x), W = TW(x), OH = (H + pad - size) / stride + 1, OW = (W + pad - size) / stride + 1;
    RN_CHECK(H + pad >= size && W + pad >= size, "darknet_maxpool: input %dx%d smaller than window %d", H, W, size);
    return op_max_pool2d_at(x, size, stride, pad / 2, OH, OW, OP_DARKNET_MAXPOOL);
}
