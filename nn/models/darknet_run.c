/* darknet_run.c: one image through a darknet detector (darknet's input scaling, forward, decode), and .names files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/darknet.h"
#include "util/err.h"

int darknet_detect_planar(Darknet *net, const float *planar, int w, int h, float thresh, float nms, bool letter,
                          DnDet **out) {
    const DnCfg *c = &net->cfg;
    RN_CHECK(c->channels == 3, "darknet_detect_planar: the net wants %d channels", c->channels);
    Tensor *x = tensor_new(1, 3, c->height, c->width);
    if (letter) darknet_letterbox(planar, 3, h, w, x->data, c->height, c->width);
    else darknet_resize(planar, 3, h, w, x->data, c->height, c->width);
    bool was = engine_set_grad(false);
    Tensor *heads[DN_MAX_HEADS];
    darknet_forward(net, tensor_on(x, net->ps.device), heads); /* scaled on the host, run where the net is */
    engine_set_grad(was);
    return darknet_detect(net, heads, 0, thresh, nms, letter, w, h, out);
}

int dn_names_load(const char *path, char ***names) {
    FILE *f = fopen(path, "r");
    if (!f) return rn_fail("%s: cannot open: %s", path, strerror(errno));
    char line[512];
    int n = 0, cap = 0;
    *names = NULL;
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' ')) line[--l] = 0;
        if (!l) continue;
        if (n == cap) cap = cap ? 2 * cap : 128, *names = xrealloc(*names, cap * sizeof **names);
        (*names)[n++] = xstrdup(line);
    }
    fclose(f);
    if (!n) return rn_fail("%s: no class names", path);
    return n;
}

void dn_names_free(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}
