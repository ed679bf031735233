/* report.c: tables 2-5, bootstrap diffs, results.json and gnuplot figures of `rune eval`. */
#include "profile/report.h"

#include <jansson.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profile/bootstrap.h"
#include "profile/pairs.h"
#include "profile/tail.h"
#include "util/err.h"

#define MAXM 64
#define MAXS 16

/* What every table needs: method order, scales, the HR reference and its tail classes. */
typedef struct Ctx {
    const EvalResult *r;
    const ReportOpts *o;
    const char *dir;
    int hr;
    int tail[256], ntail;
    int order[MAXM], norder;  /* method indices: bilinear, sr, cloudseg, asr, others, hr */
    int scales[MAXS], nscales; /* degraded scales, ascending */
} Ctx;

static int name_rank(const EvalMethod *m) {
    static const char *const known[] = {"bilinear", "sr", "cloudseg", "asr"};
    if (m->kind == EVAL_HR) return 5;
    for (int i = 0; i < 4; i++)
        if (!strcmp(m->name, known[i])) return i;
    return 4;
}

static void ctx_init(Ctx *x, const EvalResult *r, const ReportOpts *o, const char *dir) {
    memset(x, 0, sizeof *x);
    x->r = r, x->o = o, x->dir = dir, x->hr = -1;
    for (int rank = 0; rank <= 5; rank++)
        for (int m = 0; m < r->nmethods && x->norder < MAXM; m++)
            if (name_rank(&r->methods[m]) == rank) x->order[x->norder++] = m;
    for (int m = 0; m < r->nmethods; m++) {
        if (r->methods[m].kind == EVAL_HR) {
            if (x->hr < 0) x->hr = m;
            continue;
        }
        int s = r->methods[m].scale, at = 0;
        while (at < x->nscales && x->scales[at] < s) at++;
        if ((at < x->nscales && x->scales[at] == s) || x->nscales == MAXS) continue;
        memmove(x->scales + at + 1, x->scales + at, (size_t)(x->nscales - at) * sizeof(int));
        x->scales[at] = s, x->nscales++;
    }
    if (x->hr >= 0) x->ntail = eval_tail_classes(r, x->hr, x->tail);
}

/* ---------------- small helpers ---------------- */

int report_mkdirs(const char *dir) {
    char buf[4096];
    if (strlen(dir) >= sizeof buf) return rn_fail("output folder name too long: %s", dir);
    strcpy(buf, dir);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return rn_fail("cannot create %s: %s", buf, strerror(errno));
        if (!(*p = c)) break;
    }
    return 0;
}

static FILE *out_open(const Ctx *x, const char *name, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", x->dir, name);
    FILE *f = fopen(path, "w");
    if (!f) rn_fail("cannot write %s: %s", path, strerror(errno));
    return f;
}

static int out_close(FILE *f, const char *path) {
    if (ferror(f) | (fclose(f) != 0)) return rn_fail("error writing %s", path);
    return 0;
}

/* "12.34" or "—" for an undefined value (Markdown); CSV gets "nan". */
static const char *md_num(char *buf, double v, const char *fmt) {
    if (isnan(v)) return "—";
    snprintf(buf, 32, fmt, v);
    return buf;
}

/* "x4", or "HR" for the reference */
static const char *scale_label(const EvalMethod *m, char *buf) {
    if (m->kind == EVAL_HR) return "HR";
    snprintf(buf, 16, "x%d", m->scale);
    return buf;
}

static double pct(double v) { return 100.0 * v; }

static double method_miou(const Ctx *x, int m) { return eval_miou(x->r, &x->r->total[m]); }
static double method_tail(const Ctx *x, int m) { return mean_iou_over(&x->r->total[m], x->tail, x->ntail); }

/* Mean over frames of a per-frame array, skipping NaN. */
static double frame_mean(const Ctx *x, const double *v, int m) {
    double s = 0;
    int n = 0;
    for (int f = 0; f < x->r->nframes; f++) {
        double a = v[(size_t)m * x->r->nframes + f];
        if (!isnan(a)) s += a, n++;
    }
    return n ? s / n : NAN;
}

