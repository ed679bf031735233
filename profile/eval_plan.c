/* eval_plan.c: parsing the candidate methods of the evaluation commands into one ordered plan. */
#include "profile/eval_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static Carn *model_get(EvalPlan *p, const char *path) {
    for (int i = 0; i < p->nmodels; i++)
        if (!strcmp(p->paths[i], path)) return p->models[i];
    if (p->nmodels == PLAN_MAX_METHODS) return rn_fail("more than %d SR checkpoints", PLAN_MAX_METHODS), NULL;
    Carn *m = NULL;
    if (carn_load(path, &m, NULL) < 0) return NULL;
    p->paths[p->nmodels] = xstrdup(path), p->models[p->nmodels++] = m;
    return m;
}

static int plan_add(EvalPlan *p, const char *name, int scale, EvalKind kind, Carn *carn, const char *file) {
    if (p->n == PLAN_MAX_METHODS) return rn_fail("more than %d methods", PLAN_MAX_METHODS);
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->m[i].name, name) && p->m[i].scale == scale)
            return rn_fail("method %s at x%d given twice", name, scale);
    EvalMethod *m = &p->m[p->n++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->file, sizeof m->file, "%s", file ? file : "");
    m->scale = scale, m->kind = kind, m->carn = carn;
    return 0;
}

bool eval_plan_has_scale(const EvalPlan *p, int s) {
    for (int i = 0; i < p->nscales; i++)
        if (p->scales[i] == s) return true;
    return false;
}

/* "2,4,6,8" -> scales (each 2..16, distinct) */
static int parse_scales(EvalPlan *p, const char *s) {
    for (const char *c = s; *c;) {
        char *end;
        long v = strtol(c, &end, 10);
        if (end == c || v < 2 || v > 16 || (*end && *end != ',')) return rn_fail("--scales %s: want e.g. 2,4,6,8", s);
        if (p->nscales == PLAN_MAX_SCALES) return rn_fail("--scales %s: too many", s);
        if (!eval_plan_has_scale(p, (int)v)) p->scales[p->nscales++] = (int)v;
        c = *end ? end + 1 : end;
    }
    return p->nscales ? 0 : rn_fail("--scales is empty");
}

/* --method NAME:SCALE:FILE -> name, scale and the offset of FILE in spec. */
static int split_spec(const char *spec, char name[32], int *scale, int *off) {
    *off = 0;
    if (sscanf(spec, "%31[^:]:%d:%n", name, scale, off) != 2 || *off == 0 || !spec[*off])
        return rn_fail("--method %s: want NAME:SCALE:FILE (e.g. asr:4:runs/asr_x4.h5)", spec);
    if (!strcmp(name, "hr") || !strcmp(name, "bilinear")) return rn_fail("--method %s: %s is always included", spec, name);
    return 0;
}

/* One parsed --method: NAME at SCALE from spec + off. */
typedef struct Spec {
    char name[32];
    int scale, off;
    const char *spec;
} Spec;

static int add_spec(EvalPlan *p, const Spec *sp) {
    const char *file = sp->spec + sp->off;
    Carn *m = model_get(p, file);
    if (!m) return -1;
    if (!carn_has_scale(m, sp->scale)) return rn_fail("%s has no x%d head (--method %s)", file, sp->scale, sp->spec);
    return plan_add(p, sp->name, sp->scale, EVAL_CARN, m, file);
}

/* A shortcut at one scale; *added counts the scales it fits. */
static int add_shortcut(EvalPlan *p, const char *name, const char *file, int scale, int *added) {
    if (!file) return 0;
    Carn *m = model_get(p, file);
    if (!m) return -1;
    if (!carn_has_scale(m, scale)) {
        fprintf(stderr, "rune %s: %s has no x%d head; no %s at x%d\n", p->cmd, file, scale, name, scale);
        return 0;
    }
    (*added)++;
    return plan_add(p, name, scale, EVAL_CARN, m, file);
}

int eval_plan_build(EvalPlan *p, const char *cmd, const char *scales, const PlanShortcuts *sc, const char **specs,
                    int nspecs) {
    p->cmd = cmd;
    TRY(parse_scales(p, scales));
    if (nspecs > PLAN_MAX_METHODS) return rn_fail("more than %d --method", PLAN_MAX_METHODS);
    Spec sp[PLAN_MAX_METHODS];
    for (int i = 0; i < nspecs; i++) { /* every spec well-formed and at a requested scale */
        sp[i].spec = specs[i];
        TRY(split_spec(specs[i], sp[i].name, &sp[i].scale, &sp[i].off));
        if (!eval_plan_has_scale(p, sp[i].scale))
            return rn_fail("--method %s: x%d is not in --scales", specs[i], sp[i].scale);
    }
    const char *names[3] = {"sr", "cloudseg", "asr"}, *files[3] = {sc->sr, sc->cloudseg, sc->asr};
    int added[3] = {0};
    for (int i = 0; i < p->nscales; i++) {
        int s = p->scales[i];
        TRY(plan_add(p, "bilinear", s, EVAL_BILINEAR, NULL, NULL));
        for (int k = 0; k < 3; k++) TRY(add_shortcut(p, names[k], files[k], s, &added[k]));
        for (int k = 0; k < nspecs; k++)
            if (sp[k].scale == s) TRY(add_spec(p, &sp[k]));
    }
    for (int k = 0; k < 3; k++)
        if (files[k] && !added[k]) return rn_fail("--%s %s: no head for any of --scales", names[k], files[k]);
    return plan_add(p, "hr", 1, EVAL_HR, NULL, NULL);
}

void eval_plan_free(EvalPlan *p) {
    for (int i = 0; i < p->nmodels; i++) free(p->paths[i]), carn_free(p->models[i]);
    p->nmodels = 0;
}
