/* profile_json.h: what `rune profile` writes and serve-edge/serve-cloud read — profile.json (versioned, schema in the README) as a C struct. */
#pragma once
#include <stdbool.h>

#include "profile/signals.h"
#include "profile/sweep.h"

#define PROFILE_FORMAT "rune-profile"
#define PROFILE_VERSION 2 /* 2: issue 22 (detectors, HR tail frames, byte model, cac-share); 1 is refused */
#define PROFILE_MAX_TARGETS 64

/* One configuration's means over each group of the training frames (NaN: group empty). */
typedef struct ProfileCfg {
    int scale, quality;                  /* scale 1 = HR */
    double bytes_std, bytes_tail;        /* mean encoded bytes per frame */
    double acc_std, acc_tail;            /* mean per-frame accuracy (fraction) */
    double ratio_std, ratio_tail;        /* mean small-region ratio of the prediction */
} ProfileCfg;

/* A group's choice for one bandwidth target; scale 0 = no configuration fits. */
typedef struct ProfilePick {
    int scale, quality;
    double acc_std, acc_tail;            /* this configuration's mean accuracy on each group */
    double mbps;                         /* mean bits per frame x fps over the group it was chosen for */
} ProfilePick;

/* A paired difference over frames with its bootstrap interval (mean, [lo, hi] at 95 %, n frames). */
typedef struct ProfileGain {
    double mean, lo, hi;
    int n;
} ProfileGain;

typedef struct ProfileTarget {
    double mbps;
    ProfilePick standard, tail;
    ProfileGain gain_tail;               /* tail pick - standard pick, on the tail frames (paired bootstrap) */
    ProfileGain gain_std;                /* the same on the standard frames (what the tail pick costs them) */
} ProfileTarget;

/* CAC's tail-frame detector for frames received in one configuration: signal `signal` (profile-wide)
 * flags a frame when signal_flags(value, direction, threshold). Fitted on the training split:
 * the threshold is the least strict one that catches >= recall_target of its tail frames. */
typedef struct ProfileDetector {
    int scale, quality;                  /* the configuration the cloud receives */
    int direction;                       /* +1: a low value means tail; -1: a high value means tail */
    bool from_data;                      /* direction chosen by the train AUC (false: signal_default_direction) */
    double threshold;
    int train_n, train_tail, val_n, val_tail;
    double train_auc, train_recall, train_precision; /* in the chosen direction */
    double val_auc, val_recall, val_precision;
    double val_recall_other, val_precision_other;    /* the opposite direction, its own train-fitted threshold */
} ProfileDetector;

/* One signal as a tail-frame predictor at one configuration (the reference quality of each scale):
 * AUC = P(a tail frame's value < a standard frame's value) (+ half the ties): > 0.5 favours the low direction. */
typedef struct ProfileSignalEval {
    int signal;                          /* SignalId */
    int scale, quality;
    double train_auc, val_auc;
    int direction;                       /* as a detector would choose it on train */
    double val_recall, val_precision;    /* at the train-fitted threshold */
} ProfileSignalEval;

/* cac-share at one target: flagged frames get about k times the target's bytes, the others pay for it,
 * the mean rate stays within the target. Chosen on train with the detector as measured. */
typedef struct ProfileShare {
    double mbps, k;
    int flag_scale, flag_quality, other_scale, other_quality;
    double flagged;                      /* share of train frames the detector flags at this target */
    double p10, mean;                    /* 10th-percentile / mean per-frame accuracy on train with the pair */
    double p10_standard, mean_standard;  /* the same for the standard pick alone */
} ProfileShare;

/* Tail-frame detection "ratio < threshold" at one scale (reference quality). */
typedef struct ProfileCheck {
    int scale, frames, tail, predicted, hits;
    double recall, precision;            /* at the fitted threshold */
    double recall_1pct, precision_1pct;  /* at the paper's 1 % */
    double recall_r90, precision_r90;    /* at threshold_recall90 (fitted on the training profile) */
    double ratio_ms;                     /* mean time to compute the ratio of one frame */
} ProfileCheck;

typedef struct ProfileModel {
    int scale;
    char file[512];                      /* "bilinear" when no model is given for the scale */
    char checksum[24];                   /* FNV-1a 64 of the file, hex; "" for bilinear */
} ProfileModel;

typedef struct ProfileTiming {
    int frames, measured;                /* frames in the sweep; measured by this run (rest resumed) */
    double wall, load, degrade, sr, task, ratio; /* seconds */
} ProfileTiming;

typedef struct ProfileDoc {
    int version;
    char command[4096], created[32];
    char task_kind[16];                  /* "segmentation" or "detection" */
    char data[512], kind[32], split[32], val_split[32];
    int dataset_frames, stride, max_frames, val_frames;
    char task_file[512], task_checksum[24];
    char task_weights[512], task_weights_checksum[24]; /* darknet .weights beside a .cfg; "" when none */
    int classes;
    ProfileModel sr[SWEEP_MAX_SCALE];
    int nsr;
    double small, tail_pct, fps;
    int ref_scale, ref_quality;
    ProfileCfg cfg[SWEEP_MAX_CONFIGS];
    int ncfg;
    char **tail_frames;                  /* [ntail] training frame names in the tail group */
    int ntail, nframes;
    ProfileTarget target[PROFILE_MAX_TARGETS];
    int ntargets;
    /* v2 (issue 22): tail frames by the reference's accuracy (HR by default); costs by bytes_model */
    char bytes_model[8];                 /* "all": a configuration costs its mean bytes over every frame; "own": each group's */
    double tail_cutoff;                  /* the highest reference accuracy among the tail frames */
    double tail5_cutoff;                 /* the same for the worst 5 % (Fig. 8) */
    int tail_classes[SIG_MAX_CLASSES], ntail_classes; /* worse half by IoU at the reference over the split */
    char signal[16];                     /* the signal CAC reads (signal_name) */
    double recall_target;                /* detectors reach this recall of the train tail frames (0.9) */
    ProfileDetector det[SWEEP_MAX_CONFIGS];
    int ndet;
    ProfileSignalEval sig[SIG_N * SWEEP_MAX_SCALE];
    int nsig;
    ProfileShare share[PROFILE_MAX_TARGETS];
    int nshare;
    /* the paper's pooled regression, kept as a report (CAC uses det[]) */
    double threshold;                    /* fitted on the training profile (NaN: no rising line) */
    double fit_a, fit_b, fit_r2;
    int fit_n;
    double threshold_recall90;           /* comparison: catches 90 % of the training tail points */
    ProfileCheck train[SWEEP_MAX_SCALE], val[SWEEP_MAX_SCALE];
    int ntrain, nval;
    ProfileTiming t_train, t_val;
} ProfileDoc;

/* Writes d to path (through a temp file renamed into place). -1 with rn_errmsg(). */
int profile_json_write(const ProfileDoc *d, const char *path);
/* Reads path into *d (zeroed first); checks format and version. -1 with rn_errmsg() naming the field. */
int profile_json_read(const char *path, ProfileDoc *d);
void profile_doc_free(ProfileDoc *d);