static double region_pct(const Ctx *x, int c) {
    const EvalResult *r = x->r;
    return r->region_count[c] ? 100.0 * (double)r->region_area[c] / (double)r->region_count[c] / r->frame_pixels
                              : NAN;
}

static bool is_tail(const Ctx *x, int c) {
    for (int i = 0; i < x->ntail; i++)
        if (x->tail[i] == c) return true;
    return false;
}

/* Methods shown at one scale (in order), hr last; returns how many. */
static int methods_at(const Ctx *x, int scale, int *out) {
    int n = 0;
    for (int i = 0; i < x->norder; i++) {
        const EvalMethod *m = &x->r->methods[x->order[i]];
        if (m->kind == EVAL_HR || m->scale == scale) out[n++] = x->order[i];
    }
    return n;
}

/* Markdown to the file and to the echo stream. */
static void md(const Ctx *x, FILE *f, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void md(const Ctx *x, FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    if (x->o->echo) {
        va_start(ap, fmt);
        vfprintf(x->o->echo, fmt, ap);
        va_end(ap);
    }
}

/* ---------------- Table 2: class-wise at one scale ---------------- */

static int hr_class_order(const Ctx *x, int *cls) {
    /* all dataset classes, worst HR IoU first (undefined last) */
    int n = 0, tail_n = x->ntail;
    memcpy(cls, x->tail, (size_t)tail_n * sizeof(int));
    n = tail_n;
    int rest[256], nr = 0;
    for (int c = 0; c < x->r->nclasses; c++)
        if (!is_tail(x, c)) rest[nr++] = c;
    for (int i = 1; i < nr; i++) /* insertion sort by HR IoU, NaN last */
        for (int j = i; j > 0; j--) {
            double a = confusion_iou(&x->r->total[x->hr], rest[j - 1]), b = confusion_iou(&x->r->total[x->hr], rest[j]);
            if (!(isnan(a) || a > b)) break;
            int t = rest[j];
            rest[j] = rest[j - 1], rest[j - 1] = t;
        }
    memcpy(cls + n, rest, (size_t)nr * sizeof(int));
    return n + nr;
}

static void table2_md_row(const Ctx *x, FILE *f, const char *label, const int *ms, int nm, const double *v,
                          const double *norm, const char *size) {
    char a[32], b[32];
    md(x, f, "| %s |", label);
    for (int i = 0; i < nm; i++) {
        if (isnan(v[i])) md(x, f, " — |");
        else md(x, f, " %s (%s) |", md_num(a, v[i], "%.2f"), md_num(b, norm[i], "%.2f"));
    }
    (void)ms;
    md(x, f, " %s |\n", size);
}

static void table2_class(const Ctx *x, FILE *md_f, FILE *csv, int c, const int *ms, int nm) {
    double v[MAXM], nv[MAXM], hr = pct(confusion_iou(&x->r->total[x->hr], c)), size = region_pct(x, c);
    char label[96], sz[32];
    for (int i = 0; i < nm; i++) {
        v[i] = pct(confusion_iou(&x->r->total[ms[i]], c));
        nv[i] = v[i] / hr;
        fprintf(csv, "%s,%d,%.4f,%s,%.4f,%.4f\n", x->r->class_names[c], is_tail(x, c), size, x->r->methods[ms[i]].name,
                v[i], nv[i]);
    }
    snprintf(label, sizeof label, "%s%s", x->r->class_names[c], is_tail(x, c) ? " *" : "");
    table2_md_row(x, md_f, label, ms, nm, v, nv, md_num(sz, size, "%.2f"));
}

static void table2_summary(const Ctx *x, FILE *md_f, FILE *csv, const int *ms, int nm) {
    double tv[MAXM], tn[MAXM], av[MAXM], an[MAXM], hr_t = pct(method_tail(x, x->hr)), hr_a = pct(method_miou(x, x->hr));
    double size_sum = 0;
    for (int i = 0; i < x->ntail; i++) size_sum += isnan(region_pct(x, x->tail[i])) ? 0 : region_pct(x, x->tail[i]);
    for (int i = 0; i < nm; i++) {
        tv[i] = pct(method_tail(x, ms[i])), tn[i] = tv[i] / hr_t;
        av[i] = pct(method_miou(x, ms[i])), an[i] = av[i] / hr_a;
        fprintf(csv, "_tail_mean,1,%.4f,%s,%.4f,%.4f\n", size_sum, x->r->methods[ms[i]].name, tv[i], tn[i]);
        fprintf(csv, "_all,0,nan,%s,%.4f,%.4f\n", x->r->methods[ms[i]].name, av[i], an[i]);
    }
    char sz[32];
    snprintf(sz, sizeof sz, "%.2f (sum)", size_sum);
    table2_md_row(x, md_f, "**tail mean** (in total)", ms, nm, tv, tn, sz);
    table2_md_row(x, md_f, "**mIoU**", ms, nm, av, an, "—");
}

static int table2(const Ctx *x) {
    int ms[MAXM], nm = methods_at(x, x->o->table2_scale, ms), cls[256];
    char pm[4200], pc[4200];
    FILE *f = out_open(x, "table2.md", pm, sizeof pm), *csv = f ? out_open(x, "table2.csv", pc, sizeof pc) : NULL;
    if (!csv) {
        if (f) fclose(f);
        return -1;
    }
    fprintf(csv, "class,tail,size_pct,method,iou,iou_norm\n");
    md(x, f, "\n### Table 2: class-wise IoU (%%) at x%d, (normalised to HR)\n\n| class |", x->o->table2_scale);
    for (int i = 0; i < nm; i++) md(x, f, " %s |", x->r->methods[ms[i]].name);
    md(x, f, " size (%%) |\n|---|");
    for (int i = 0; i <= nm; i++) md(x, f, "---|");
    md(x, f, "\n");
    int n = hr_class_order(x, cls);
    for (int i = 0; i < n; i++) table2_class(x, f, csv, cls[i], ms, nm);
    table2_summary(x, f, csv, ms, nm);
    md(x, f, "\n\\* tail classes: the worse half (%d of %d) of the classes by HR IoU, worst first. size = mean area of "
             "a class's connected label regions (4-connected) as %% of the frame, over the evaluated labels. "
             "\"in total\" = tail mean / HR tail mean. %s\n",
       x->ntail, x->r->nclasses,
       x->r->k > x->r->nclasses ? "A prediction of a model output with no dataset class (ESPNet-CamVid's void) "
                                  "counts as wrong."
                                : "The argmax runs over the dataset's classes only.");
    int rc = out_close(csv, pc);
    return out_close(f, pm) | rc;
}

/* ---------------- Table 3: tail and overall per scale ---------------- */

static int table3(const Ctx *x) {
    char pm[4200], pc[4200], a[32], b[32];
    FILE *f = out_open(x, "table3.md", pm, sizeof pm), *csv = f ? out_open(x, "table3.csv", pc, sizeof pc) : NULL;
    if (!csv) {
        if (f) fclose(f);
        return -1;
    }
    fprintf(csv, "scale,method,tail_miou,miou\n");
    md(x, f, "\n### Table 3: tail-class and overall mIoU (%%) per scale\n\n| scale | method | tail classes | overall |\n"
             "|---|---|---|---|\n");
    for (int s = 0; s < x->nscales; s++)
        for (int i = 0; i < x->norder; i++) {
            int m = x->order[i];
            if (x->r->methods[m].kind == EVAL_HR || x->r->methods[m].scale != x->scales[s]) continue;
            double t = pct(method_tail(x, m)), o = pct(method_miou(x, m));
            fprintf(csv, "%d,%s,%.4f,%.4f\n", x->scales[s], x->r->methods[m].name, t, o);
            md(x, f, "| x%d | %s | %s | %s |\n", x->scales[s], x->r->methods[m].name, md_num(a, t, "%.2f"),
               md_num(b, o, "%.2f"));
        }
    double t = pct(method_tail(x, x->hr)), o = pct(method_miou(x, x->hr));
    fprintf(csv, "1,hr,%.4f,%.4f\n", t, o);
    md(x, f, "| HR | hr | %s | %s |\n\nTail classes fixed from HR:", md_num(a, t, "%.2f"), md_num(b, o, "%.2f"));
    for (int i = 0; i < x->ntail; i++) md(x, f, "%s %s", i ? "," : "", x->r->class_names[x->tail[i]]);
    md(x, f, ".\n");
    int rc = out_close(csv, pc);
    return out_close(f, pm) | rc;
}

/* ---------------- Table 4: frame-wise tail over episodes ---------------- */

typedef struct Episodes {
    int n;
    double p90, p99, mean;
} Episodes;

static Episodes episodes_of(const Ctx *x, int m, double *buf) {
    Episodes e = {0, NAN, NAN, NAN};
    e.n = eval_episodes(x->r, m, x->o->episode, buf);
    if (!e.n) return e;
    double s = 0;
    for (int i = 0; i < e.n; i++) s += buf[i];
    e.mean = pct(s / e.n);
    e.p90 = pct(percentile(buf, e.n, 10));
    e.p99 = pct(percentile(buf, e.n, 1));
    return e;
}

static int table4(const Ctx *x) {
    char pm[4200], pc[4200], a[32], b[32], c[32];
    FILE *f = out_open(x, "table4.md", pm, sizeof pm), *csv = f ? out_open(x, "table4.csv", pc, sizeof pc) : NULL;
    if (!csv) {
        if (f) fclose(f);
        return -1;
    }
    double *buf = xmalloc((size_t)(x->r->nframes + 1) * sizeof *buf);
    fprintf(csv, "scale,method,episodes,p90,p99,mean\n");
    md(x, f, "\n### Table 4: frame-wise tail mIoU (%%) over %d-frame episodes\n\n| scale | method | episodes | 90%% | "
             "99%% | mean |\n|---|---|---|---|---|---|\n",
       x->o->episode);
    for (int i = 0; i < x->norder; i++) {
        int m = x->order[i];
        char sl[16];
        Episodes e = episodes_of(x, m, buf);
        const EvalMethod *me = &x->r->methods[m];
        fprintf(csv, "%d,%s,%d,%.4f,%.4f,%.4f\n", me->scale, me->name, e.n, e.p90, e.p99, e.mean);
        md(x, f, "| %s | %s | %d | %s | %s | %s |\n", scale_label(me, sl), me->name, e.n,
           md_num(a, e.p90, "%.2f"), md_num(b, e.p99, "%.2f"), md_num(c, e.mean, "%.2f"));
    }
    md(x, f, "\nAn episode = %d consecutive frames of one sequence in the dataset's time order (a sequence's last "
             "partial episode is dropped); its mIoU is that of its summed confusion. 90%% = 10th percentile, "
             "99%% = 1st percentile of episode mIoU (linear interpolation); mean = mean of episode mIoUs.\n",
       x->o->episode);
    free(buf);
    int rc = out_close(csv, pc);
    return out_close(f, pm) | rc;
}

/* ---------------- Table 5: overall accuracy and reconstruction quality ---------------- */

static int table5(const Ctx *x) {
    char pm[4200], pc[4200], a[32], b[32], c[32];
    FILE *f = out_open(x, "table5.md", pm, sizeof pm), *csv = f ? out_open(x, "table5.csv", pc, sizeof pc) : NULL;
    if (!csv) {
        if (f) fclose(f);
        return -1;
    }
    fprintf(csv, "scale,method,miou,psnr,ssim,bytes_per_frame\n");
    md(x, f, "\n### Table 5: mIoU (%%), PSNR (dB) and SSIM (Y channel, border = scale), bytes per frame (%s)\n\n"
             "| scale | method | mIoU | PSNR | SSIM | bytes/frame |\n|---|---|---|---|---|---|\n",
       x->r->quality ? "JPEG" : "lossless PNG");
    for (int s = 0; s <= x->nscales; s++)
        for (int i = 0; i < x->norder; i++) {
            int m = x->order[i];
            const EvalMethod *me = &x->r->methods[m];
            if (s < x->nscales ? me->kind == EVAL_HR || me->scale != x->scales[s] : me->kind != EVAL_HR) continue;
            double mi = pct(method_miou(x, m)), ps = frame_mean(x, x->r->psnr, m), ss = frame_mean(x, x->r->ssim, m),
                   by = frame_mean(x, x->r->bytes, m);
            fprintf(csv, "%d,%s,%.4f,%.4f,%.6f,%.1f\n", me->scale, me->name, mi, ps, ss, by);
            char sl[16];
            md(x, f, "| %s | %s | %s | %s | %s | %.0f |\n", scale_label(me, sl), me->name,
               md_num(a, mi, "%.2f"), md_num(b, ps, "%.2f"), md_num(c, ss, "%.4f"), by);
        }
    md(x, f, "\nPSNR/SSIM: mean over frames of the 8-bit reconstruction vs the HR crop. Quality %d%s.\n", x->r->quality,
       x->r->quality ? "" : " (lossless)");
    int rc = out_close(csv, pc);
    return out_close(f, pm) | rc;
}

/* ---------------- bootstrap differences ---------------- */

static void diff_pair(const Ctx *x, FILE *f, FILE *csv, int scale, const char *an, const char *bn) {
    int a = eval_find(x->r, an, scale), b = eval_find(x->r, bn, scale), all[256];
    if (a < 0 || b < 0 || x->r->methods[a].kind == EVAL_HR) return;
    for (int c = 0; c < x->r->nclasses; c++) all[c] = c;
    size_t stride = (size_t)x->r->nframes * x->r->k * x->r->k;
    const long long *ca = x->r->frame_conf + (size_t)a * stride, *cb = x->r->frame_conf + (size_t)b * stride;
    for (int t = 0; t < 2; t++) {
        BootCI ci;
        /* same seed for both statistics: the same resampled frames */
        bootstrap_miou_diff(ca, cb, x->r->nframes, x->r->k, t ? x->tail : all, t ? x->ntail : x->r->nclasses,
                            x->o->boot_reps, x->o->seed, &ci);
        const char *metric = t ? "tail_miou" : "miou";
        fprintf(csv, "%d,%s,%s,%s,%.4f,%.4f,%.4f,%d\n", scale, an, bn, metric, pct(ci.diff), pct(ci.lo), pct(ci.hi),
                ci.reps);
        md(x, f, "| x%d | %s − %s | %s | %+.2f | [%+.2f, %+.2f] | %s |\n", scale, an, bn, metric, pct(ci.diff),
           pct(ci.lo), pct(ci.hi), ci.lo > 0 || ci.hi < 0 ? "yes" : "no");
    }
}

static int diffs(const Ctx *x) {
    const char *pairs[MAX_PAIRS][2];
    char spec[1024];
    int np = parse_pairs(x->o->diffs, "asr-sr,asr-bilinear,asr-cloudseg,sr-bilinear", spec, sizeof spec, pairs);
    char pm[4200], pc[4200];
    FILE *f = out_open(x, "diffs.md", pm, sizeof pm), *csv = f ? out_open(x, "diffs.csv", pc, sizeof pc) : NULL;
    if (!csv) {
        if (f) fclose(f);
        return -1;
    }
    fprintf(csv, "scale,a,b,metric,diff,lo,hi,reps\n");
    md(x, f, "\n### Differences (percentage points), paired bootstrap over frames, %d replicates, 95%% percentile "
             "interval\n\n| scale | a − b | metric | diff | 95%% CI | excludes 0 |\n|---|---|---|---|---|---|\n",
       x->o->boot_reps);
    for (int s = 0; s < x->nscales; s++)
        for (int p = 0; p < np; p++) diff_pair(x, f, csv, x->scales[s], pairs[p][0], pairs[p][1]);
    md(x, f, "\nEach replicate draws %d frames with replacement (seed %llu) and recomputes both methods' mIoU on "
             "the summed confusion of the drawn frames; tail classes fixed from HR.\n",
       x->r->nframes, (unsigned long long)x->o->seed);
    int rc = out_close(csv, pc);
    return out_close(f, pm) | rc;
}

/* ---------------- results.json (jansson) ---------------- */

/* A number as JSON: null where it is not finite (JSON has no NaN), which jansson would refuse. */
static json_t *jnum(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }

/* [v0 * mul, v1 * mul, ...] */
static json_t *jarray(const double *v, int n, double mul) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, jnum(v[i] * mul));
    return a;
}

