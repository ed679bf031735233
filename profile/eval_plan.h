/* eval_plan.h: the candidate methods of `rune eval` and `rune eval-det-asr` — bilinear and hr, SR checkpoints by --sr/--cloudseg/--asr and --method NAME:SCALE:FILE. */
#pragma once
#include <stdbool.h>

#include "nn/models/carn.h"
#include "profile/eval_seg.h"

#define PLAN_MAX_METHODS 64
#define PLAN_MAX_SCALES 16

typedef struct EvalPlan {
    const char *cmd;                        /* "eval" or "eval-det-asr", for warnings */
    EvalMethod m[PLAN_MAX_METHODS];         /* per scale: bilinear, sr, cloudseg, asr, --method ones; then hr */
    int n;
    int scales[PLAN_MAX_SCALES], nscales;   /* as --scales lists them */
    char *paths[PLAN_MAX_METHODS];          /* SR checkpoints, each loaded once */
    Carn *models[PLAN_MAX_METHODS];
    int nmodels;
} EvalPlan;

/* The shortcut flags: a checkpoint used at every requested scale it has a head for. */
typedef struct PlanShortcuts {
    const char *sr, *cloudseg, *asr;
} PlanShortcuts;

/* Fills p from "2,4,..." (each 2..16), the shortcuts and the --method specs. A --method at a scale
 * not in --scales, a method given twice, a missing head or a bad file is an error; a shortcut
 * without a head at some scale is skipped there with a warning (an error if it fits none). */
int eval_plan_build(EvalPlan *p, const char *cmd, const char *scales, const PlanShortcuts *sc, const char **specs,
                    int nspecs);
bool eval_plan_has_scale(const EvalPlan *p, int s);
void eval_plan_free(EvalPlan *p);

