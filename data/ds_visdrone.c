/* ds_visdrone.c: VisDrone-DET annotations ("left,top,w,h,score,category,truncation,occlusion") -> boxes. */
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

static const char *const VD_CLASSES[10] = {"pedestrian", "people", "bicycle", "car", "van",
                                           "truck",      "tricycle", "awning-tricycle", "bus", "motor"};

/* Splits at commas into integer fields; a trailing comma (present in some published files) is
 * tolerated. */
static int parse_fields(char *line, const char *name, int lineno, long f[8]) {
    int nf = 0;
    char *p = line;
    for (;;) {
        char *end;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p && nf == 8) break; /* "...,0," */
        if (nf == 8) return rn_fail("%s:%d: more than 8 fields", name, lineno);
        f[nf] = strtol(p, &end, 10);
        if (end == p) return rn_fail("%s:%d: field %d is not an integer", name, lineno, nf + 1);
        nf++;
        while (*end == ' ' || *end == '\t') end++;
        if (!*end) break;
        if (*end != ',') return rn_fail("%s:%d: field %d is not an integer", name, lineno, nf);
        p = end + 1;
    }
    if (nf != 8)
        return rn_fail("%s:%d: expected 8 fields \"left,top,w,h,score,category,truncation,occlusion\", found %d", name,
                       lineno, nf);
    return 0;
}

static int parse_visdrone_line(char *line, const char *name, int lineno, Box *b) {
    long f[8];
    TRY(parse_fields(line, name, lineno, f));
    if (f[2] < 0 || f[3] < 0 || labs(f[0]) > 1000000 || labs(f[1]) > 1000000 || f[2] > 1000000 || f[3] > 1000000)
        return rn_fail("%s:%d: box %ld,%ld %ldx%ld is out of range", name, lineno, f[0], f[1], f[2], f[3]);
    if (f[5] < 0 || f[5] > 11) return rn_fail("%s:%d: category %ld not in 0..11", name, lineno, f[5]);
    /* 0 = ignored region, 11 = "others": the VisDrone toolkit drops detections inside both */
    bool ign = f[5] == 0 || f[5] == 11;
    *b = (Box){ign ? -1 : (int)f[5] - 1, (float)f[0], (float)f[1], (float)(f[0] + f[2]), (float)(f[1] + f[3]), ign};
    return 0;
}

int visdrone_parse(const char *text, size_t len, const char *name, Box **boxes, int *n) {
    char line[512];
    size_t pos = 0;
    int rc, lineno = 0, cap = 0;
    *boxes = NULL;
    *n = 0;
    while ((rc = text_line(text, len, &pos, line, sizeof line, name, ++lineno)) > 0) {
        if (!line[strspn(line, " \t")]) continue; /* blank line */
        Box b;
        if ((rc = parse_visdrone_line(line, name, lineno, &b)) < 0) break;
        box_push(boxes, n, &cap, b);
    }
    if (rc < 0) {
        free(*boxes);
        *boxes = NULL;
        *n = 0;
    }
    return rc;
}

static int load_boxes(Sample *s, const char *ann) {
    char *text;
    size_t len;
    TRY(read_text_file(ann, &text, &len));
    int rc = visdrone_parse(text, len, ann, &s->boxes, &s->nboxes);
    free(text);
    return rc;
}

/* ANN_DIR/STEM.txt for image STEM.jpg, or for PREFIX_STEM.jpg (images renamed with a prefix):
 * drops leading '_'-separated parts until a file matches. NULL when none does. */
static char *find_annotation(const char *ann_dir, const char *img) {
    char stem[512];
    const char *dot = strrchr(img, '.');
    snprintf(stem, sizeof stem, "%.*s.txt", (int)(dot ? dot - img : (long)strlen(img)), img);
    for (const char *p = stem; p;) {
        char *ann = path_join(ann_dir, p);
        if (path_exists(ann)) return ann;
        free(ann);
        p = strchr(p, '_');
        if (p) p++;
    }
    return NULL;
}

static int add_images(Dataset *ds, const char *img_dir, const char *ann_dir) {
    char **imgs;
    int n, rc = 0;
    TRY(list_dir(img_dir, ".jpg,.jpeg,.png", &imgs, &n));
    for (int i = 0; rc == 0 && i < n; i++) {
        char *ann = find_annotation(ann_dir, imgs[i]);
        if (!ann) continue; /* an image without annotations is not a DET sample */
        char *frame = path_join(img_dir, imgs[i]);
        Sample *s = dataset_add(ds, frame);
        free(frame);
        s->index = ds->n - 1;
        rc = load_boxes(s, ann);
        free(ann);
    }
    free_names(imgs, n);
    if (rc == 0 && ds->n == 0) rc = rn_fail("%s: no image has an annotation file in %s", img_dir, ann_dir);
    return rc;
}

static int add_annotations(Dataset *ds, const char *ann_dir) {
    char **names;
    int n, rc = 0;
    TRY(list_dir(ann_dir, ".txt", &names, &n));
    for (int i = 0; rc == 0 && i < n; i++) {
        char *ann = path_join(ann_dir, names[i]);
        Sample *s = dataset_add(ds, NULL);
        s->index = i;
        rc = load_boxes(s, ann);
        free(ann);
    }
    free_names(names, n);
    return rc;
}

int ds_visdrone(const char *img_dir, const char *ann_dir, Dataset *out) {
    dataset_init(out, img_dir ? img_dir : ann_dir);
    dataset_set_classes(out, VD_CLASSES, 10);
    int rc = img_dir ? add_images(out, img_dir, ann_dir) : add_annotations(out, ann_dir);
    if (rc < 0) dataset_free(out);
    return rc;
}
