/* ds_cityscapes.c: Cityscapes fine annotations (leftImg8bit + gtFine labelIds -> the 19 train ids). */
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

static const char *const CS_CLASSES[19] = {"road",  "sidewalk",      "building",     "wall",       "fence",
                                           "pole",  "traffic light", "traffic sign", "vegetation", "terrain",
                                           "sky",   "person",        "rider",        "car",        "truck",
                                           "bus",   "train",         "motorcycle",   "bicycle"};

/* The standard table (cityscapesScripts labels.py): labelId -> trainId for the 19 evaluated
 * classes; every other id (unlabeled, ego vehicle, ..., guard rail, caravan, trailer) is ignored. */
static const struct { int id, train; } CS_TRAIN_IDS[19] = {
    {7, 0},   {8, 1},   {11, 2},  {12, 3},  {13, 4},  {17, 5},  {19, 6},  {20, 7},  {21, 8},  {22, 9},
    {23, 10}, {24, 11}, {25, 12}, {26, 13}, {27, 14}, {28, 15}, {31, 16}, {32, 17}, {33, 18},
};

static const char IMG_SUFFIX[] = "_leftImg8bit.png";
static const char LAB_SUFFIX[] = "_gtFine_labelIds.png";

/* Adds the frames of one city folder; the label is required except for the test split, whose
 * public labels are all-void anyway. */
static int add_city(Dataset *ds, const char *root, const char *split, const char *city) {
    char rel[512];
    snprintf(rel, sizeof rel, "leftImg8bit/%s/%s", split, city);
    char *idir = path_join(root, rel), **names = NULL;
    snprintf(rel, sizeof rel, "gtFine/%s/%s", split, city);
    char *ldir = path_join(root, rel);
    int n = 0, rc = list_dir(idir, IMG_SUFFIX, &names, &n);
    for (int i = 0; rc == 0 && i < n; i++) {
        size_t stem = strlen(names[i]) - (sizeof IMG_SUFFIX - 1);
        char lab[600], *frame = path_join(idir, names[i]);
        snprintf(lab, sizeof lab, "%s/%.*s%s", ldir, (int)stem, names[i], LAB_SUFFIX);
        Sample *s = dataset_add(ds, frame);
        free(frame);
        names[i][stem] = 0; /* "aachen_000000_000019": sequence aachen_000000, frame 19 */
        if (!parse_seq_frame(names[i], &s->seq, &s->index))
            rc = rn_fail("%s/%s%s: not CITY_SEQ_FRAME", idir, names[i], IMG_SUFFIX);
        if (path_exists(lab)) s->label = xstrdup(lab);
        else if (strcmp(split, "test") != 0) rc = rn_fail("%s: label map missing for %s", lab, s->frame);
    }
    free_names(names, n);
    free(idir);
    free(ldir);
    return rc;
}

int ds_cityscapes(const char *root, const char *split, Dataset *out) {
    char rel[256], name[96];
    snprintf(rel, sizeof rel, "leftImg8bit/%s", split);
    snprintf(name, sizeof name, "cityscapes/%s", split);
    char *dir = path_join(root, rel), **cities;
    int nc;
    if (list_dir(dir, "", &cities, &nc) < 0) {
        free(dir);
        return -1;
    }
    dataset_init(out, name);
    dataset_set_classes(out, CS_CLASSES, 19);
    memset(out->label_lut, DS_IGNORE, sizeof out->label_lut);
    for (int k = 0; k < 19; k++) out->label_lut[CS_TRAIN_IDS[k].id] = (uint8_t)CS_TRAIN_IDS[k].train;
    int rc = 0;
    for (int c = 0; rc == 0 && c < nc; c++) rc = add_city(out, root, split, cities[c]);
    free_names(cities, nc);
    free(dir);
    if (rc == 0 && out->n == 0) rc = rn_fail("%s/%s: no *%s frames", root, rel, IMG_SUFFIX);
    if (rc < 0) {
        dataset_free(out);
        return -1;
    }
    dataset_sort_time(out);
    return 0;
}