static json_t *jstrings(char *const *s, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_string(s[i]));
    return a;
}

static json_t *json_method(const Ctx *x, int m, double *buf) {
    const EvalResult *r = x->r;
    const EvalMethod *me = &r->methods[m];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(me->name));
    json_object_set_new(o, "scale", json_integer(me->scale));
    json_object_set_new(o, "file", json_string(me->file));
    json_object_set_new(o, "miou", jnum(pct(method_miou(x, m))));
    json_object_set_new(o, "tail_miou", jnum(pct(method_tail(x, m))));
    json_object_set_new(o, "psnr", jnum(frame_mean(x, r->psnr, m)));
    json_object_set_new(o, "ssim", jnum(frame_mean(x, r->ssim, m)));
    json_object_set_new(o, "bytes_per_frame", jnum(frame_mean(x, r->bytes, m)));
    for (int c = 0; c < r->nclasses; c++) buf[c] = confusion_iou(&r->total[m], c);
    json_object_set_new(o, "class_iou", jarray(buf, r->nclasses, 100));
    for (int i = 0; i < r->nframes; i++) {
        Confusion c = eval_frame_confusion(r, m, i);
        buf[i] = eval_miou(r, &c);
    }
    json_object_set_new(o, "frame_miou", jarray(buf, r->nframes, 100));
    size_t at = (size_t)m * r->nframes;
    json_object_set_new(o, "frame_psnr", jarray(r->psnr + at, r->nframes, 1));
    json_object_set_new(o, "frame_ssim", jarray(r->ssim + at, r->nframes, 1));
    json_object_set_new(o, "frame_bytes", jarray(r->bytes + at, r->nframes, 1));
    int ne = eval_episodes(r, m, x->o->episode, buf);
    json_object_set_new(o, "episode_miou", jarray(buf, ne, 100));
    Episodes e = episodes_of(x, m, buf);
    json_object_set_new(o, "episode_p90", jnum(e.p90));
    json_object_set_new(o, "episode_p99", jnum(e.p99));
    json_object_set_new(o, "episode_mean", jnum(e.mean));
    return o;
}

