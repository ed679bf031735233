/* carn.h: CARN and CARN-M super-resolution networks (Ahn et al., ECCV'18), as nmhkahn/CARN-pytorch. */
#pragma once
#include <stdbool.h>

#include "nn/io/checkpoint.h"
#include "nn/models/layers.h"
#include "nn/params.h"

/* Architecture (64 channels throughout, names = the PyTorch state_dict's):
 *   sub_mean.shifter      frozen 1x1 conv: x - DIV2K mean (0.4488, 0.4371, 0.4040)
 *   entry                 3x3 conv 3 -> 64
 *   b1, b2, b3            cascading blocks; each holds residual units and 1x1 "c1,c2,c3" fusions:
 *                           o1 = c1(cat[x, r(x)]), o2 = c2(cat[x, r(x), r(o1)]),
 *                           o3 = c3(cat[x, r(x), r(o1), r(o2)])      (c_i = 1x1 conv + ReLU)
 *                         CARN:   r = three distinct residual blocks bK.b1, bK.b2, bK.b3
 *                                 (relu(conv3x3(relu(conv3x3(x))) + x))
 *                         CARN-M: r = ONE efficient residual block bK.b1 applied three times
 *                                 (relu(conv1x1(relu(gconv3x3(relu(gconv3x3(x))))) + x), groups 4)
 *   c1, c2, c3            the same cascading around the three blocks (global level)
 *   upsample.upS.body     per scale S: for each x2 stage a (groups) 3x3 conv 64 -> 256, ReLU,
 *                         pixel shuffle 2; x3: 64 -> 576, ReLU, pixel shuffle 3. Sequential
 *                         indices step by 3 (conv, relu, shuffle): x4 = body.0 + body.3.
 *   exit                  3x3 conv 64 -> 3
 *   add_mean.shifter      frozen 1x1 conv: + DIV2K mean
 *
 * Heads: the published multi-scale models carry up2, up3, up4. The paper also uses x6 and x8;
 * rune adds them as new heads named in the same style: upsample.up8.body.{0,3,6} (three x2
 * stages) and upsample.up6.body.{0,3} (x2 stage, then x3 stage). A single-scale model (upstream's
 * multi_scale=False) has one head named upsample.up.body.*. */

typedef enum { CARN_FULL, CARN_M } CarnKind;

#define CARN_MAX_HEADS 5
#define CARN_MAX_STAGES 3

/* Every conv is stride 1, "same" padding, with bias (layers.h's Conv). A cascading block's
 * parameters: residual units r[0..2] (CARN-M uses r[0] three times), each with up to three convs;
 * the 1x1 fusions c[0..2]. */
typedef struct CarnBlock {
    Conv r[3][3];
    Conv c[3];
} CarnBlock;

typedef struct CarnHead {
    int scale;                        /* 2, 3, 4, 6 or 8 */
    int nstages;
    int factor[CARN_MAX_STAGES];      /* pixel-shuffle factor per stage */
    Conv conv[CARN_MAX_STAGES];
} CarnHead;

typedef struct Carn {
    CarnKind kind;
    int group;          /* groups of the 3x3 convs in residual units and heads: 1 CARN, 4 CARN-M */
    bool multi_scale;   /* heads named upS (true) or up (false) */
    int nheads;
    CarnHead head[CARN_MAX_HEADS];
    Conv sub_mean, add_mean, entry, exit;
    CarnBlock blk[3];
    Conv c[3];
    ParamSet ps;
} Carn;

/* scale 0: multi-scale model with the published heads x2, x3, x4. scale 2/3/4/6/8: single-scale
 * model (head "upsample.up"). Weights are initialised (PyTorch's default conv init, seed fixed);
 * the mean shifters hold the DIV2K mean and are frozen. */
Carn *carn_new(CarnKind kind, int scale);
/* Multi-scale model with the given heads (any of 2, 3, 4, 6, 8, each at most once). */
Carn *carn_new_heads(CarnKind kind, const int *scales, int n);
void carn_free(Carn *m);

bool carn_has_scale(const Carn *m, int scale);
const char *carn_kind_name(CarnKind kind); /* "carn" / "carn_m" (the checkpoint's model attribute) */

/* lr [N,3,h,w] in [0,1] -> SR [N,3,h*s,w*s]. Not clamped (losses see raw outputs). Dies when the
 * model has no head for `scale` (check carn_has_scale first). */
Tensor *carn_forward(Carn *m, Tensor *lr, int scale);

/* Trainable switch that keeps the mean shifters frozen (params_set_trainable would not). */
void carn_set_trainable(Carn *m, bool on);
/* Re-initialise every trainable parameter from `seed` (PyTorch's default kaiming-uniform a=sqrt(5)). */
void carn_init_weights(Carn *m, unsigned long long seed);

/* Root attributes for a checkpoint of this model: model, group, multi_scale, heads ("2,3,4"). */
void carn_attrs(const Carn *m, CkptAttrs *at);
/* Builds the model a checkpoint describes (attributes model/heads; a checkpoint without "heads"
 * is taken as the published multi-scale x2/x3/x4 layout) and loads it. -1 with a message naming
 * the file for a checkpoint of another model kind or with mismatching parameters. */
int carn_load(const char *path, Carn **out, CkptAttrs *at);
int carn_save(const char *path, const Carn *m, CkptAttrs *extra);
/* Copies every parameter of src whose name and shape exist in dst (e.g. the published body into
 * a model with x6/x8 heads); returns how many were copied. */
int carn_copy_matching(Carn *dst, const Carn *src);

/* Receptive-field radius in LR pixels (how far an output pixel sees), for tiling. */
int carn_receptive_radius(const Carn *m, int scale);

/* Tiled inference without seams: the image [3,h,w] (planar, [0,1]) is cut into tile x tile LR
 * tiles, each run with at least `pad` LR pixels of real context around it (pad >= the receptive
 * radius makes the result equal to untiled inference up to float summation order). Every tile's
 * input window has the same size, min(tile + 2 pad, image side), shifted inward at the borders,
 * and the arena is rewound after each tile, so memory depends on the tile, not the image. emit receives each
 * tile's valid SR region [3, th*s, tw*s] (row stride tw*s) and its HR origin. Grad mode is off
 * inside and restored after. pad < 0 picks the receptive radius + 2. */
typedef void (*CarnTileFn)(void *ctx, const real_t *sr, int th_hr, int tw_hr, int y0_hr, int x0_hr);
void carn_upscale_tiled(Carn *m, const real_t *lr, int h, int w, int scale, int tile, int pad,
                        CarnTileFn emit, void *ctx);
/* Convenience: tiled inference into out [3, h*s, w*s]. */
void carn_upscale_tiled_buf(Carn *m, const real_t *lr, int h, int w, int scale, int tile, int pad,
                            real_t *out);
