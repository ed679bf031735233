/* ds_yolo.c: YOLO txt labels ("cls cx cy w h", normalised) -> pixel boxes, with class names from .names/.yaml. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

#define MAX_LINE 1024

static bool blank(const char *s) {
    while (isspace((unsigned char)*s)) s++;
    return !*s;
}

/* "cls cx cy w h": an integer class and four numbers in [0, 1]. */
static int parse_yolo_line(char *line, const char *name, int lineno, int nclasses, long *cls, double v[4]) {
    char *tok[6], *save = NULL;
    int nt = 0;
    for (char *t = strtok_r(line, " \t", &save); t && nt < 6; t = strtok_r(NULL, " \t", &save)) tok[nt++] = t;
    if (nt != 5) return rn_fail("%s:%d: expected 5 fields \"cls cx cy w h\", found %s", name, lineno, nt > 5 ? "more" : "fewer");
    char *end;
    *cls = strtol(tok[0], &end, 10);
    if (*end || end == tok[0] || *cls < 0 || *cls > 100000)
        return rn_fail("%s:%d: class \"%s\" is not a non-negative integer", name, lineno, tok[0]);
    if (nclasses > 0 && *cls >= nclasses)
        return rn_fail("%s:%d: class %ld out of range (%d classes)", name, lineno, *cls, nclasses);
    for (int k = 0; k < 4; k++) {
        v[k] = strtod(tok[k + 1], &end);
        if (*end || end == tok[k + 1] || !isfinite(v[k]))
            return rn_fail("%s:%d: field %d \"%s\" is not a number", name, lineno, k + 2, tok[k + 1]);
        if (v[k] < 0 || v[k] > 1)
            return rn_fail("%s:%d: field %d = %g is not normalised to [0, 1]", name, lineno, k + 2, v[k]);
    }
    return 0;
}

static float clampf(double v, int hi) { return (float)(v < 0 ? 0 : v > hi ? hi : v); }

int yolo_parse(const char *text, size_t len, const char *name, int w, int h, int nclasses, Box **boxes, int *n) {
    RN_CHECK(w > 0 && h > 0, "image size %dx%d for %s", w, h, name);
    char line[MAX_LINE];
    size_t pos = 0;
    int rc, lineno = 0, cap = 0;
    *boxes = NULL;
    *n = 0;
    while ((rc = text_line(text, len, &pos, line, sizeof line, name, ++lineno)) > 0) {
        if (blank(line)) continue;
        long cls = 0;
        double v[4];
        if ((rc = parse_yolo_line(line, name, lineno, nclasses, &cls, v)) < 0) break;
        Box b = {(int)cls, clampf((v[0] - v[2] / 2) * w, w), clampf((v[1] - v[3] / 2) * h, h),
                 clampf((v[0] + v[2] / 2) * w, w), clampf((v[1] + v[3] / 2) * h, h), false};
        box_push(boxes, n, &cap, b);
    }
    if (rc < 0) {
        free(*boxes);
        *boxes = NULL;
        *n = 0;
    }
    return rc;
}

/* Class names: a YOLO .yaml `names:` block ("  0: person" lines) or one name per line. */
static int read_names(const char *path, Dataset *ds) {
    char *text;
    size_t len, pos = 0;
    TRY(read_text_file(path, &text, &len));
    size_t pl = strlen(path);
    bool yaml = pl > 5 && (strcmp(path + pl - 5, ".yaml") == 0 || strcmp(path + pl - 4, ".yml") == 0);
    bool in_names = !yaml;
    char line[MAX_LINE];
    int rc, lineno = 0, cap = 0;
    while ((rc = text_line(text, len, &pos, line, sizeof line, path, ++lineno)) > 0) {
        if (blank(line)) continue;
        char *nm = line;
        if (yaml) {
            if (strncmp(line, "names:", 6) == 0) { in_names = true; continue; }
            if (!in_names) continue;
            if (!isspace((unsigned char)line[0])) break; /* the next top-level key ends the block */
            char *end;
            long id = strtol(line, &end, 10);
            while (*end == ' ') end++;
            if (end == line || *end != ':' || id != ds->nclasses) {
                rc = rn_fail("%s:%d: expected \"  %d: name\" in the names block", path, lineno, ds->nclasses);
                break;
            }
            char *colon = end;
            nm = colon + 1;
        }
        while (isspace((unsigned char)*nm)) nm++;
        for (char *e = nm + strlen(nm); e > nm && isspace((unsigned char)e[-1]);) *--e = 0;
        size_t nl = strlen(nm);
        if (nl >= 2 && (nm[0] == '\'' || nm[0] == '"') && nm[nl - 1] == nm[0]) { /* YAML quotes */
            nm[nl - 1] = 0;
            nm++;
        }
        if (ds->nclasses == cap) ds->class_names = xrealloc(ds->class_names, (size_t)(cap = cap ? 2 * cap : 128) * sizeof(char *));
        ds->class_names[ds->nclasses++] = xstrdup(nm);
    }
    free(text);
    if (rc == 0 && ds->nclasses == 0) rc = rn_fail("%s: no class names found", path);
    return rc < 0 ? -1 : 0;
}

static int add_image(Dataset *ds, const char *img_dir, const char *label_dir, const char *img, int nclasses) {
    char *frame = path_join(img_dir, img);
    Sample *s = dataset_add(ds, frame);
    free(frame);
    s->index = ds->n - 1;
    TRY(image_probe(s->frame, &s->w, &s->h));
    const char *dot = strrchr(img, '.');
    char stem[512];
    snprintf(stem, sizeof stem, "%.*s.txt", (int)(dot - img), img);
    char *lab = path_join(label_dir, stem), *text = NULL;
    size_t len;
    int rc = 0;
    if (path_exists(lab)) { /* no label file = an image with no objects (YOLO's convention) */
        rc = read_text_file(lab, &text, &len);
        if (rc == 0) rc = yolo_parse(text, len, lab, s->w, s->h, nclasses, &s->boxes, &s->nboxes);
        free(text);
    }
    free(lab);
    return rc;
}

int ds_yolo(const char *img_dir, const char *label_dir, const char *names, Dataset *out) {
    char **imgs;
    int n;
    TRY(list_dir(img_dir, ".jpg,.jpeg,.png", &imgs, &n));
    dataset_init(out, img_dir);
    int rc = names ? read_names(names, out) : 0;
    for (int i = 0; rc == 0 && i < n; i++) rc = add_image(out, img_dir, label_dir, imgs[i], out->nclasses);
    free_names(imgs, n);
    if (rc == 0 && !names) { /* classes named by number, as many as the largest id + 1 */
        int k = 0;
        for (int i = 0; i < out->n; i++)
            for (int b = 0; b < out->samples[i].nboxes; b++)
                if (out->samples[i].boxes[b].cls >= k) k = out->samples[i].boxes[b].cls + 1;
        out->class_names = xcalloc((size_t)k + 1, sizeof(char *));
        for (out->nclasses = 0; out->nclasses < k; out->nclasses++) {
            char nm[16];
            snprintf(nm, sizeof nm, "%d", out->nclasses);
            out->class_names[out->nclasses] = xstrdup(nm);
        }
    }
    if (rc < 0) dataset_free(out);
    return rc;
}
