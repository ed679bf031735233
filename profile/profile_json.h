/* profile_json.h: what `rune profile` writes and serve-edge/serve-cloud read — profile.json (versioned, schema in the README) as a C struct. */
#pragma once
#include <stdbool.h>

#include "profile/sweep.h"

#define PROFILE_FORMAT "rune-profile"
#define PROFILE_VERSION 1
#define PROFILE_MAX_TARGETS 32

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

typedef struct ProfileTarget {
    double mbps;
    ProfilePick standard, tail;
} ProfileTarget;

/* Tail-frame detection "ratio < threshold" at one scale (reference quality). */
typedef struct ProfileCheck {
    int scale, frames, tail, predicted, hits;
    double recall, precision;            /* at the fitted threshold */
    double recall_1pct, precision_1pct;  /* at the paper's 1 % */
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
    char task_kind[16];                  /* "segmentation" */
    char data[512], kind[32], split[32], val_split[32];
    int dataset_frames, stride, max_frames, val_frames;
    char task_file[512], task_checksum[24];
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
