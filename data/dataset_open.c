/* dataset_open.c: the one door to the datasets — a root folder opened by kind (camvid, cityscapes, frames, yolo, coco, visdrone) and split. */
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

static bool no_split(const char *split) { return !split || !*split || !strcmp(split, "all"); }

/* DIR/images if it exists, else DIR. */
static char *image_dir(const char *root) {
    char *p = path_join(root, "images");
    if (is_dir(p)) return p;
    free(p);
    return xstrdup(root);
}

/* The first file in DIR (by name) ending in one of the suffixes, or NULL. */
static char *first_with_suffix(const char *dir, const char *suffixes) {
    char **names;
    int n;
    if (list_dir(dir, suffixes, &names, &n) < 0) return NULL;
    char *p = n ? path_join(dir, names[0]) : NULL;
    free_names(names, n);
    return p;
}

/* ---- frames: a CamVid-style root or a plain folder ---- */

/* A CamVid-style root has SPLIT.txt; one with only another split's list uses that one (the
 * embedded samples ship test.txt alone); a folder without lists is a plain folder of frames. */
static int open_frames(const char *root, const char *split, Dataset *ds) {
    static const char *const splits[] = {NULL, "train", "test", "val"};
    for (int i = 0; i < 4; i++) {
        const char *s = i == 0 ? split : splits[i];
        if (!s) continue;
        char name[64];
        snprintf(name, sizeof name, "%s.txt", s);
        char *list = path_join(root, name);
        bool ok = path_exists(list);
        free(list);
        if (ok) return ds_camvid(root, s, ds);
    }
    return ds_frames(root, ds);
}

/* ---- yolo: all images, or coco128's split by name ---- */

/* Keeps samples [from, from + n) of ds (in place; the others are freed). */
static void keep_range(Dataset *ds, int from, int n) {
    for (int i = 0; i < ds->n; i++) {
        if (i >= from && i < from + n) continue;
        Sample *s = &ds->samples[i];
        free(s->frame), free(s->label), free(s->lr), free(s->boxes), free(s->seq);
    }
    memmove(ds->samples, ds->samples + from, (size_t)n * sizeof *ds->samples);
    ds->n = n;
}

static int by_frame_name(const void *a, const void *b) {
    return strcmp(((const Sample *)a)->frame, ((const Sample *)b)->frame);
}

static int split_by_name(const char *root, const char *split, Dataset *ds) {
    qsort(ds->samples, (size_t)ds->n, sizeof *ds->samples, by_frame_name); /* the split is by name */
    if (!strcmp(split, "all")) return 0;
    if (ds->n <= DET_TRAIN_IMAGES) {
        int n = ds->n;
        dataset_free(ds);
        return rn_fail("%s: %d images; the train/eval split needs more than %d", root, n, DET_TRAIN_IMAGES);
    }
    if (!strcmp(split, "train")) keep_range(ds, 0, DET_TRAIN_IMAGES);
    else keep_range(ds, DET_TRAIN_IMAGES, ds->n - DET_TRAIN_IMAGES);
    return 0;
}

static int open_yolo(const char *root, const char *split, Dataset *ds) {
    if (split && *split && strcmp(split, "train") && strcmp(split, "eval") && strcmp(split, "all"))
        return rn_fail("split %s: train, eval or all", split);
    char *img = image_dir(root), *lab = path_join(root, "labels"), *names = path_join(root, "config.yaml");
    if (!path_exists(names)) free(names), names = first_with_suffix(root, ".names,.yaml");
    int rc = ds_yolo(img, lab, names, ds);
    free(img), free(lab), free(names);
    TRY(rc);
    return split && *split ? split_by_name(root, split, ds) : 0;
}

/* ---- coco, visdrone: one annotation set each ---- */

static int open_coco(const char *root, const char *ann, Dataset *ds) {
    char *json = ann ? xstrdup(ann) : first_with_suffix(root, ".json");
    if (!json) return rn_fail("%s: no COCO .json annotation file (give --ann)", root);
    char *img = image_dir(root);
    int rc = ds_coco(json, img, ds);
    free(json), free(img);
    return rc;
}

static int open_visdrone(const char *root, const char *ann, Dataset *ds) {
    char *dir = ann ? xstrdup(ann) : path_join(root, "annotations-val");
    if (!ann && !is_dir(dir)) free(dir), dir = path_join(root, "annotations");
    char *img = image_dir(root);
    int rc = ds_visdrone(img, dir, ds);
    free(dir), free(img);
    return rc;
}

int dataset_open_ann(const char *kind, const char *root, const char *split, const char *ann, Dataset *out) {
    if (!kind || !root) return rn_fail("dataset_open: no %s given", kind ? "root folder" : "kind");
    bool coco = !strcmp(kind, "coco"), visdrone = !strcmp(kind, "visdrone");
    if (ann && *ann && !coco && !visdrone) return rn_fail("%s: an annotation path is for coco and visdrone", kind);
    if (ann && !*ann) ann = NULL;
    if ((coco || visdrone) && !no_split(split)) return rn_fail("%s %s: no split %s (one annotation set)", kind, root, split);
    bool camvid = !strcmp(kind, "camvid"), cityscapes = !strcmp(kind, "cityscapes");
    if ((camvid || cityscapes) && no_split(split)) return rn_fail("%s %s: give a split (train, val or test)", kind, root);
    if (camvid) return ds_camvid(root, split, out);
    if (cityscapes) return ds_cityscapes(root, split, out);
    if (!strcmp(kind, "frames")) return open_frames(root, split, out);
    if (!strcmp(kind, "yolo")) return open_yolo(root, split, out);
    if (coco) return open_coco(root, ann, out);
    if (visdrone) return open_visdrone(root, ann, out);
    return rn_fail("unknown dataset kind '%s' (camvid, cityscapes, frames, yolo, coco or visdrone)", kind);
}

int dataset_open(const char *kind, const char *root, const char *split, Dataset *out) {
    return dataset_open_ann(kind, root, split, NULL, out);
}