static int results_json(const Ctx *x) {
    const EvalResult *r = x->r;
    char p[4200];
    snprintf(p, sizeof p, "%s/results.json", x->dir);
    int n = r->nframes > r->nclasses ? r->nframes : r->nclasses;
    double *buf = xmalloc((size_t)(n + 1) * sizeof *buf);
    json_t *root = json_object();
    json_object_set_new(root, "units", json_string("IoU in percent; PSNR dB; SSIM 0..1; bytes per frame"));
    json_object_set_new(root, "quality", json_integer(r->quality));
    json_object_set_new(root, "frames", json_integer(r->nframes));
    json_object_set_new(root, "episode", json_integer(x->o->episode));
    json_object_set_new(root, "table2_scale", json_integer(x->o->table2_scale));
    json_object_set_new(root, "seconds", json_real(round(r->seconds * 10) / 10));
    json_object_set_new(root, "classes", jstrings(r->class_names, r->nclasses));
    for (int c = 0; c < r->nclasses; c++) buf[c] = region_pct(x, c);
    json_object_set_new(root, "region_size_pct", jarray(buf, r->nclasses, 1));
    json_t *tail = json_array();
    for (int i = 0; i < x->ntail; i++) json_array_append_new(tail, json_integer(x->tail[i]));
    json_object_set_new(root, "tail_classes", tail);
    json_object_set_new(root, "frame_names", jstrings(r->frame_names, r->nframes));
    json_t *methods = json_array();
    for (int i = 0; i < x->norder; i++) json_array_append_new(methods, json_method(x, x->order[i], buf));
    json_object_set_new(root, "methods", methods);
    free(buf);
    /* 6 significant digits, as the tables print; keys in the order above */
    int rc = json_dump_file(root, p, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(root);
    return rc == 0 ? 0 : rn_fail("cannot write %s: %s", p, strerror(errno));
}

/* ---------------- figures (gnuplot) ---------------- */

static const char GP_TERM[] =
    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1000,560 font ',10' } "
    "else { set terminal png size 1000,560 }\n";

