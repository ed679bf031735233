/* checkpoint.c: HDF5 checkpoints — /params, /buffers, /optim and root attributes; atomic save, checked load. */
#include "nn/io/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/io/finite.h"
#include "util/err.h"

/* Files are always float32; the engine's real_t may be double (gradient-check build), and HDF5
 * converts between the two on read and write. */
#ifdef RUNE_DOUBLE
#define H5T_REAL H5T_NATIVE_DOUBLE
#else
#define H5T_REAL H5T_NATIVE_FLOAT
#endif

#define CKPT_FORMAT "rune-checkpoint"
#define CKPT_VERSION 1

/* ---------------------------------------------------------------- HDF5 plumbing */

/* HDF5 prints its whole error stack to stderr by default; rune reports one line instead, built
 * from the innermost (most specific) HDF5 message: "truncated file: eof = ...", "errno = 28 ...". */
static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static herr_t cause_cb(unsigned n, const H5E_error2_t *e, void *buf) {
    if (n == 0) snprintf(buf, 400, "%s", e->desc ? e->desc : "");
    return 0;
}

/* I/O failures read "file write failed: time = <ctime with a newline>, ..., error message = 'No
 * space left on device', ...": keep the head and the system's message, drop the rest. */
static void shorten_cause(char *buf, size_t n) {
    const char *em = strstr(buf, "error message = '");
    char *colon = strchr(buf, ':');
    if (em && colon && colon < em) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s", em + strlen("error message = '"));
        char *q = strchr(msg, '\'');
        if (q) *q = 0;
        *colon = 0;
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, ": %s", msg);
    }
    for (char *c = buf; *c; c++)
        if (*c == '\n') *c = ' ';
}

/* Call right after the failing HDF5 call: the next API call clears the stack. */
static const char *h5_cause(void) {
    static _Thread_local char buf[400];
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cause_cb, buf);
    shorten_cause(buf, sizeof buf);
    return buf[0] ? buf : "HDF5 error";
}

/* "[64, 16, 3, 3]" from a rank-r dims array. */
static const char *dims_str(const hsize_t *d, int r, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < r && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%llu", i ? ", " : "", (unsigned long long)d[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

/* The PyTorch shape of an entry: a per-channel vector ([C,1,1,1]: bias, batch-norm, PReLU slope)
 * is rank 1, anything else keeps its 4-D shape, so a 1x1 conv weight [64,128,1,1] stays 4-D. */
static int torch_dims(const Tensor *t, hsize_t d[4]) {
    for (int i = 0; i < 4; i++) d[i] = (hsize_t)t->shape[i];
    return t->shape[1] == 1 && t->shape[2] == 1 && t->shape[3] == 1 ? 1 : 4;
}

/* ---------------------------------------------------------------- writing */

static int write_real(hid_t loc, const char *name, const real_t *data, int rank, const hsize_t *dims,
                      const char *tmp) {
    /* One chunk holding the whole dataset, so the Fletcher32 checksum can catch corrupted data. */
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    int ok = space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, dims) >= 0 && H5Pset_fletcher32(dcpl) >= 0;
    if (ok) d = H5Dcreate2(loc, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ok = ok && d >= 0 && H5Dwrite(d, H5T_REAL, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    int rc = ok ? 0 : rn_fail("writing %s to %s: %s", name, tmp, h5_cause());
    if (d >= 0) H5Dclose(d);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return rc;
}

/* A scalar attribute of the given file type from a value in memory type mtype. */
static int write_attr(hid_t loc, const char *key, hid_t ftype, hid_t mtype, const void *v, const char *tmp) {
    hid_t space = H5Screate(H5S_SCALAR), a = -1;
    if (space >= 0) a = H5Acreate2(loc, key, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, mtype, v) >= 0;
    int rc = ok ? 0 : rn_fail("writing attribute %s to %s: %s", key, tmp, h5_cause());
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    return rc;
}

/* Variable-length UTF-8 strings, so that h5py reads them back as str, not bytes. */
static int write_attr_str(hid_t loc, const char *key, const char *s, const char *tmp) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        rn_fail("writing attribute %s to %s: %s", key, tmp, h5_cause());
        if (t >= 0) H5Tclose(t);
        return -1;
    }
    int rc = write_attr(loc, key, t, t, &s, tmp);
    H5Tclose(t);
    return rc;
}

