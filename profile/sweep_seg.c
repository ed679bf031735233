/* sweep_seg.c: the sweep's segmentation task — label maps as ground truth, per-frame mIoU, per-class counts, the signals of the whole frame's prediction. */
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

/* Per-frame mIoU over the dataset classes, and per class the pixels predicted and labelled c (tp)
 * and labelled c (lab; void-labelled pixels are in neither), from the frame's confusion matrix. */
static double seg_accuracy(const SegCtx *c, const uint8_t *pred, const Image *lab, int k, long long *tp, long long *labn) {
    Confusion cm;
    confusion_init(&cm, c->task.k > c->nclasses ? c->task.k : c->nclasses);
    confusion_add(&cm, pred, lab->px, (size_t)lab->w * lab->h, DS_IGNORE);
    int cls[256];
    for (int i = 0; i < c->nclasses; i++) cls[i] = i;
    double acc = mean_iou_over(&cm, cls, c->nclasses);
    for (int i = 0; i < k; i++) {
        tp[i] = cm.m[(size_t)i * cm.k + i], labn[i] = 0;
        for (int j = 0; j < cm.k; j++) labn[i] += cm.m[(size_t)i * cm.k + j];
    }
    confusion_free(&cm);
    return acc;
}

static void seg_score(void *ctx, const Frame *in, const void *gt, int scale, double small, SweepScore *out) {
    SegCtx *c = ctx;
    const Image *lab = gt;
    RN_CHECK(lab->w == in->w && lab->h == in->h, "label %dx%d vs frame %dx%d", lab->w, lab->h, in->w, in->h);
    uint8_t *pred = xmalloc((size_t)in->w * in->h);
    SoftStats soft;
    double t0 = now_seconds();
    c->task.predict_soft(c->task.ctx, in, pred, &soft);
    out->t_task = now_seconds() - t0;
    out->acc = seg_accuracy(c, pred, lab, c->task.k, out->tp, out->lab);
    signals_compute(pred, in->w, in->h, scale, small, &soft, c->task.k, NULL, &out->sig);
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
    if (c->task.k > SIG_MAX_CLASSES) {
        int k = c->task.k;
        eval_task_close(&c->task), free(c);
        return rn_fail("%s: %d classes, the profile counts at most %d per frame", path, k, SIG_MAX_CLASSES);
    }
    *t = (SweepTask){.kind = "segmentation", .classes = c->task.k, .per_class = c->task.k, .ctx = c, .check = seg_check,
                     .load = seg_load, .score = seg_score, .gt_free = seg_gt_free, .close = seg_close};
    return 0;
}

void sweep_task_close(SweepTask *t) {
    if (t->close) t->close(t->ctx);
    t->close = NULL, t->ctx = NULL;
}
