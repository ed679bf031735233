/* admit.c: whether the cloud takes a FRAME at all — checks that cost a header read, made before any copy or decode. */
#include "serve/admit.h"

#include <stdio.h>

#include "data/degrade.h"
#include "data/image.h"
#include "util/err.h"

static const char *const NAMES[ADMIT_KINDS] = {"too_large", "bad_header", "size_mismatch"};

const char *admit_name(int refusal) { return refusal >= 0 && refusal < ADMIT_KINDS ? NAMES[refusal] : "unknown"; }

int frame_admit(const WireFrame *f, long max_pixels, char *why, size_t cap) {
    if ((long long)f->hr_w * f->hr_h > max_pixels) {
        snprintf(why, cap, "declares %dx%d, over --max-pixels %ld", f->hr_w, f->hr_h, max_pixels);
        return ADMIT_TOO_LARGE;
    }
    int w = 0, h = 0;
    int rc = f->cfg.quality == 0 ? png_header(f->payload, f->payload_len, &w, &h) : jpeg_header(f->payload, f->payload_len, &w, &h);
    if (rc < 0) {
        snprintf(why, cap, "%s", rn_errmsg());
        return ADMIT_BAD_HEADER;
    }
    int lw = degrade_lr_size(f->hr_w, f->cfg.scale), lh = degrade_lr_size(f->hr_h, f->cfg.scale);
    if (w != lw || h != lh) {
        snprintf(why, cap, "payload is %dx%d, a %dx%d frame at x%d is %dx%d", w, h, f->hr_w, f->hr_h, f->cfg.scale, lw, lh);
        return ADMIT_SIZE_MISMATCH;
    }
    return -1;
}
