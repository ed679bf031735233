/* im2col.h: unfolding image planes into GEMM columns (im2col) and folding them back (col2im). */
#pragma once
#include "nn/real.h"

/* Geometry of one convolution as seen by a single group: the conv's input is [C, H, W], its
 * output [OH, OW] per channel. A transposed conv uses the same geometry with the roles of input
 * and output swapped (its forward is this conv's backward-data). */
typedef struct ConvGeom {
    int C, H, W;          /* input channels (of one group) and plane */
    int kh, kw;           /* kernel */
    int sh, sw, ph, pw, dh, dw; /* stride, zero padding, dilation */
    int OH, OW;           /* output plane */
} ConvGeom;

/* Output size of a conv along one axis; may be <= 0 when the kernel does not fit. */
int conv_out_size(int in, int k, int s, int p, int d);

/* True when the unfolded matrix is the input itself: 1x1 kernel, stride 1, no padding. */
int conv_geom_is_pointwise(const ConvGeom *g);

/* col[(c1-c0)*kh*kw, (oh1-oh0)*OW] = the receptive fields of output rows [oh0, oh1) over input
 * channels [c0, c1) of x [C, H, W]; row (c, i, j) of col holds x[c, oh*sh-ph+i*dh, ow*sw-pw+j*dw]
 * (0 outside the plane) for each output pixel (oh, ow). */
void im2col(const real_t *x, const ConvGeom *g, int c0, int c1, int oh0, int oh1, real_t *col);

/* The adjoint of im2col: x[c, ...] += col for channels [c0, c1) and output rows [oh0, oh1);
 * col is [(c1-c0)*kh*kw, (oh1-oh0)*OW]. Touches only channels [c0, c1) of x, so callers may split
 * channels across threads without overlapping writes (row blocks of one channel overlap). */
void col2im_add(const real_t *col, const ConvGeom *g, int c0, int c1, int oh0, int oh1, real_t *x);
