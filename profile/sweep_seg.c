/* sweep_seg.c: the sweep's segmentation task — label maps as ground truth, per-frame mIoU, the small-region ratio of the whole frame's prediction. */
#include <stdlib.h>

#include "profile/sweep.h"
#include "profile/tail.h"
#include "util/err.h"
#include "util/progress.h"

typedef struct SegCtx {
    EvalTask task;
    int nclasses; /* the dataset's, set at the first load (means over these ids) */
} SegCtx;

static int seg_check(void *ctx, const Dataset *ds, int i, int *w, int *h) {
    (void)ctx;
    const Sample *sm = &ds->samples[i];
    if (!sm->label) return rn_fail("%s: %s has no label map (the profile scores every frame)", ds->name, sm->frame);
    return image_probe(sm->frame, w, h);
}

static int seg_load(void *ctx, const Dataset *ds, int i, Image *hr, void **gt) {
    SegCtx *c = ctx;
    c->nclasses = ds->nclasses;
    TRY(dataset_load_frame(ds, i, hr));
    Image *label = xmalloc(sizeof *label);
    if (dataset_load_label(ds, i, hr, label) < 0) {
        image_free(hr), free(label);
        return -1;
    }
    *gt = label;
    return 0;
}

static void seg_score(void *ctx, const Frame *in, const void *gt, double small, double *acc, double *signal, double *t_task,
                      double *t_signal) {
    SegCtx *c = ctx;
    const Image *lab = gt;
    size_t n = (size_t)in->w * in->h;
    RN_CHECK(lab->w == in->w && lab->h == in->h, "label %dx%d vs frame %dx%d", lab->w, lab->h, in->w, in->h);
    uint8_t *pred = xmalloc(n);
    double t0 = now_seconds();
    c->task.predict(c->task.ctx, in, pred);
    double t1 = now_seconds();
    Confusion cm;
    confusion_init(&cm, c->task.k > c->nclasses ? c->task.k : c->nclasses);
    confusion_add(&cm, pred, lab->px, n, DS_IGNORE);
    int cls[256];
    for (int i = 0; i < c->nclasses; i++) cls[i] = i;
    *acc = mean_iou_over(&cm, cls, c->nclasses);
    confusion_free(&cm);
    double t2 = now_seconds();
    /* the prediction has no ignore label: the ratio is over the whole frame, as the cloud sees it */
    *signal = small_region_ratio(pred, in->w, in->h, small, DS_IGNORE);
    *t_signal = now_seconds() - t2, *t_task = t1 - t0;
    free(pred);
}

static void seg_gt_free(void *gt) {
    if (gt) image_free(gt);
    free(gt);
}

static void seg_close(void *ctx) {
    SegCtx *c = ctx;
    eval_task_close(&c->task);
    free(c);
}

int sweep_task_seg(SweepTask *t, const char *path, const char *arch, const char *norm) {
    SegCtx *c = xcalloc(1, sizeof *c);
    if (eval_task_open(&c->task, path, arch, norm, false) < 0) return free(c), -1;
    *t = (SweepTask){"segmentation", c->task.k, c, seg_check, seg_load, seg_score, seg_gt_free, seg_close};
    return 0;
}

void sweep_task_close(SweepTask *t) {
    if (t->close) t->close(t->ctx);
    t->close = NULL, t->ctx = NULL;
}
