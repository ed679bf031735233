/* eval_seg.c: the per-frame loop of `rune eval` — degrade, upscale per method, segment, accumulate. */
#include "profile/eval_seg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/degrade.h"
#include "data/resize.h"
#include "nn/models/segmenter.h"
#include "profile/sr_metrics.h"
#include "profile/tail.h"
#include "util/err.h"
#include "util/progress.h"

/* Frames (float) go straight into engine tensors; profile/ is built in float32 only. */
_Static_assert(sizeof(real_t) == sizeof(float), "profile/ expects the float32 engine");

/* ---------------- the task model ---------------- */

typedef struct TaskCtx {
    Segmenter *seg;
    bool predict_void;
} TaskCtx;

/* The logits of a planar frame, without gradients: [1,outputs,h,w] on s's device. The caller resets
 * the arena (engine_step_reset) once it is done with them and restores the grad mode (*was). */
static Tensor *seg_logits(Segmenter *s, const float *rgb, int w, int h, bool *was) {
    *was = engine_set_grad(false);
    Tensor *x = tensor_new(1, 3, h, w);
    memcpy(x->data, rgb, (size_t)3 * w * h * sizeof *x->data);
    return segmenter_forward(s, tensor_on(x, s->ps->device), false);
}

void seg_predict_planar(Segmenter *s, const float *rgb, int w, int h, bool all_outputs, uint8_t *pred) {
    bool was;
    Tensor *y = seg_logits(s, rgb, w, h, &was);
    if (all_outputs) argmax_channels(tensor_host(y)->data, s->outputs, (size_t)w * h, pred);
    else segmenter_predict(s, y, 0, pred);
    engine_step_reset(); /* the activations die here; nothing else lives in the arena meanwhile */
    engine_set_grad(was);
}

/* exp(z) for z <= 0, written so the pixel loop vectorises (glibc's expf is one call per element
 * without -ffast-math): z = n ln2 + r, |r| <= ln2/2, e^r by Cephes' expf polynomial, 2^n through
 * the exponent bits. Relative error at most 1.43 ulp (8.5e-8; glibc's expf: 1 ulp), measured over
 * every float in [-87, 0]. z below -87 is taken as -87 (e^-87 = 1.6e-38, still
 * a normal float): such a term is nothing beside the max's 1. */
static inline float exp_neg(float z) {
    /* the clamp on the bits: a float compare keeps GCC from vectorising (it may trap) and for
     * z <= 0 a larger magnitude is a larger unsigned pattern (0xC2AE0000 = -87.0f) */
    uint32_t u;
    memcpy(&u, &z, sizeof u);
    u = u > 0xC2AE0000u ? 0xC2AE0000u : u;
    memcpy(&z, &u, sizeof z);
    const float round = 12582912.0f; /* 1.5 * 2^23: adding and subtracting it rounds to an integer */
    float n = (z * 1.44269504088896341f + round) - round;
    float r = z - n * 0.693359375f + n * 2.12194440e-4f; /* ln 2 in two parts: r is exact to float */
    float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
               1.6666665459e-1f) * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    return p * two_n;
}

/* One row of n pixels (logits l, channel stride hw): argmax into pred and the row's sums of the
 * max probability and the entropy. m/se/d/best: scratch of n each. Channels outer, pixels inner
 * and no branches, so the loads are contiguous and the loops vectorise. */
static void softmax_row(const float *restrict l, int k, size_t hw, int n, uint8_t *restrict pred, float *restrict m,
                        float *restrict se, float *restrict d, int32_t *restrict best, double *sp, double *sh) {
    for (int i = 0; i < n; i++) m[i] = l[i], best[i] = 0, se[i] = 0, d[i] = 0;
    for (int c = 1; c < k; c++) { /* strict >: ties keep the lowest index, as segmenter_predict */
        const float *lc = l + (size_t)c * hw;
        for (int i = 0; i < n; i++) {
            bool gt = lc[i] > m[i];
            m[i] = gt ? lc[i] : m[i], best[i] = gt ? c : best[i];
        }
    }
    for (int c = 0; c < k; c++) {
        const float *lc = l + (size_t)c * hw;
        for (int i = 0; i < n; i++) {
            float z = lc[i] - m[i], e = exp_neg(z); /* z <= 0: no overflow */
            se[i] += e, d[i] += z * e;
        }
    }
    /* p_c = e_c / S: max p = 1 / S; H = -sum p_c log p_c = log S - sum z_c e_c / S (both terms >= 0) */
    double a = 0, b = 0;
    for (int i = 0; i < n; i++) pred[i] = (uint8_t)best[i], a += 1.0f / se[i], b += logf(se[i]) - d[i] / se[i];
    *sp = a, *sh = b;
}

