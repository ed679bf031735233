/* loader.h: training batches from a Dataset — random crops, flips, whole resized frames with their boxes, whole-frame label masks, NCHW float batches, a prefetch thread. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

typedef enum {
    LOADER_SR,  /* LR patch (P/scale) + the HR patch (P) it came from */
    LOADER_SEG, /* frame crop + the same crop of the label map */
    LOADER_DET, /* the whole frame resized to P x P with its boxes (dataset_load_square) + its LR */
} LoaderTask;

/* Makes the LR image of an HR frame for datasets without LR files (bicubic downscale, JPEG, ...).
 * HR sides are multiples of scale when called. Must be deterministic: its output is cached. */
typedef int (*DegradeFn)(const Image *hr, int scale, Image *lr, void *ctx);

/* Makes a per-pixel map (mask[w*h], w x h of the label) from a WHOLE label map, before any crop or
 * flip: a property of a pixel that depends on the whole frame (ASR's detail mask: regions small
 * relative to the frame) must not be recomputed on a crop. Deterministic: its output is cached
 * with the frame. 0, or -1 with rn_errmsg(). */
typedef int (*LabelMaskFn)(const Image *label, uint8_t *mask, void *ctx);

typedef struct LoaderCfg {
    LoaderTask task;
    int batch;          /* N */
    int patch;          /* SR: HR patch side P (a multiple of scale). SEG: square crop side; 0 = whole
                           frames (they must then all have one size). DET: the side P every frame is
                           resized to (a multiple of scale) */
    int scale;          /* SR and DET */
    bool hflip, vflip;  /* each applied with probability 1/2, identically to input and target (and
                           boxes); DET mirrors left-right only */
    bool rot90;         /* transpose with probability 1/2 (square patches only): with both flips, the 8
                           symmetries of the square that EDSR/CARN training uses */
    uint64_t seed;
    bool prefetch;      /* decode batch b+1 on a thread while the caller trains on batch b */
    size_t cache_bytes; /* decoded frames stay in memory when the dataset needs at most this many
                           bytes (0 = 2 GiB default; 1 = never cache) */
    DegradeFn degrade;  /* SR datasets without LR files, and DET (called on each mirrored item: JPEG is
                           not mirror-symmetric); NULL otherwise */
    void *degrade_ctx;
    LabelMaskFn label_mask; /* SEG: a map of each whole label map, cut and flipped exactly as the
                               label (loader_masks); NULL = none */
    void *label_mask_ctx;
    int shard_first;    /* data-parallel ranks: this process fills only items [shard_first,
                           shard_first + shard_items) of each batch of `batch` items, exactly as a
                           whole-batch loader draws them (same frames, crops and flips); */
    int shard_items;    /* 0 = the whole batch. Buffers then hold shard_items items. */
} LoaderCfg;

typedef struct Loader Loader;

/* Validates the configuration against the dataset (labels present for SEG, LR files or a degrade
 * function for SR, a degrade function for DET); NULL with rn_errmsg() otherwise. DS must outlive
 * the loader. */
Loader *loader_open(const Dataset *ds, const LoaderCfg *cfg);
void loader_close(Loader *L);

/* Sizes of one batch item: input IN_H x IN_W (3 planes), target/label OUT_H x OUT_W. For SEG the
 * two are equal; with patch 0 they come from the first frame. */
void loader_dims(const Loader *L, int *in_h, int *in_w, int *out_h, int *out_w);

/* Fills the next batch (its shard: LoaderCfg.shard_items items, N below) into caller buffers,
 * planar NCHW floats in [0, 1]:
 *   SR:  in = LR [N,3,P/s,P/s], target = HR [N,3,P,P], label unused (may be NULL)
 *   SEG: in = frames [N,3,H,W], target unused (may be NULL), label = train ids [N,H,W]
 *   DET: in = LR [N,3,P/s,P/s], target = HR [N,3,P,P], label unused; boxes from loader_boxes
 * SR and SEG pixels are v * (1/255), DET pixels v / 255 (data/image.h: PIXEL_MUL, PIXEL_DIV: each
 * as its training runs have always seen them).
 * Batch b holds items b*N .. b*N+N-1 of an endless stream: epoch e is a permutation of the dataset
 * seeded by (seed, e); crops and flips of batch b come from an RNG seeded by (seed, b) alone, so
 * the batches are the same whatever the thread timing, with or without prefetch. DET draws its
 * permutations and mirrors from other seeds of the same kind: the stream `finetune-asr --task-kind
 * det` has drawn since before the loader had this mode, so that its runs resume exactly.
 * Returns 0, or -1 with rn_errmsg() naming the file that failed to decode. */
int loader_next(Loader *L, float *in, float *target, uint8_t *label);

/* DET: the boxes of item `item` of the batch loader_next returned last (normalised to [0,1],
 * mirrored with their frame); *n gets their count. Valid until the next loader_next. */
const Box *loader_boxes(const Loader *L, int item, int *n);

/* SEG with a label_mask: the maps of the batch loader_next returned last, [N,H,W] like its labels,
 * each made from its whole frame's label and then cut and flipped with it. Valid until the next
 * loader_next. */
const uint8_t *loader_masks(const Loader *L);

/* The index of the batch loader_next returns next; loader_seek sets it (resuming a run). */
int64_t loader_position(const Loader *L);
void loader_seek(Loader *L, int64_t batch);

/* Frames kept decoded in memory (for reports and tests). */
int loader_cached(const Loader *L);
