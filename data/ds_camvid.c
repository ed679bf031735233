/* ds_camvid.c: CamVid in the SegNet layout (split .txt of image/label pairs), 11 classes, void -> ignore. */
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

static const char *const CAMVID_CLASSES[11] = {"Sky",        "Building", "Pole", "Road",       "Pavement", "Tree",
                                               "SignSymbol", "Fence",    "Car",  "Pedestrian", "Bicyclist"};

/* A path from the list, relative to ROOT. SegNet's own lists hold absolute paths of the authors'
 * machine (/SegNet/CamVid/train/x.png): when such a path is absent, its last two components
 * (folder/file) are taken relative to ROOT instead. */
static char *resolve(const char *root, const char *p) {
    if (p[0] != '/') return path_join(root, p);
    if (path_exists(p)) return xstrdup(p);
    const char *q = strrchr(p, '/');
    while (q > p && q[-1] != '/') q--; /* back to the start of the folder component */
    return path_join(root, q);
}

static int add_line(Dataset *ds, const char *root, const char *list, int lineno, char *line) {
    char *save = NULL;
    char *img = strtok_r(line, " \t\r", &save);
    if (!img) return 0; /* blank line */
    char *lab = strtok_r(NULL, " \t\r", &save);
    if (!lab || strtok_r(NULL, " \t\r", &save))
        return rn_fail("%s:%d: expected \"image label\" (two paths)", list, lineno);
    char *frame = resolve(root, img);
    Sample *s = dataset_add(ds, frame);
    free(frame);
    s->label = resolve(root, lab);
    if (!parse_seq_frame(img, &s->seq, &s->index))
        return rn_fail("%s:%d: image name %s is not SEQ_FRAME", list, lineno, img);
    return 0;
}

int ds_camvid(const char *root, const char *split, Dataset *out) {
    char fname[64], name[96];
    snprintf(fname, sizeof fname, "%s.txt", split);
    snprintf(name, sizeof name, "camvid/%s", split);
    char *list = path_join(root, fname), *text;
    size_t len;
    if (read_text_file(list, &text, &len) < 0) {
        free(list);
        return -1;
    }
    dataset_init(out, name);
    dataset_set_classes(out, CAMVID_CLASSES, 11);
    for (int v = 11; v < 256; v++) out->label_lut[v] = DS_IGNORE; /* 11 = void; larger values are not classes */
    int rc = 0, lineno = 0;
    for (char *p = text, *nl; rc == 0 && p < text + len; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl) nl = text + len;
        *nl = 0;
        rc = add_line(out, root, list, ++lineno, p);
    }
    free(text);
    free(list);
    if (rc < 0) {
        dataset_free(out);
        return -1;
    }
    dataset_sort_time(out); /* SegNet's lists are sorted already; the sort makes it a guarantee */
    return 0;
}
