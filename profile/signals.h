/* signals.h: what the cloud can read off one segmented frame to guess it is a tail frame — the paper's small-region ratio and the other candidates CAC may use. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* The candidate tail-frame signals (issue 22 items 4-5). Each is a number per (frame, configuration):
 *   ratio       share of the frame in small regions of the full-resolution prediction (the paper's)
 *   ratio_lr    the same on the prediction subsampled by the configuration's scale (nearest: the
 *               pixel at each LR pixel's centre), the paper's "downsampled prediction map"; HR = ratio
 *   small_count number of small regions (4-connected, same class, below `small` of the frame)
 *   maxprob     mean over pixels of the softmax's largest probability (over the predicted classes)
 *   entropy     mean over pixels of the softmax's entropy (nats)
 *   tail_share  share of pixels predicted as one of the profile's tail classes */
typedef enum { SIG_RATIO, SIG_RATIO_LR, SIG_SMALL_COUNT, SIG_MAXPROB, SIG_ENTROPY, SIG_TAIL_SHARE, SIG_N } SignalId;

#define SIG_MAX_CLASSES 64

const char *signal_name(SignalId s);
/* "ratio", "ratio_lr", "small_count", "maxprob", "entropy", "tail_share"; -1 with rn_errmsg() listing them. */
int signal_parse(const char *name, SignalId *out);
/* The direction assumed where the data do not decide: +1 = a LOW value means tail (the paper's, for
 * the ratios and the count: few small regions; maxprob: an unsure model; tail_share: few tail-class
 * pixels), -1 = a HIGH value means tail (entropy). */
int signal_default_direction(SignalId s);

/* Softmax statistics of one prediction, summed by the task model while it takes the argmax. */
typedef struct SoftStats {
    double maxprob, entropy;   /* means over the frame's pixels; NaN when not computed */
} SoftStats;

/* Everything the sweep and the cloud record about one prediction. */
typedef struct FrameSignals {
    double v[SIG_N];                 /* NaN where not computed (tail_share without tail classes) */
    double ratio_ms, ratio_lr_ms;    /* milliseconds spent on ratio and on ratio_lr */
    int k;                           /* classes counted in px[] */
    long long px[SIG_MAX_CLASSES];   /* predicted pixels per class */
} FrameSignals;

/* The signals of prediction pred (w x h, class ids; ids >= k are counted nowhere) received at
 * `scale` (1 = HR), small regions below `small` of the frame; soft may be NULL (maxprob/entropy NaN);
 * tail_cls[k] (NULL = none) marks the tail classes for tail_share. */
void signals_compute(const uint8_t *pred, int w, int h, int scale, double small, const SoftStats *soft, int k,
                     const bool *tail_cls, FrameSignals *out);

/* tail_share from per-class pixel counts (px[k]) and a tail-class set; NaN when the frame has no pixels. */
double signals_tail_share(const long long *px, int k, const bool *tail_cls);

/* "Flagged as tail": low direction (+1) value < thr, high (-1) value > thr; NaN value or thr: false. */
bool signal_flags(double value, int direction, double thr);
