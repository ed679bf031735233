/* ds_coco.c: COCO detection annotations (JSON, read with jansson) -> samples with pixel boxes, contiguous class ids. */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

/* Messages name a value by its place in the file ("annotations[12]"): jansson keeps no line
 * numbers per value, and COCO ships its files on one line, where a line number says nothing. */
typedef struct {
    const char *name; /* the file */
    const char *arr;  /* "categories", "images", "annotations" */
    size_t i;         /* the element */
} At;

typedef struct {
    long id;
    int idx;
} IdMap; /* COCO id -> our index, sorted by id for bsearch */

static int cmp_id(const void *a, const void *b) {
    long x = ((const IdMap *)a)->id, y = ((const IdMap *)b)->id;
    return (x > y) - (x < y);
}

static int find_id(const IdMap *m, int n, long id) {
    IdMap key = {id, 0};
    const IdMap *hit = bsearch(&key, m, (size_t)n, sizeof *m, cmp_id);
    return hit ? hit->idx : -1;
}

/* An integer-valued number member (1 and 1.0 alike, as COCO writers differ); -1 naming the place otherwise. */
static int get_int(const json_t *obj, const char *key, At at, long *out) {
    const json_t *v = json_object_get(obj, key);
    double x = json_number_value(v); /* 0 for a non-number, rejected below */
    if (!json_is_number(v) || x != floor(x) || fabs(x) > 2e9)
        return rn_fail("%s: %s[%zu]: needs an integer \"%s\"", at.name, at.arr, at.i, key);
    *out = (long)x;
    return 0;
}

/* The element of a top-level array, which must be an object. */
static const json_t *element(const json_t *arr, At at, const char *what) {
    const json_t *e = json_array_get(arr, at.i);
    if (!json_is_object(e)) rn_fail("%s: %s[%zu]: %s is not an object", at.name, at.arr, at.i, what);
    return json_is_object(e) ? e : NULL;
}

/* Categories sorted by id become classes 0..K-1 (COCO's 80 ids run 1..90 with gaps). */
static int read_categories(const json_t *cats, const char *name, Dataset *ds, IdMap **map) {
    int n = (int)json_array_size(cats);
    IdMap *m = xcalloc((size_t)n + 1, sizeof *m);
    *map = m;
    for (int i = 0; i < n; i++) {
        At at = {name, "categories", (size_t)i};
        const json_t *c = element(cats, at, "category");
        if (!c) return -1;
        TRY(get_int(c, "id", at, &m[i].id));
        m[i].idx = i;
    }
    qsort(m, (size_t)n, sizeof *m, cmp_id);
    ds->class_names = xcalloc((size_t)n + 1, sizeof *ds->class_names);
    ds->class_ids = xcalloc((size_t)n + 1, sizeof *ds->class_ids); /* results files name classes by these */
    for (int k = 0; k < n; k++) {
        At at = {name, "categories", (size_t)m[k].idx};
        if (k && m[k].id == m[k - 1].id)
            return rn_fail("%s: %s[%zu]: duplicate category id %ld", name, at.arr, at.i, m[k].id);
        const char *nm = json_string_value(json_object_get(json_array_get(cats, at.i), "name"));
        if (!nm) return rn_fail("%s: %s[%zu]: category %ld has no \"name\" string", name, at.arr, at.i, m[k].id);
        ds->class_names[k] = xstrdup(nm);
        ds->class_ids[k] = m[k].id;
        ds->nclasses = k + 1;
        m[k].idx = k;
    }
    return 0;
}

/* One image: a sample at IMG_DIR/file_name; width and height are optional (0: probe the file). */
static int read_image(const json_t *im, At at, const char *img_dir, Dataset *ds, IdMap *m) {
    const char *fn = json_string_value(json_object_get(im, "file_name"));
    if (!fn || !fn[0]) return rn_fail("%s: %s[%zu]: image has no \"file_name\" string", at.name, at.arr, at.i);
    long id = 0, w = 0, h = 0;
    TRY(get_int(im, "id", at, &id));
    if (json_object_get(im, "width")) TRY(get_int(im, "width", at, &w));
    if (json_object_get(im, "height")) TRY(get_int(im, "height", at, &h));
    if (w < 0 || h < 0) return rn_fail("%s: %s[%zu]: image %ld has size %ldx%ld", at.name, at.arr, at.i, id, w, h);
    char *path = path_join(img_dir, fn);
    Sample *s = dataset_add(ds, path);
    free(path);
    s->w = (int)w;
    s->h = (int)h;
    s->index = (int)at.i;
    s->id = id;
    *m = (IdMap){id, (int)at.i};
    return 0;
}

static int read_images(const json_t *imgs, const char *name, const char *img_dir, Dataset *ds, IdMap **map) {
    int n = (int)json_array_size(imgs);
    IdMap *m = xcalloc((size_t)n + 1, sizeof *m);
    *map = m;
    for (int i = 0; i < n; i++) {
        At at = {name, "images", (size_t)i};
        const json_t *im = element(imgs, at, "image");
        if (!im) return -1;
        TRY(read_image(im, at, img_dir, ds, &m[i]));
    }
    qsort(m, (size_t)n, sizeof *m, cmp_id);
    for (int k = 1; k < n; k++)
        if (m[k].id == m[k - 1].id) return rn_fail("%s: duplicate image id %ld", name, m[k].id);
    return 0;
}