static int write_attr_int(hid_t loc, const char *key, long long v, const char *tmp) {
    return write_attr(loc, key, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v, tmp);
}

static int write_attr_float(hid_t loc, const char *key, double v, const char *tmp) {
    return write_attr(loc, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, tmp);
}

/* "format" and "version" are the file's own; a caller's attributes of those names are ignored. */
static int write_root_attrs(hid_t f, const CkptAttrs *at, const char *tmp) {
    TRY(write_attr_str(f, "format", CKPT_FORMAT, tmp));
    TRY(write_attr_int(f, "version", CKPT_VERSION, tmp));
    for (int i = 0; at && i < at->n; i++) {
        const CkptAttr *a = &at->a[i];
        if (!strcmp(a->key, "format") || !strcmp(a->key, "version")) continue;
        if (a->type == 's') TRY(write_attr_str(f, a->key, a->s, tmp));
        else if (a->type == 'i') TRY(write_attr_int(f, a->key, a->i, tmp));
        else if (a->type == 'f') TRY(write_attr_float(f, a->key, a->f, tmp));
        else rn_die("checkpoint attribute %s has unknown type '%c'", a->key, a->type);
    }
    return 0;
}

static hid_t make_group(hid_t f, const char *name, const char *tmp) {
    hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) rn_fail("creating group /%s in %s: %s", name, tmp, h5_cause());
    return g;
}

static int write_entries(hid_t f, const ParamSet *ps, bool buffers, const char *tmp) {
    hid_t g = make_group(f, buffers ? "buffers" : "params", tmp);
    if (g < 0) return -1;
    int rc = 0;
    for (int i = 0; i < ps->count && rc == 0; i++) {
        if (ps->is_buffer[i] != buffers) continue;
        const Tensor *t = ps->t[i];
        if (strchr(t->name, '/')) {
            rc = rn_fail("parameter name '%s' contains '/', which HDF5 reads as a path (%s)", t->name, tmp);
            break;
        }
        hsize_t d[4];
        int r = torch_dims(t, d);
        rc = write_real(g, t->name, t->data, r, d, tmp);
    }
    H5Gclose(g);
    return rc;
}

static int write_optim(hid_t f, const ParamSet *ps, const Optim *o, const char *tmp) {
    RN_CHECK(o->n == ps->total, "optimizer has %zu moments, ParamSet %zu values", o->n, ps->total);
    hid_t g = make_group(f, "optim", tmp);
    if (g < 0) return -1;
    hsize_t n = o->n;
    int rc = write_attr_str(g, "kind", o->kind == OPTIM_ADAM ? "adam" : "sgd", tmp);
    if (!rc) rc = write_attr_float(g, "lr", o->lr, tmp);
    if (!rc) rc = write_attr_float(g, "momentum", o->momentum, tmp);
    if (!rc) rc = write_attr_float(g, "beta1", o->beta1, tmp);
    if (!rc) rc = write_attr_float(g, "beta2", o->beta2, tmp);
    if (!rc) rc = write_attr_float(g, "eps", o->eps, tmp);
    if (!rc) rc = write_attr_float(g, "weight_decay", o->weight_decay, tmp);
    if (!rc) rc = write_attr_int(g, "step", o->step, tmp);
    if (!rc) rc = write_real(g, "m", o->m, 1, &n, tmp);
    if (!rc && o->v) rc = write_real(g, "v", o->v, 1, &n, tmp);
    H5Gclose(g);
    return rc;
}

/* Strong close degree: closing the file closes anything a failed step left open. Attribute
 * creation order is tracked so the root attributes read back in the order they were set. The
 * 1.8 format gives checksummed metadata (a corrupt header is an error, not garbage) and is read
 * by every HDF5 since 1.8, h5py included. */
static hid_t create_file(const char *tmp) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE), f = -1;
    if (fapl >= 0 && fcpl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 &&
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0 &&
        H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0)
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    if (f < 0) rn_fail("cannot create %s: %s", tmp, h5_cause());
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    return f;
}

