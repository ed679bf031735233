/* ds_load.c: decoding a sample's pixels — frame, label map (remapped, size-checked) and SR LR image; the label check before training. */
#include <stdio.h>
#include <string.h>

#include "data/dataset.h"
#include "data/resize.h"
#include "util/err.h"

static const Sample *sample_at(const Dataset *ds, int i) {
    RN_CHECK(i >= 0 && i < ds->n, "sample %d of %d in %s", i, ds->n, ds->name);
    return &ds->samples[i];
}

int dataset_load_frame(const Dataset *ds, int i, Image *out) {
    const Sample *s = sample_at(ds, i);
    if (!s->frame) return rn_fail("%s: sample %d has no image (annotations only)", ds->name, i);
    return image_read(s->frame, out, 3);
}

/* Size of the sample's frame: from the decoded frame when the caller has it, else its header. */
static int frame_size(const Sample *s, const Image *frame, int *w, int *h) {
    if (frame) {
        *w = frame->w;
        *h = frame->h;
        return 0;
    }
    return image_probe(s->frame, w, h);
}

int dataset_load_label(const Dataset *ds, int i, const Image *frame, Image *out) {
    const Sample *s = sample_at(ds, i);
    if (!s->label) return rn_fail("%s: sample %d (%s) has no label map", ds->name, i, s->frame);
    int fw, fh;
    TRY(frame_size(s, frame, &fw, &fh));
    Image lab;
    TRY(png_read(s->label, &lab, 0)); /* keep the file's channels: a colour label map is an error, not gray */
    if (lab.c != 1) {
        image_free(&lab);
        return rn_fail("%s: label map has %d channels, want one 8-bit channel of class ids", s->label, lab.c);
    }
    if (lab.w != fw || lab.h != fh) {
        rn_fail("label %s is %dx%d but frame %s is %dx%d", s->label, lab.w, lab.h, s->frame, fw, fh);
        image_free(&lab);
        return -1;
    }
    size_t n = (size_t)lab.w * lab.h;
    for (size_t k = 0; k < n; k++) lab.px[k] = ds->label_lut[lab.px[k]];
    *out = lab;
    return 0;
}

int dataset_load_lr(const Dataset *ds, int i, const Image *hr, Image *out) {
    const Sample *s = sample_at(ds, i);
    if (!s->lr) return rn_fail("%s: sample %d (%s) has no LR image", ds->name, i, s->frame);
    int hw, hh;
    TRY(frame_size(s, hr, &hw, &hh));
    Image lr;
    TRY(image_read(s->lr, &lr, 3));
    if (lr.w * ds->scale != hw || lr.h * ds->scale != hh) {
        rn_fail("LR %s is %dx%d but HR %s is %dx%d, not x%d", s->lr, lr.w, lr.h, s->frame, hw, hh, ds->scale);
        image_free(&lr);
        return -1;
    }
    *out = lr;
    return 0;
}

/* Boxes of s that are objects (not ignored, with a class and an area), normalised by the frame size. */
static Box *normalised_boxes(const Sample *s, int w, int h, int *n) {
    Box *out = s->nboxes ? xmalloc((size_t)s->nboxes * sizeof *out) : NULL;
    *n = 0;
    for (int k = 0; k < s->nboxes; k++) {
        const Box *b = &s->boxes[k];
        if (b->ignore || b->cls < 0 || !(b->x1 > b->x0 && b->y1 > b->y0)) continue;
        out[(*n)++] = (Box){b->cls, b->x0 / w, b->y0 / h, b->x1 / w, b->y1 / h, false};
    }
    return out;
}

int dataset_load_square(const Dataset *ds, int i, int size, Image *out, Box **boxes, int *nboxes) {
    Image im;
    TRY(dataset_load_frame(ds, i, &im));
    *out = resize_bicubic(&im, size, size);
    if (boxes) *boxes = normalised_boxes(sample_at(ds, i), im.w, im.h, nboxes);
    image_free(&im);
    return 0;
}

/* Sample i's label against its frame, by headers: 0, or -1 with rn_errmsg(). */
static int check_label(const Dataset *ds, int i) {
    const Sample *s = &ds->samples[i];
    if (!s->label) return rn_fail("%s has no label map", s->frame);
    int fw, fh, lw, lh;
    TRY(image_probe(s->frame, &fw, &fh));
    if (image_probe(s->label, &lw, &lh) < 0) return rn_fail("label map of %s: %s", s->frame, rn_errmsg());
    if (lw != fw || lh != fh) return rn_fail("label %s is %dx%d but frame %s is %dx%d", s->label, lw, lh, s->frame, fw, fh);
    return 0;
}

int dataset_check_labels(const Dataset *ds) {
    if (ds->n == 0) return rn_fail("%s: no frames", ds->name);
    int labelled = 0;
    for (int i = 0; i < ds->n; i++) labelled += ds->samples[i].label != NULL;
    if (!labelled)
        return rn_fail("%s: no label maps (%d frames); a labelled split is needed (a CamVid root: SPLIT.txt of "
                       "image/label pairs)", ds->name, ds->n);
    int bad = 0;
    char msg[1024] = "";
    for (int i = 0; i < ds->n; i++)
        if (check_label(ds, i) < 0 && bad++ == 0) snprintf(msg, sizeof msg, "%s", rn_errmsg());
    if (!bad) return 0;
    return rn_fail("%s: %d of %d label maps are missing, unreadable or not their frame's size; the first: %s", ds->name, bad,
                   ds->n, msg);
}