static int fig9(const Ctx *x) {
    int ms[MAXM], nm = methods_at(x, x->o->table2_scale, ms) - 1, cls[256], n = hr_class_order(x, cls); /* hr = 1 */
    char pd[4200], pg[4200];
    FILE *d = out_open(x, "fig9.dat", pd, sizeof pd), *g = d ? out_open(x, "fig9.gp", pg, sizeof pg) : NULL;
    if (!g) {
        if (d) fclose(d);
        return -1;
    }
    fprintf(d, "class");
    for (int i = 0; i < nm; i++) fprintf(d, " %s", x->r->methods[ms[i]].name);
    fprintf(d, "\n");
    for (int i = 0; i < n; i++) {
        double hr = confusion_iou(&x->r->total[x->hr], cls[i]);
        fprintf(d, "\"%s%s\"", x->r->class_names[cls[i]], is_tail(x, cls[i]) ? "*" : "");
        for (int j = 0; j < nm; j++) fprintf(d, " %.4f", confusion_iou(&x->r->total[ms[j]], cls[i]) / hr);
        fprintf(d, "\n");
    }
    fprintf(g, "# fig9.gp: class-wise IoU normalised to HR at x%d (the paper's Fig. 9); classes worst HR IoU first, "
               "* = tail\n%sset output 'fig9.png'\nset title 'Class-wise IoU / HR IoU at x%d'\n"
               "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
               "set key outside right\nset xtics rotate by -45\nset ylabel 'IoU / IoU(HR)'\nset yrange [0:*]\n"
               "set grid ytics\nplot for [i=2:%d] 'fig9.dat' using i:xtic(1) title columnheader(i)\n",
            x->o->table2_scale, GP_TERM, x->o->table2_scale, nm + 1);
    int rc = out_close(d, pd);
    return out_close(g, pg) | rc;
}

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Per-frame mIoU of every method at one scale (plus hr), each sorted best first. */
static int fig13(const Ctx *x, int scale) {
    int ms[MAXM], nm = methods_at(x, scale, ms), nf = x->r->nframes;
    char name[64], pd[4200], pg[4200];
    snprintf(name, sizeof name, "fig13_x%d.dat", scale);
    FILE *d = out_open(x, name, pd, sizeof pd);
    snprintf(name, sizeof name, "fig13_x%d.gp", scale);
    FILE *g = d ? out_open(x, name, pg, sizeof pg) : NULL;
    if (!g) {
        if (d) fclose(d);
        return -1;
    }
    double *v = xmalloc((size_t)nm * nf * sizeof *v);
    for (int j = 0; j < nm; j++) {
        for (int f = 0; f < nf; f++) {
            Confusion c = eval_frame_confusion(x->r, ms[j], f);
            v[(size_t)j * nf + f] = pct(eval_miou(x->r, &c));
        }
        qsort(v + (size_t)j * nf, (size_t)nf, sizeof *v, cmp_desc);
    }
    fprintf(d, "rank_pct");
    for (int j = 0; j < nm; j++) fprintf(d, " %s", x->r->methods[ms[j]].name);
    fprintf(d, "\n");
    for (int f = 0; f < nf; f++) {
        fprintf(d, "%.3f", nf > 1 ? 100.0 * f / (nf - 1) : 0.0);
        for (int j = 0; j < nm; j++) fprintf(d, " %.4f", v[(size_t)j * nf + f]);
        fprintf(d, "\n");
    }
    free(v);
    fprintf(g, "# fig13_x%d.gp: per-frame mIoU sorted best first (the paper's Fig. 13 / Fig. 2)\n%s"
               "set output 'fig13_x%d.png'\nset title 'Frame-wise mIoU at x%d, sorted'\nset xlabel 'frames (%%, best "
               "first)'\nset ylabel 'mIoU (%%)'\nset key bottom left\nset grid\nset arrow from 90,graph 0 to 90,graph 1 "
               "nohead dt 2\nset arrow from 99,graph 0 to 99,graph 1 nohead dt 2\n"
               "plot for [i=2:%d] 'fig13_x%d.dat' using 1:i with lines lw 2 title columnheader(i)\n",
            scale, GP_TERM, scale, scale, nm + 1, scale);
    int rc = out_close(d, pd);
    return out_close(g, pg) | rc;
}