/* HDF5 never fsyncs: do it ourselves so the rename publishes data that is on disk. */
static int fsync_path(const char *p, int flags) {
    int fd = open(p, flags);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* After the rename the new checkpoint is in place; syncing the directory makes the rename itself
 * durable. Best effort: some filesystems refuse fsync on a directory, and failing here would
 * wrongly tell the caller the old file is still there. */
static void fsync_parent(const char *path) {
    char *d = xstrdup(path);
    fsync_path(dirname(d), O_RDONLY | O_DIRECTORY);
    free(d);
}

static int write_file(const char *tmp, const ParamSet *ps, const CkptAttrs *at, const Optim *opt) {
    hid_t f = create_file(tmp);
    if (f < 0) return -1;
    int rc = write_root_attrs(f, at, tmp);
    if (!rc) rc = write_entries(f, ps, false, tmp);
    if (!rc) rc = write_entries(f, ps, true, tmp);
    if (!rc && opt) rc = write_optim(f, ps, opt, tmp);
    /* Most bytes reach the disk here (metadata, cached raw data): a full disk shows up now. */
    if (H5Fclose(f) < 0 && !rc) rc = rn_fail("writing %s: %s", tmp, h5_cause());
    if (!rc && fsync_path(tmp, O_RDONLY) < 0) rc = rn_fail("syncing %s: %s", tmp, strerror(errno));
    return rc;
}

int ckpt_save_any(const char *path, ParamSet *ps, const CkptAttrs *at, Optim *opt) {
    Device pd = ps->device, od = opt ? opt->device : DEV_CPU;
    params_to_device(ps, DEV_CPU);
    if (opt) optim_to_device(opt, DEV_CPU);
    int rc = ckpt_save(path, ps, at, opt);
    params_to_device(ps, pd);
    if (opt) optim_to_device(opt, od);
    return rc;
}

int ckpt_save(const char *path, const ParamSet *ps, const CkptAttrs *at, const Optim *opt) {
    if (ps->device != DEV_CPU || (opt && opt->device != DEV_CPU))
        return rn_fail("%s: parameters or optimizer state on %s: bring them to the host first (params_to_device, "
                       "optim_to_device with DEV_CPU)", path, device_name(ps->device != DEV_CPU ? ps->device : opt->device));
    RN_CHECK(ps->finalized, "ckpt_save before params_finalize");
    h5_quiet();
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return rn_fail("checkpoint path too long: %s", path);
    if (write_file(tmp, ps, at, opt) < 0) {
        unlink(tmp); /* never leave a partial file behind; the old checkpoint is untouched */
        return -1;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return rn_fail("renaming %s to %s: %s", tmp, path, strerror(e));
    }
    fsync_parent(path);
    return 0;
}

/* ---------------------------------------------------------------- reading */

/* Evaluated right after the failing read, while HDF5's error stack still holds the cause. */
static int attr_err(const char *path, const char *key) {
    return rn_fail("%s: reading attribute %s: %s", path, key, h5_cause());
}

/* Reads a scalar string/integer/float attribute into a CkptAttr (type 0 when of another kind;
 * strings longer than CkptAttr.s are cut). */
static int read_attr(hid_t loc, const char *key, CkptAttr *out, const char *path) {
    memset(out, 0, sizeof *out);
    hid_t a = H5Aopen(loc, key, H5P_DEFAULT);
    if (a < 0) return attr_err(path, key);
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    int ok = t >= 0 && s >= 0 && H5Sget_simple_extent_npoints(s) == 1;
    int rc = 0;
    if (ok && cls == H5T_STRING) {
        out->type = 's';
        if (H5Tis_variable_str(t) > 0) {
            char *v = NULL;
            hid_t mt = H5Tget_native_type(t, H5T_DIR_ASCEND);
            rc = mt >= 0 && H5Aread(a, mt, &v) >= 0 && v ? 0 : attr_err(path, key);
            if (!rc) snprintf(out->s, sizeof out->s, "%s", v);
            if (v) H5free_memory(v);
            if (mt >= 0) H5Tclose(mt);
        } else {
            size_t sz = H5Tget_size(t);
            char *v = xcalloc(sz + 1, 1);
            rc = H5Aread(a, t, v) >= 0 ? 0 : attr_err(path, key);
            snprintf(out->s, sizeof out->s, "%s", v);
            free(v);
        }
    } else if (ok && cls == H5T_INTEGER) {
        out->type = 'i';
        rc = H5Aread(a, H5T_NATIVE_LLONG, &out->i) >= 0 ? 0 : attr_err(path, key);
    } else if (ok && cls == H5T_FLOAT) {
        out->type = 'f';
        rc = H5Aread(a, H5T_NATIVE_DOUBLE, &out->f) >= 0 ? 0 : attr_err(path, key);
    }
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return rc;
}

typedef struct {
    CkptAttrs *at;
    const char *path;
} AttrWalk;

/* Keeps string, integer and float scalars; skips other attributes (a foreign tool's arrays). */
static herr_t attr_cb(hid_t loc, const char *key, const H5A_info_t *info, void *data) {
    (void)info;
    AttrWalk *w = data;
    if (!strcmp(key, "format") || !strcmp(key, "version")) return 0;
    if (strlen(key) >= sizeof w->at->a[0].key) return rn_fail("%s: attribute name '%s' too long", w->path, key);
    if (w->at->n == CKPT_MAX_ATTRS) return rn_fail("%s: more than %d root attributes", w->path, CKPT_MAX_ATTRS);
    CkptAttr a;
    if (read_attr(loc, key, &a, w->path) < 0) return -1;
    if (!a.type) return 0;
    snprintf(a.key, sizeof a.key, "%s", key);
    w->at->a[w->at->n++] = a;
    return 0;
}

/* Root attributes in creation order when the file tracks it (rune's do), else by name. */
static int read_root_attrs(hid_t f, CkptAttrs *at, const char *path) {
    unsigned flags = 0; /* asked of the root group: the file's own creation list says 0 on reopen */
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT), gcpl = root >= 0 ? H5Gget_create_plist(root) : -1;
    if (gcpl < 0 || H5Pget_attr_creation_order(gcpl, &flags) < 0) flags = 0;
    if (gcpl >= 0) H5Pclose(gcpl);
    if (root >= 0) H5Gclose(root);
    H5_index_t order = flags & H5P_CRT_ORDER_INDEXED ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    AttrWalk w = {at, path};
    at->n = 0;
    rn_fail("%s: reading root attributes", path); /* replaced by a callback's more precise message */
    hsize_t idx = 0;
    if (H5Aiterate2(f, order, H5_ITER_INC, &idx, attr_cb, &w) < 0) return -1;
    return 0;
}

