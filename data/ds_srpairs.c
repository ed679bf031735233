/* ds_srpairs.c: super-resolution HR/LR pairs (SelfExSR's NAME_HR.png + NAME_LR.png, or HR/ and LR/ folders). */
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

/* Pair i: HR path hr (copied) with LR path lr (taken over), whose file must exist. */
static int add_pair(Dataset *ds, const char *hr, char *lr, int i) {
    Sample *s = dataset_add(ds, hr);
    s->lr = lr;
    s->index = i;
    return path_exists(lr) ? 0 : rn_fail("%s: LR partner %s missing", hr, lr);
}

/* One folder of NAME_HR.EXT files, each with NAME_LR.EXT beside it. */
static int add_suffix_pairs(Dataset *ds, const char *dir) {
    char **names;
    int n, rc = 0;
    TRY(list_dir(dir, "_HR.png,_HR.jpg", &names, &n));
    for (int i = 0; rc == 0 && i < n; i++) {
        char *hr = path_join(dir, names[i]);
        char *lr = xstrdup(hr);
        memcpy(strrchr(lr, '_'), "_LR", 3); /* the suffix filter guarantees "_HR." is there */
        rc = add_pair(ds, hr, lr, i);
        free(hr);
    }
    free_names(names, n);
    return rc;
}

/* DIR/HR/X and DIR/LR/X with the same names. */
static int add_folder_pairs(Dataset *ds, const char *hr_dir, const char *lr_dir) {
    char **names;
    int n, rc = 0;
    TRY(list_dir(hr_dir, ".png,.jpg,.jpeg", &names, &n));
    for (int i = 0; rc == 0 && i < n; i++) {
        char *hr = path_join(hr_dir, names[i]), *lr = path_join(lr_dir, names[i]);
        rc = add_pair(ds, hr, lr, i);
        free(hr);
    }
    free_names(names, n);
    return rc;
}

int ds_srpairs(const char *dir, int scale, Dataset *out) {
    if (scale < 1) return rn_fail("%s: SR scale %d must be >= 1", dir, scale);
    char sub[32];
    snprintf(sub, sizeof sub, "image_SRF_%d", scale);
    char *srf = path_join(dir, sub), *hr = path_join(dir, "HR"), *lr = path_join(dir, "LR");
    dataset_init(out, dir);
    out->scale = scale;
    int rc;
    if (is_dir(srf)) rc = add_suffix_pairs(out, srf);
    else if (is_dir(hr) && is_dir(lr)) rc = add_folder_pairs(out, hr, lr);
    else rc = add_suffix_pairs(out, dir);
    if (rc == 0 && out->n == 0) rc = rn_fail("%s: no HR/LR pairs (want %s/, HR/ + LR/, or *_HR.png files)", dir, sub);
    free(srf);
    free(hr);
    free(lr);
    if (rc < 0) dataset_free(out);
    return rc;
}
