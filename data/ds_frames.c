/* ds_frames.c: a plain folder of frames, sorted by name, as one video sequence. */
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

int ds_frames(const char *dir, Dataset *out) {
    char **names;
    int n;
    TRY(list_dir(dir, ".png,.jpg,.jpeg", &names, &n));
    if (n == 0) {
        free_names(names, n);
        return rn_fail("%s: no .png/.jpg frames", dir);
    }
    /* the folder's own name is the sequence name: "clips/drive1/" -> "drive1" */
    size_t l = strlen(dir);
    while (l > 1 && dir[l - 1] == '/') l--;
    const char *b = dir + l;
    while (b > dir && b[-1] != '/') b--;
    char *seq = strndup(b, (size_t)(dir + l - b));
    if (!seq) rn_die("out of memory");
    dataset_init(out, dir);
    for (int i = 0; i < n; i++) {
        char *p = path_join(dir, names[i]);
        Sample *s = dataset_add(out, p);
        s->seq = xstrdup(seq);
        s->index = i; /* name order is time order (frame_000123.png) */
        free(p);
    }
    free(seq);
    free_names(names, n);
    return 0;
}
