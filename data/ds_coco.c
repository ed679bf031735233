/* ds_coco.c: COCO detection annotations (JSON) -> samples with pixel boxes, contiguous class ids. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"
#include "util/json.h"

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

/* An integer-valued number member; -1 with a message naming file and line otherwise. */
static int get_int(const Json *obj, const char *key, const char *name, const char *what, long *out) {
    const Json *v = json_get(obj, key);
    if (!v || v->type != JSON_NUM || v->num != floor(v->num) || fabs(v->num) > 2e9)
        return rn_fail("%s:%d: %s needs an integer \"%s\"", name, obj->line, what, key);
    *out = (long)v->num;
    return 0;
}

static const Json *get_array(const Json *root, const char *key, const char *name) {
    const Json *a = json_get_type(root, key, JSON_ARR);
    if (!a) rn_fail("%s:%d: top-level \"%s\" array missing", name, root->line, key);
    return a;
}

/* Categories sorted by id become classes 0..K-1 (COCO's 80 ids run 1..90 with gaps). */
static int read_categories(const Json *cats, const char *name, Dataset *ds, IdMap **map) {
    IdMap *m = xcalloc((size_t)cats->n + 1, sizeof *m);
    *map = m;
    for (int i = 0; i < cats->n; i++) {
        const Json *c = &cats->items[i];
        if (c->type != JSON_OBJ) return rn_fail("%s:%d: category %d is not an object", name, c->line, i);
        TRY(get_int(c, "id", name, "category", &m[i].id));
        m[i].idx = i;
    }
    qsort(m, (size_t)cats->n, sizeof *m, cmp_id);
    ds->class_names = xcalloc((size_t)cats->n + 1, sizeof *ds->class_names);
    for (int k = 0; k < cats->n; k++) {
        const Json *c = &cats->items[m[k].idx];
        if (k && m[k].id == m[k - 1].id) return rn_fail("%s:%d: duplicate category id %ld", name, c->line, m[k].id);
        const Json *nm = json_get_type(c, "name", JSON_STR);
        if (!nm) return rn_fail("%s:%d: category %ld has no \"name\" string", name, c->line, m[k].id);
        ds->class_names[k] = xstrdup(nm->str);
        ds->nclasses = k + 1;
        m[k].idx = k;
    }
    return 0;
}

static int read_images(const Json *imgs, const char *name, const char *img_dir, Dataset *ds, IdMap **map) {
    IdMap *m = xcalloc((size_t)imgs->n + 1, sizeof *m);
    *map = m;
    for (int i = 0; i < imgs->n; i++) {
        const Json *im = &imgs->items[i];
        if (im->type != JSON_OBJ) return rn_fail("%s:%d: image %d is not an object", name, im->line, i);
        const Json *fn = json_get_type(im, "file_name", JSON_STR);
        if (!fn || !fn->str[0]) return rn_fail("%s:%d: image %d has no \"file_name\" string", name, im->line, i);
        long id = 0, w = 0, h = 0;
        TRY(get_int(im, "id", name, "image", &id));
        if (json_get(im, "width")) TRY(get_int(im, "width", name, "image", &w));
        if (json_get(im, "height")) TRY(get_int(im, "height", name, "image", &h));
        if (w < 0 || h < 0) return rn_fail("%s:%d: image %ld has size %ldx%ld", name, im->line, id, w, h);
        char *path = path_join(img_dir, fn->str);
        Sample *s = dataset_add(ds, path);
        free(path);
        s->w = (int)w;
        s->h = (int)h;
        s->index = i;
        m[i] = (IdMap){id, i};
    }
    qsort(m, (size_t)imgs->n, sizeof *m, cmp_id);
    for (int k = 1; k < imgs->n; k++)
        if (m[k].id == m[k - 1].id) return rn_fail("%s: duplicate image id %ld", name, m[k].id);
    return 0;
}

/* bbox [x, y, w, h] in pixels -> corner box; iscrowd regions are kept as ignore boxes. */
static int read_annotation(const Json *a, const char *name, const IdMap *imap, int nimg, const IdMap *cmap,
                           int ncat, Dataset *ds, int *caps) {
    if (a->type != JSON_OBJ) return rn_fail("%s:%d: annotation is not an object", name, a->line);
    long img_id = 0, cat_id = 0, crowd = 0;
    TRY(get_int(a, "image_id", name, "annotation", &img_id));
    TRY(get_int(a, "category_id", name, "annotation", &cat_id));
    if (json_get(a, "iscrowd")) TRY(get_int(a, "iscrowd", name, "annotation", &crowd));
    int si = find_id(imap, nimg, img_id), cls = find_id(cmap, ncat, cat_id);
    if (si < 0) return rn_fail("%s:%d: annotation refers to unknown image id %ld", name, a->line, img_id);
    if (cls < 0) return rn_fail("%s:%d: annotation refers to unknown category id %ld", name, a->line, cat_id);
    const Json *bb = json_get_type(a, "bbox", JSON_ARR);
    if (!bb || bb->n != 4) return rn_fail("%s:%d: annotation needs \"bbox\": [x, y, w, h]", name, a->line);
    double v[4];
    for (int k = 0; k < 4; k++) {
        if (bb->items[k].type != JSON_NUM || !isfinite(bb->items[k].num))
            return rn_fail("%s:%d: bbox element %d is not a number", name, bb->line, k);
        v[k] = bb->items[k].num;
    }
    if (v[2] < 0 || v[3] < 0) return rn_fail("%s:%d: bbox has negative size %gx%g", name, bb->line, v[2], v[3]);
    Sample *s = &ds->samples[si];
    Box b = {cls, (float)v[0], (float)v[1], (float)(v[0] + v[2]), (float)(v[1] + v[3]), crowd != 0};
    box_push(&s->boxes, &s->nboxes, &caps[si], b);
    return 0;
}

static int coco_build(const Json *root, const char *name, const char *img_dir, Dataset *ds, IdMap **cmap,
                      IdMap **imap, int **caps) {
    if (root->type != JSON_OBJ) return rn_fail("%s:%d: top level is not an object", name, root->line);
    const Json *cats = get_array(root, "categories", name), *imgs, *anns;
    if (!cats || !(imgs = get_array(root, "images", name)) || !(anns = get_array(root, "annotations", name)))
        return -1;
    TRY(read_categories(cats, name, ds, cmap));
    TRY(read_images(imgs, name, img_dir, ds, imap));
    *caps = xcalloc((size_t)ds->n + 1, sizeof **caps);
    for (int i = 0; i < anns->n; i++)
        TRY(read_annotation(&anns->items[i], name, *imap, imgs->n, *cmap, cats->n, ds, *caps));
    return 0;
}

int coco_parse(const char *text, size_t len, const char *name, const char *img_dir, Dataset *out) {
    Json *root = json_parse(text, len, name);
    if (!root) return -1;
    dataset_init(out, name);
    IdMap *cmap = NULL, *imap = NULL;
    int *caps = NULL;
    int rc = coco_build(root, name, img_dir, out, &cmap, &imap, &caps);
    free(cmap);
    free(imap);
    free(caps);
    json_free(root);
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