void softmax_stats(const float *logits, int k, int w, int h, uint8_t *pred, SoftStats *st) {
    size_t hw = (size_t)w * h;
    double *rp = xmalloc((size_t)(h ? h : 1) * sizeof *rp), *rh = xmalloc((size_t)(h ? h : 1) * sizeof *rh);
#pragma omp parallel if (hw > 16384)
    {
        float *scratch = xmalloc((size_t)3 * (w ? w : 1) * sizeof *scratch);
        int32_t *best = xmalloc((size_t)(w ? w : 1) * sizeof *best);
#pragma omp for schedule(static)
        for (int y = 0; y < h; y++)
            softmax_row(logits + (size_t)y * w, k, hw, w, pred + (size_t)y * w, scratch, scratch + w, scratch + 2 * w, best,
                        &rp[y], &rh[y]);
        free(scratch), free(best);
    }
    double a = 0, b = 0;
    for (int y = 0; y < h; y++) a += rp[y], b += rh[y]; /* serial, in row order: deterministic */
    st->maxprob = hw ? a / (double)hw : NAN, st->entropy = hw ? b / (double)hw : NAN;
    free(rp), free(rh);
}

void seg_predict_planar_soft(Segmenter *s, const float *rgb, int w, int h, bool all_outputs, uint8_t *pred, SoftStats *st) {
    bool was;
    Tensor *y = seg_logits(s, rgb, w, h, &was);
    softmax_stats(tensor_host(y)->data, all_outputs ? s->outputs : s->classes, w, h, pred, st);
    engine_step_reset();
    engine_set_grad(was);
}

static void seg_predict(void *ctx, const Frame *rgb, uint8_t *pred) {
    TaskCtx *t = ctx;
    seg_predict_planar(t->seg, rgb->px, rgb->w, rgb->h, t->predict_void, pred);
}

static void seg_predict_soft(void *ctx, const Frame *rgb, uint8_t *pred, SoftStats *st) {
    TaskCtx *t = ctx;
    seg_predict_planar_soft(t->seg, rgb->px, rgb->w, rgb->h, t->predict_void, pred, st);
}

static void seg_to_device(void *ctx, Device d) {
    TaskCtx *t = ctx;
    params_to_device(t->seg->ps, d);
}

static void seg_close(void *ctx) {
    TaskCtx *t = ctx;
    segmenter_close(t->seg);
    free(t);
}

int eval_task_open(EvalTask *t, const char *path, const char *arch, const char *norm, bool predict_void) {
    memset(t, 0, sizeof *t);
    Segmenter *seg = segmenter_open(path, arch, 0, norm);
    if (!seg) return -1;
    TaskCtx *c = xmalloc(sizeof *c);
    *c = (TaskCtx){seg, predict_void};
    *t = (EvalTask){.k = predict_void ? seg->outputs : seg->classes, .ctx = c, .predict = seg_predict,
                    .predict_soft = seg_predict_soft, .close = seg_close, .to_device = seg_to_device};
    return 0;
}

void eval_task_close(EvalTask *t) {
    if (t->close) t->close(t->ctx);
    memset(t, 0, sizeof *t);
}

/* ---------------- upscaling per method ---------------- */

Frame eval_upscale(const EvalMethod *m, const Image *lr, int tile) {
    Frame f = frame_from_image(lr);
    if (m->kind == EVAL_BILINEAR) {
        Frame up = resize_bilinear(&f, lr->w * m->scale, lr->h * m->scale);
        frame_free(&f);
        return up;
    }
    RN_CHECK(m->kind == EVAL_CARN && m->carn && f.c == 3, "method %s cannot upscale", m->name);
    Frame up = frame_alloc(lr->w * m->scale, lr->h * m->scale, 3);
    int t = tile > 0 ? tile : (lr->w > lr->h ? lr->w : lr->h);
    carn_upscale_tiled_buf(m->carn, f.px, lr->h, lr->w, m->scale, t, -1, up.px);
    /* the cloud hands the task model a valid image: SR overshoots are clamped */
    for (size_t i = 0; i < (size_t)3 * up.w * up.h; i++) up.px[i] = up.px[i] < 0 ? 0 : up.px[i] > 1 ? 1 : up.px[i];
    frame_free(&f);
    return up;
}

