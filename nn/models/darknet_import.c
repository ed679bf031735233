/* darknet_import.c: darknet cfg + .weights <-> rune checkpoint (HDF5) with the cfg text embedded. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/io/checkpoint.h"
#include "nn/models/darknet.h"
#include "util/err.h"

/* The cfg travels inside the checkpoint as a 1-D uint8 root attribute "darknet_cfg": the
 * checkpoint attribute reader keeps only scalars (and cuts strings at 128 bytes), so an array is
 * passed over there and read here in full. */
#define CFG_ATTR "darknet_cfg"

static int write_cfg_attr(const char *path, const char *text) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return rn_fail("%s: cannot reopen to add the cfg", path);
    hsize_t n = strlen(text);
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t a = s >= 0 ? H5Acreate2(f, CFG_ATTR, H5T_STD_U8LE, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_UCHAR, text) >= 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    if (H5Fclose(f) < 0) ok = 0;
    return ok ? 0 : rn_fail("%s: writing the cfg attribute failed", path);
}

static int read_cfg_attr(const char *path, char **text, size_t *len) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return rn_fail("%s: cannot open as HDF5", path);
    int rc = 0;
    if (H5Aexists(f, CFG_ATTR) <= 0) rc = rn_fail("%s: no %s attribute (not made by rune import darknet)", path, CFG_ATTR);
    hid_t a = rc ? -1 : H5Aopen(f, CFG_ATTR, H5P_DEFAULT);
    hid_t s = a >= 0 ? H5Aget_space(a) : -1;
    hssize_t n = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    if (!rc && (n < 0 || n > (1 << 24))) rc = rn_fail("%s: bad %s attribute", path, CFG_ATTR);
    if (!rc) {
        *text = xmalloc((size_t)n + 1);
        if (H5Aread(a, H5T_NATIVE_UCHAR, *text) < 0) rc = rn_fail("%s: reading %s failed", path, CFG_ATTR), free(*text);
        else (*text)[n] = 0, *len = (size_t)n;
    }
    if (s >= 0) H5Sclose(s);
    if (a >= 0) H5Aclose(a);
    H5Fclose(f);
    return rc;
}

int darknet_import(const char *cfg, const char *weights, const char *out_h5) {
    Darknet net;
    TRY(darknet_open(&net, cfg, weights));
    CkptAttrs at = {0};
    const char *base = strrchr(cfg, '/');
    attrs_set_str(&at, "model", "darknet");
    attrs_set_str(&at, "source_cfg", base ? base + 1 : cfg);
    attrs_set_int(&at, "width", net.cfg.width);
    attrs_set_int(&at, "height", net.cfg.height);
    attrs_set_int(&at, "classes", net.nheads ? net.cfg.l[net.head[0]].yolo.classes : 0);
    /* saved under PATH.part, completed with the cfg, then renamed: never a checkpoint without it */
    size_t n = strlen(out_h5) + 8;
    char *part = xmalloc(n);
    snprintf(part, n, "%s.part", out_h5);
    int rc = ckpt_save(part, &net.ps, &at, NULL);
    if (!rc) rc = write_cfg_attr(part, net.cfg.text);
    if (!rc && rename(part, out_h5) != 0) rc = rn_fail("%s: cannot rename to %s", part, out_h5);
    if (rc) remove(part);
    free(part);
    darknet_free(&net);
    return rc;
}

int darknet_load_h5(Darknet *net, const char *path) {
    CkptAttrs at;
    TRY(ckpt_read_attrs(path, &at));
    const char *model = attrs_get_str(&at, "model", "");
    if (strcmp(model, "darknet") != 0) return rn_fail("%s: a \"%s\" checkpoint, not a darknet one", path, model);
    char *text = NULL, name[600];
    size_t len = 0;
    TRY(read_cfg_attr(path, &text, &len));
    snprintf(name, sizeof name, "%s:" CFG_ATTR, path);
    DnCfg cfg;
    int rc = dn_cfg_parse(text, len, name, &cfg);
    free(text);
    if (rc) return -1;
    darknet_init(net, &cfg);
    if (ckpt_load(path, &net->ps, &at, NULL) < 0) return darknet_free(net), -1;
    return 0;
}