/* mIoU vs bytes per frame: one line per method name across scales, hr as one point. */
static int fig14(const Ctx *x) {
    char pd[4200], pg[4200];
    FILE *d = out_open(x, "fig14.dat", pd, sizeof pd), *g = d ? out_open(x, "fig14.gp", pg, sizeof pg) : NULL;
    if (!g) {
        if (d) fclose(d);
        return -1;
    }
    const char *names[MAXM];
    int nn = 0;
    for (int i = 0; i < x->norder; i++) {
        const char *nm = x->r->methods[x->order[i]].name;
        bool seen = false;
        for (int j = 0; j < nn; j++) seen |= !strcmp(names[j], nm);
        if (!seen) names[nn++] = nm;
    }
    for (int j = 0; j < nn; j++) {
        fprintf(d, "# %s: bytes_per_frame miou_pct scale\n", names[j]);
        for (int i = 0; i < x->norder; i++) {
            int m = x->order[i];
            if (strcmp(x->r->methods[m].name, names[j])) continue;
            char sl[16];
            fprintf(d, "%.1f %.4f %s\n", frame_mean(x, x->r->bytes, m), pct(method_miou(x, m)),
                    scale_label(&x->r->methods[m], sl));
        }
        fprintf(d, "\n\n");
    }
    fprintf(g, "# fig14.gp: mIoU vs bytes per frame across scales (the paper's Fig. 14)\n%sset output 'fig14.png'\n"
               "set title 'mIoU vs bandwidth (quality %d)'\nset logscale x\nset xlabel 'bytes per frame'\n"
               "set ylabel 'mIoU (%%)'\nset key bottom right\nset grid\nplot ",
            GP_TERM, x->r->quality);
    for (int j = 0; j < nn; j++)
        fprintf(g, "%s'fig14.dat' index %d using 1:2 with linespoints pt 7 lw 2 title '%s', '' index %d using 1:2:3 with labels offset 0,1 notitle",
                j ? ", \\\n     " : "", j, names[j], j);
    fprintf(g, "\n");
    int rc = out_close(d, pd);
    return out_close(g, pg) | rc;
}