/* ---------------- the loop ---------------- */

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void result_alloc(EvalResult *r, const Dataset *ds, const EvalTask *task, const EvalMethod *methods, int nm,
                         int nf, int quality) {
    memset(r, 0, sizeof *r);
    r->nclasses = ds->nclasses;
    r->k = task->k > ds->nclasses ? task->k : ds->nclasses;
    r->class_names = xcalloc((size_t)r->nclasses, sizeof *r->class_names);
    for (int c = 0; c < r->nclasses; c++) r->class_names[c] = xstrdup(ds->class_names[c]);
    r->nmethods = nm;
    r->methods = xmalloc((size_t)nm * sizeof *r->methods);
    memcpy(r->methods, methods, (size_t)nm * sizeof *methods);
    r->nframes = nf;
    r->frame_names = xcalloc((size_t)nf, sizeof(char *));
    r->seq = xcalloc((size_t)nf, sizeof(char *));
    r->quality = quality;
    r->total = xmalloc((size_t)nm * sizeof *r->total);
    for (int m = 0; m < nm; m++) confusion_init(&r->total[m], r->k);
    r->frame_conf = xcalloc((size_t)nm * nf * r->k * r->k, sizeof *r->frame_conf);
    r->psnr = xmalloc((size_t)nm * nf * sizeof *r->psnr);
    r->ssim = xmalloc((size_t)nm * nf * sizeof *r->ssim);
    r->bytes = xmalloc((size_t)nm * nf * sizeof *r->bytes);
    r->region_count = xcalloc((size_t)r->nclasses, sizeof *r->region_count);
    r->region_area = xcalloc((size_t)r->nclasses, sizeof *r->region_area);
}

/* Segments `in`, scores it against `label` (same size) into method m's confusions for frame f. */
static void score(EvalResult *r, const EvalTask *task, int m, int f, const Frame *in, const Image *label) {
    size_t n = (size_t)in->w * in->h;
    RN_CHECK(label->w == in->w && label->h == in->h, "label %dx%d vs frame %dx%d", label->w, label->h, in->w, in->h);
    uint8_t *pred = xmalloc(n);
    task->predict(task->ctx, in, pred);
    Confusion c = eval_frame_confusion(r, m, f);
    confusion_add(&c, pred, label->px, n, DS_IGNORE);
    confusion_merge(&r->total[m], &c);
    free(pred);
}

/* All methods at one scale on one frame: one degraded frame, each method's reconstruction. */
static int run_scale(EvalResult *r, const EvalTask *task, const EvalOpts *o, int f, int scale, const Image *hr,
                     const Image *label) {
    Degraded d;
    TRY(degrade(hr, scale, o->quality, &d));
    Image crop = scale == 1 ? image_crop(hr, 0, 0, hr->w, hr->h) : degrade_crop(hr, scale);
    Image lab = image_crop(label, 0, 0, crop.w, crop.h);
    for (int m = 0; m < r->nmethods; m++) {
        const EvalMethod *me = &r->methods[m];
        if (me->scale != scale) continue;
        size_t at = (size_t)m * r->nframes + f;
        r->bytes[at] = (double)d.nbytes;
        if (me->kind == EVAL_HR) {
            /* the reference sees the original pixels; its bytes are what sending them would cost */
            Frame in = frame_from_image(&crop);
            score(r, task, m, f, &in, &lab);
            r->psnr[at] = r->ssim[at] = NAN;
            frame_free(&in);
            continue;
        }
        Frame up = eval_upscale(me, &d.lr, o->tile);
        score(r, task, m, f, &up, &lab);
        Image up8 = image_from_frame(&up);
        r->psnr[at] = sr_psnr(&up8, &crop, scale);
        r->ssim[at] = sr_ssim(&up8, &crop, scale);
        image_free(&up8);
        frame_free(&up);
    }
    image_free(&lab), image_free(&crop);
    degraded_free(&d);
    return 0;
}

static int run_frame(EvalResult *r, const Dataset *ds, const EvalTask *task, const EvalOpts *o, int f) {
    Image hr, label;
    TRY(dataset_load_frame(ds, f, &hr));
    if (dataset_load_label(ds, f, &hr, &label) < 0) {
        image_free(&hr);
        return -1;
    }
    if (hr.c != 3) {
        Image rgb = image_convert(&hr, 3);
        image_free(&hr);
        hr = rgb;
    }
    region_stats(label.px, label.w, label.h, r->nclasses, DS_IGNORE, r->region_count, r->region_area);
    r->frame_pixels += (double)label.w * label.h / r->nframes;
    int rc = 0;
    for (int m = 0; m < r->nmethods && rc == 0; m++) {
        bool first = true; /* each scale once, at its first method */
        for (int j = 0; j < m; j++) first &= r->methods[j].scale != r->methods[m].scale;
        if (first) rc = run_scale(r, task, o, f, r->methods[m].scale, &hr, &label);
    }
    image_free(&hr), image_free(&label);
    return rc;
}