/* "bbox": [x, y, w, h] in pixels, finite, w and h >= 0. */
static int read_bbox(const json_t *a, At at, double v[4]) {
    const json_t *bb = json_object_get(a, "bbox");
    if (!json_is_array(bb) || json_array_size(bb) != 4)
        return rn_fail("%s: %s[%zu]: annotation needs \"bbox\": [x, y, w, h]", at.name, at.arr, at.i);
    for (size_t k = 0; k < 4; k++) {
        const json_t *x = json_array_get(bb, k);
        if (!json_is_number(x) || !isfinite(json_number_value(x)))
            return rn_fail("%s: %s[%zu]: bbox element %zu is not a number", at.name, at.arr, at.i, k);
        v[k] = json_number_value(x);
    }
    if (v[2] < 0 || v[3] < 0)
        return rn_fail("%s: %s[%zu]: bbox has negative size %gx%g", at.name, at.arr, at.i, v[2], v[3]);
    return 0;
}

/* bbox [x, y, w, h] in pixels -> corner box; iscrowd regions are kept as ignore boxes. */
static int read_annotation(const json_t *anns, At at, const IdMap *imap, const IdMap *cmap, Dataset *ds, int *caps) {
    const json_t *a = element(anns, at, "annotation");
    if (!a) return -1;
    long img_id = 0, cat_id = 0, crowd = 0;
    TRY(get_int(a, "image_id", at, &img_id));
    TRY(get_int(a, "category_id", at, &cat_id));
    if (json_object_get(a, "iscrowd")) TRY(get_int(a, "iscrowd", at, &crowd));
    int si = find_id(imap, ds->n, img_id), cls = find_id(cmap, ds->nclasses, cat_id);
    if (si < 0) return rn_fail("%s: %s[%zu]: annotation refers to unknown image id %ld", at.name, at.arr, at.i, img_id);
    if (cls < 0)
        return rn_fail("%s: %s[%zu]: annotation refers to unknown category id %ld", at.name, at.arr, at.i, cat_id);
    double v[4];
    TRY(read_bbox(a, at, v));
    Box b = {cls, (float)v[0], (float)v[1], (float)(v[0] + v[2]), (float)(v[1] + v[3]), crowd != 0};
    if (!isfinite(b.x0) || !isfinite(b.y0) || !isfinite(b.x1) || !isfinite(b.y1)) /* finite doubles, not floats */
        return rn_fail("%s: %s[%zu]: bbox [%g, %g, %g, %g] is out of range", at.name, at.arr, at.i, v[0], v[1], v[2], v[3]);
    Sample *s = &ds->samples[si];
    box_push(&s->boxes, &s->nboxes, &caps[si], b);
    return 0;
}

/* A top-level array member; NULL with a message when missing, not an array, or too long for int counts. */
static const json_t *get_array(const json_t *root, const char *key, const char *name) {
    const json_t *a = json_object_get(root, key);
    if (!json_is_array(a)) rn_fail("%s: top-level \"%s\" array missing", name, key);
    else if (json_array_size(a) > INT_MAX / 2) rn_fail("%s: \"%s\" has too many elements", name, key);
    else return a;
    return NULL;
}

static int coco_build(const json_t *root, const char *name, const char *img_dir, Dataset *ds, IdMap **cmap,
                      IdMap **imap, int **caps) {
    if (!json_is_object(root)) return rn_fail("%s: top level is not an object", name);
    const json_t *cats = get_array(root, "categories", name), *imgs, *anns;
    if (!cats || !(imgs = get_array(root, "images", name)) || !(anns = get_array(root, "annotations", name)))
        return -1;
    TRY(read_categories(cats, name, ds, cmap));
    TRY(read_images(imgs, name, img_dir, ds, imap));
    *caps = xcalloc((size_t)ds->n + 1, sizeof **caps);
    for (size_t i = 0; i < json_array_size(anns); i++)
        TRY(read_annotation(anns, (At){name, "annotations", i}, *imap, *cmap, ds, *caps));
    return 0;
}

/* Strict RFC 8259 (jansson): malformed text fails with "NAME:LINE:COLUMN: malformed JSON: why". */
static json_t *parse(const char *text, size_t len, const char *name) {
    json_error_t e;
    json_t *root = json_loadb(text, len, 0, &e);
    if (!root) rn_fail("%s:%d:%d: malformed JSON: %s", name, e.line, e.column, e.text);
    return root;
}

int coco_parse(const char *text, size_t len, const char *name, const char *img_dir, Dataset *out) {
    json_t *root = parse(text, len, name);
    if (!root) return -1;
    dataset_init(out, name);
    IdMap *cmap = NULL, *imap = NULL;
    int *caps = NULL;
    int rc = coco_build(root, name, img_dir, out, &cmap, &imap, &caps);
    free(cmap);
    free(imap);
    free(caps);
    json_decref(root);
    if (rc < 0) dataset_free(out);
    return rc;
}

int ds_coco(const char *json_path, const char *img_dir, Dataset *out) {
    char *text;
    size_t len;
    TRY(read_text_file(json_path, &text, &len));
    int rc = coco_parse(text, len, json_path, img_dir, out);
    free(text);
    return rc;
}