static int check_format(hid_t f, const char *path) {
    CkptAttr a;
    if (H5Aexists(f, "format") <= 0 || read_attr(f, "format", &a, path) < 0 || a.type != 's' ||
        strcmp(a.s, CKPT_FORMAT) != 0)
        return rn_fail("%s is an HDF5 file but not a rune checkpoint (no format=\"%s\" attribute)", path, CKPT_FORMAT);
    if (H5Aexists(f, "version") <= 0 || read_attr(f, "version", &a, path) < 0 || a.type != 'i')
        return rn_fail("%s: rune checkpoint without an integer version attribute", path);
    if (a.i < 1 || a.i > CKPT_VERSION)
        return rn_fail("%s: checkpoint version %lld, this rune reads version %d", path, a.i, CKPT_VERSION);
    return 0;
}

/* Opens path read-only after telling apart the usual ways a file is not a checkpoint. */
static hid_t open_ckpt(const char *path) {
    h5_quiet();
    struct stat st;
    if (stat(path, &st) != 0) return rn_fail("cannot open checkpoint %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return rn_fail("checkpoint %s is a directory", path);
    if (st.st_size == 0) return rn_fail("checkpoint %s is empty (0 bytes)", path);
    htri_t is = H5Fis_hdf5(path);
    if (is < 0) return rn_fail("cannot read checkpoint %s: %s", path, h5_cause());
    if (is == 0) return rn_fail("%s is not an HDF5 file (not a rune checkpoint)", path);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t f = fapl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : -1;
    if (f < 0) rn_fail("checkpoint %s is truncated or corrupt: %s", path, h5_cause());
    if (fapl >= 0) H5Pclose(fapl);
    if (f < 0) return -1;
    if (check_format(f, path) < 0) {
        H5Fclose(f);
        return -1;
    }
    return f;
}

int ckpt_read_attrs(const char *path, CkptAttrs *at) {
    hid_t f = open_ckpt(path);
    if (f < 0) return -1;
    int rc = read_root_attrs(f, at, path);
    H5Fclose(f);
    return rc;
}

/* Reads dataset `name` of loc (a float32 array whose shape, padded with trailing 1s to 4-D,
 * equals want[]) into dst. `what` names it in messages ("parameter conv.weight"). */
static int read_real(hid_t loc, const char *name, const int want[4], real_t *dst, const char *what, const char *path) {
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return rn_fail("%s: %s is not a dataset: %s", path, what, h5_cause());
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    int rank = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1, rc = 0;
    hsize_t got[8] = {1, 1, 1, 1, 1, 1, 1, 1}, exp[4];
    for (int i = 0; i < 4; i++) exp[i] = (hsize_t)want[i];
    char b1[96], b2[96];
    if (t < 0 || rank < 0 || rank > 8 || H5Sget_simple_extent_dims(s, got, NULL) < 0)
        rc = rn_fail("%s: %s: unreadable header: %s", path, what, h5_cause());
    else if (H5Tget_class(t) != H5T_FLOAT)
        rc = rn_fail("%s: %s is not a floating-point dataset", path, what);
    else if (rank > 4 || memcmp(got, exp, sizeof exp) != 0) {
        int er = 4;
        while (er > 1 && exp[er - 1] == 1) er--;
        rc = rn_fail("%s: %s has shape %s in the file, the model expects %s", path, what,
                     dims_str(got, rank, b1, sizeof b1), dims_str(exp, er, b2, sizeof b2));
    } else if (H5Dread(d, H5T_REAL, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
        rc = rn_fail("%s: reading %s (corrupt file?): %s", path, what, h5_cause());
    else rc = io_check_finite(path, what, dst, (size_t)want[0] * want[1] * want[2] * want[3], 0);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    H5Dclose(d);
    return rc;
}

typedef struct {
    const ParamSet *ps;
    bool buffers;
    char extra[256];
} ExtraWalk;

/* Stops (returns 1) at the first member of the group that the ParamSet lacks. */
static herr_t extra_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)g, (void)info;
    ExtraWalk *w = data;
    for (int i = 0; i < w->ps->count; i++)
        if (w->ps->is_buffer[i] == w->buffers && !strcmp(w->ps->t[i]->name, name)) return 0;
    snprintf(w->extra, sizeof w->extra, "%s", name);
    return 1;
}

/* Loads every parameter (or buffer) of ps from its group into stage (ps->data's layout). Missing
 * names are reported before extra ones, each by name. */
static int read_entries(hid_t f, const ParamSet *ps, bool buffers, real_t *stage, const char *path) {
    const char *gname = buffers ? "buffers" : "params", *kind = buffers ? "buffer" : "parameter";
    int have = 0;
    for (int i = 0; i < ps->count; i++) have += ps->is_buffer[i] == buffers;
    if (H5Lexists(f, gname, H5P_DEFAULT) <= 0)
        return have ? rn_fail("%s: checkpoint has no /%s group (the model has %d %ss)", path, gname, have, kind) : 0;
    hid_t g = H5Gopen2(f, gname, H5P_DEFAULT);
    if (g < 0) return rn_fail("%s: cannot open /%s: %s", path, gname, h5_cause());
    int rc = 0;
    char what[320];
    for (int i = 0; i < ps->count && !rc; i++) {
        const Tensor *t = ps->t[i];
        if (ps->is_buffer[i] != buffers) continue;
        snprintf(what, sizeof what, "%s %s", kind, t->name);
        if (H5Lexists(g, t->name, H5P_DEFAULT) <= 0) rc = rn_fail("%s: %s is missing from the checkpoint", path, what);
        else rc = read_real(g, t->name, t->shape, stage + ps->offset[i], what, path);
    }
    ExtraWalk w = {ps, buffers, ""};
    if (!rc && H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, extra_cb, &w) < 0)
        rc = rn_fail("%s: listing /%s: %s", path, gname, h5_cause());
    if (!rc && w.extra[0]) rc = rn_fail("%s: the checkpoint holds %s %s, which the model lacks", path, kind, w.extra);
    H5Gclose(g);
    return rc;
}