int eval_seg_run(const Dataset *ds, const EvalTask *task, const EvalMethod *methods, int nm, const EvalOpts *o,
                 EvalResult *out) {
    int nf = o->max_frames > 0 && o->max_frames < ds->n ? o->max_frames : ds->n;
    if (nf < 1) return rn_fail("%s: no samples", ds->name);
    for (int i = 0; i < nf; i++)
        if (!ds->samples[i].label) return rn_fail("%s: %s has no label map", ds->name, ds->samples[i].frame);
    for (int m = 0; m < nm; m++)
        if (methods[m].kind == EVAL_CARN && !carn_has_scale(methods[m].carn, methods[m].scale))
            return rn_fail("%s: no x%d head for method %s", methods[m].file, methods[m].scale, methods[m].name);
    /* every model runs on o->device; frames are cut and scored on the host and cross per call
     * (carn_upscale_tiled, seg_predict_planar). Methods may share a model: moving twice is a no-op. */
    if (o->device != DEV_CPU && !task->to_device) return rn_fail("eval: this task model runs on the host only");
    if (task->to_device) task->to_device(task->ctx, o->device);
    for (int m = 0; m < nm; m++)
        if (methods[m].kind == EVAL_CARN) params_to_device(&methods[m].carn->ps, o->device);
    result_alloc(out, ds, task, methods, nm, nf, o->quality);
    double t0 = now_seconds();
    Progress p;
    if (o->progress) progress_start(&p, "eval", "frames", nf, 0);
    for (int f = 0; f < nf; f++) {
        const Sample *s = &ds->samples[f];
        out->frame_names[f] = xstrdup(base_name(s->frame));
        out->seq[f] = xstrdup(s->seq ? s->seq : "");
        if (run_frame(out, ds, task, o, f) < 0) {
            eval_result_free(out);
            return -1;
        }
        if (o->progress) progress_update(&p, f + 1, out->frame_names[f], false);
    }
    if (o->progress) progress_end(&p, nf, NULL);
    out->seconds = now_seconds() - t0;
    return 0;
}

void eval_result_free(EvalResult *r) {
    for (int c = 0; c < r->nclasses; c++) free(r->class_names[c]);
    for (int f = 0; f < r->nframes; f++) free(r->frame_names[f]), free(r->seq[f]);
    for (int m = 0; m < r->nmethods && r->total; m++) confusion_free(&r->total[m]);
    free(r->class_names), free(r->frame_names), free(r->seq), free(r->methods), free(r->total);
    free(r->frame_conf), free(r->psnr), free(r->ssim), free(r->bytes);
    free(r->region_count), free(r->region_area);
    memset(r, 0, sizeof *r);
}

/* ---------------- derived numbers ---------------- */

double eval_miou(const EvalResult *r, const Confusion *c) {
    int cls[256];
    for (int i = 0; i < r->nclasses; i++) cls[i] = i;
    return mean_iou_over(c, cls, r->nclasses);
}

Confusion eval_frame_confusion(const EvalResult *r, int m, int f) {
    RN_CHECK(m >= 0 && m < r->nmethods && f >= 0 && f < r->nframes, "method %d frame %d", m, f);
    return (Confusion){.k = r->k, .m = r->frame_conf + ((size_t)m * r->nframes + f) * r->k * r->k};
}

int eval_tail_classes(const EvalResult *r, int ref, int *tail) { return tail_classes(&r->total[ref], r->nclasses, tail); }

int eval_find(const EvalResult *r, const char *name, int scale) {
    for (int m = 0; m < r->nmethods; m++)
        if (!strcmp(r->methods[m].name, name) && (r->methods[m].kind == EVAL_HR || r->methods[m].scale == scale))
            return m;
    return -1;
}

int eval_episodes(const EvalResult *r, int m, int len, double *miou) {
    int n = 0;
    Confusion sum;
    confusion_init(&sum, r->k);
    for (int start = 0; start + len <= r->nframes;) {
        int end = start + 1; /* an episode never spans two sequences */
        while (end < start + len && !strcmp(r->seq[end], r->seq[start])) end++;
        if (end < start + len) {
            start = end;
            continue;
        }
        confusion_reset(&sum);
        for (int f = start; f < end; f++) {
            Confusion c = eval_frame_confusion(r, m, f);
            confusion_merge(&sum, &c);
        }
        miou[n++] = eval_miou(r, &sum);
        start = end;
    }
    confusion_free(&sum);
    return n;
}