void report_gnuplot(const char *dir, const char *script, const char *who) {
    if (strchr(dir, '\'') || strchr(script, '\'')) return;
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot '%s' 2>&1", dir, script);
    if (system(cmd) != 0) fprintf(stderr, "rune %s: warning: gnuplot %s/%s failed (is gnuplot installed?)\n", who, dir, script);
}

static void run_gnuplot(const Ctx *x, const char *script) { report_gnuplot(x->dir, script, "eval"); }

static int figures(const Ctx *x) {
    TRY(fig9(x));
    TRY(fig14(x));
    for (int s = 0; s < x->nscales; s++) TRY(fig13(x, x->scales[s]));
    if (!x->o->figures) return 0;
    run_gnuplot(x, "fig9.gp");
    run_gnuplot(x, "fig14.gp");
    for (int s = 0; s < x->nscales; s++) {
        char name[64];
        snprintf(name, sizeof name, "fig13_x%d.gp", x->scales[s]);
        run_gnuplot(x, name);
    }
    return 0;
}

int report_write(const EvalResult *r, const char *outdir, const ReportOpts *o) {
    Ctx x;
    ctx_init(&x, r, o, outdir);
    if (x.hr < 0) return rn_fail("report: no hr method among the results (tables are normalised to HR)");
    TRY(report_mkdirs(outdir));
    TRY(table2(&x));
    TRY(table3(&x));
    TRY(table4(&x));
    TRY(table5(&x));
    if (o->boot_reps > 0) TRY(diffs(&x));
    TRY(results_json(&x));
    return figures(&x);
}