static int optim_attr_f(hid_t g, const char *key, double *v, const char *path) {
    CkptAttr a;
    TRY(read_attr(g, key, &a, path));
    if (a.type != 'f' && a.type != 'i') return rn_fail("%s: /optim attribute %s is not a number", path, key);
    *v = a.type == 'f' ? a.f : (double)a.i;
    return 0;
}

/* Reads /optim into a copy of *o (committed by the caller only when everything loaded). */
static int read_optim_group(hid_t g, const ParamSet *ps, Optim *o, real_t *m, real_t *v, const char *path) {
    CkptAttr a;
    TRY(read_attr(g, "kind", &a, path));
    const char *want = o->kind == OPTIM_ADAM ? "adam" : "sgd";
    if (a.type != 's' || strcmp(a.s, want) != 0)
        return rn_fail("%s: optimizer state is for '%s', this run uses %s", path, a.type == 's' ? a.s : "?", want);
    TRY(optim_attr_f(g, "lr", &o->lr, path));
    TRY(optim_attr_f(g, "momentum", &o->momentum, path));
    TRY(optim_attr_f(g, "beta1", &o->beta1, path));
    TRY(optim_attr_f(g, "beta2", &o->beta2, path));
    TRY(optim_attr_f(g, "eps", &o->eps, path));
    TRY(optim_attr_f(g, "weight_decay", &o->weight_decay, path));
    TRY(read_attr(g, "step", &a, path));
    if (a.type != 'i' || a.i < 0) return rn_fail("%s: /optim attribute step is not a count", path);
    o->step = a.i;
    /* The moments are flat over the whole ParamSet: their length is its total. */
    int n[4] = {(int)ps->total, 1, 1, 1};
    RN_CHECK(ps->total <= INT_MAX, "ParamSet too large for a checkpoint");
    TRY(read_real(g, "m", n, m, "optimizer moment m", path));
    if (v) TRY(read_real(g, "v", n, v, "optimizer moment v", path));
    return 0;
}

