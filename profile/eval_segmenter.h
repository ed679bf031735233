/* eval_segmenter.h: `rune eval-seg`'s engine — one frozen segmenter over every labelled frame of a split: per-class IoU, mIoU, the tail-class mean, pixel accuracy. */
#pragma once
#include <stdbool.h>

typedef struct EvalSegmenterOpts {
    const char *model, *arch, *norm; /* segmenter weights; arch, norm NULL = from the file / the model's */
    int classes;                     /* classes predicted; 0 = the model's (ESPNet's void channel dropped) */
    const char *kind, *data, *split; /* the dataset (data/dataset.h: dataset_open) */
    int limit;                       /* the first N frames only; 0 = all */
    bool void_class;                 /* ESPNet's protocol: the argmax runs over every output and void-labelled
                                        pixels are scored as that class; the mean stays over the real classes */
    const char *csv;                 /* also class,iou,tail rows and the summary here; NULL = none */
} EvalSegmenterOpts;

/* Scores the model over the split at full resolution into one confusion matrix (label 255 = ignore)
 * and prints the per-class table and the means to stdout (progress to stderr). 0, or -1 with
 * rn_errmsg() (a bad file, a model whose classes are not the dataset's). */
int eval_segmenter_run(const EvalSegmenterOpts *o);