/* Restores *o from /optim when the file has one (a checkpoint saved without it leaves *o as is). */
static int read_optim(hid_t f, const ParamSet *ps, Optim *o, const char *path) {
    if (H5Lexists(f, "optim", H5P_DEFAULT) <= 0) return 0;
    RN_CHECK(o->n == ps->total, "optimizer has %zu moments, ParamSet %zu values", o->n, ps->total);
    hid_t g = H5Gopen2(f, "optim", H5P_DEFAULT);
    if (g < 0) return rn_fail("%s: cannot open /optim: %s", path, h5_cause());
    Optim cp = *o;
    real_t *m = xmalloc((o->n ? o->n : 1) * sizeof *m), *v = o->v ? xmalloc((o->n ? o->n : 1) * sizeof *v) : NULL;
    int rc = read_optim_group(g, ps, &cp, m, v, path);
    H5Gclose(g);
    if (!rc) {
        memcpy(o->m, m, o->n * sizeof *m);
        if (v) memcpy(o->v, v, o->n * sizeof *v);
        cp.m = o->m, cp.v = o->v;
        *o = cp;
    }
    free(m);
    free(v);
    return rc;
}

/* Everything is read into a staging copy first, so a failed load leaves ps untouched. */
int ckpt_load(const char *path, ParamSet *ps, CkptAttrs *at, Optim *opt) {
    if (ps->device != DEV_CPU || (opt && opt->device != DEV_CPU))
        return rn_fail("%s: load into host parameters, then move them (params_to_device)", path);
    RN_CHECK(ps->finalized, "ckpt_load before params_finalize");
    hid_t f = open_ckpt(path);
    if (f < 0) return -1;
    real_t *stage = xmalloc((ps->total ? ps->total : 1) * sizeof *stage);
    CkptAttrs tmp_at;
    int rc = read_entries(f, ps, false, stage, path);
    if (!rc) rc = read_entries(f, ps, true, stage, path);
    if (!rc && at) rc = read_root_attrs(f, &tmp_at, path);
    if (!rc && opt) rc = read_optim(f, ps, opt, path);
    H5Fclose(f);
    if (!rc) {
        memcpy(ps->data, stage, ps->total * sizeof *stage);
        if (at) *at = tmp_at;
    }
    free(stage);
    return rc;
}
