/* test_checkpoint.c: HDF5 checkpoints — round trip, clear errors on bad files, atomic save on failing disks. */
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/io/checkpoint.h"
#include "tests/test.h"
#include "util/err.h"

/* ---------------------------------------------------------------- helpers */

typedef struct {
    char dir[64];
    char path[128]; /* dir/ckpt.h5 */
    char tmp[140];  /* dir/ckpt.h5.tmp */
} Scratch;

static void scratch_init(Scratch *s) {
    snprintf(s->dir, sizeof s->dir, "%s", test_temp_dir("ckpt"));
    snprintf(s->path, sizeof s->path, "%s/ckpt.h5", s->dir);
    snprintf(s->tmp, sizeof s->tmp, "%s.tmp", s->path);
}

static void scratch_free(Scratch *s) { test_remove_tree(s->dir); }

static bool exists(const char *p) { return access(p, F_OK) == 0; }

static bool has(const char *msg, const char *part) { return strstr(msg, part) != NULL; }

/* A small model: conv weight and bias, a batch-norm weight and its running mean (a buffer). With
 * wide_conv the conv weight has 3 input channels instead of 2; with extra an additional parameter;
 * without bn_weight that parameter is left out. `seed` makes the values distinct. */
typedef struct {
    int cin;
    bool extra, no_bn_weight;
    int big; /* elements of an extra large parameter (for full-disk tests), 0 = none */
} ModelOpts;

static void make_model(ParamSet *ps, ModelOpts o, float seed) {
    params_init(ps);
    params_add(ps, "conv.weight", 4, o.cin ? o.cin : 2, 3, 3);
    params_add(ps, "conv.bias", 4, 1, 1, 1);
    if (!o.no_bn_weight) params_add(ps, "bn.weight", 4, 1, 1, 1);
    params_add_buffer(ps, "bn.running_mean", 4, 1, 1, 1);
    if (o.extra) params_add(ps, "head.weight", 2, 4, 1, 1);
    if (o.big) params_add(ps, "big.weight", o.big, 1, 1, 1);
    params_finalize(ps);
    for (size_t i = 0; i < ps->total; i++) ps->data[i] = (real_t)(seed + 0.001f * (float)i);
}

static int save(const char *path, float seed, ModelOpts o) {
    ParamSet ps;
    make_model(&ps, o, seed);
    int rc = ckpt_save(path, &ps, NULL, NULL);
    params_free(&ps);
    return rc;
}

/* Loads path into a fresh default model and checks the values written with `seed`. */
static void expect_loads(const char *path, float seed) {
    ParamSet ps;
    make_model(&ps, (ModelOpts){0}, -99.0f);
    int rc = ckpt_load(path, &ps, NULL, NULL);
    EXPECT(rc == 0, "loading %s: %s", path, rn_errmsg());
    for (size_t i = 0; rc == 0 && i < ps.total; i++)
        if (ps.data[i] != (real_t)(seed + 0.001f * (float)i)) {
            test_fail_at(__FILE__, __LINE__, "%s: value %zu is %g, saved %g", path, i, ps.data[i], seed + 0.001f * (float)i);
            break;
        }
    params_free(&ps);
}

/* Loads path into the model described by o; expects failure with every part in the message. */
static void expect_load_error(const char *path, ModelOpts o, const char *part1, const char *part2, const char *part3) {
    ParamSet ps;
    make_model(&ps, o, -5.0f);
    int rc = ckpt_load(path, &ps, NULL, NULL);
    const char *msg = rn_errmsg();
    EXPECT(rc == -1, "loading %s should fail", path);
    const char *parts[3] = {part1, part2, part3};
    for (int i = 0; i < 3; i++)
        if (parts[i]) EXPECT(has(msg, parts[i]), "message lacks '%s': %s", parts[i], msg);
    printf("    error: %s\n", msg);
    EXPECT(ps.data[0] == (real_t)-5.0f, "a failed load changed the model");
    params_free(&ps);
}

/* ---------------------------------------------------------------- round trip */

static void fill_optim(Optim *o) {
    for (size_t i = 0; i < o->n; i++) o->m[i] = (real_t)(0.01 * (double)i), o->v[i] = (real_t)(0.002 * (double)i);
    o->step = 7;
    o->lr = 3e-4;
}

/* Rank of dataset name in path, read with plain HDF5 (the file is meant for h5py too). */
static int stored_rank(const char *path, const char *name, hsize_t dims[4]) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), s = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(s);
    H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s), H5Dclose(d), H5Fclose(f);
    return r;
}

TEST(ckpt_round_trip) {
    Scratch s;
    scratch_init(&s);
    ParamSet ps, back;
    make_model(&ps, (ModelOpts){0}, 1.0f);
    CkptAttrs at = {0};
    attrs_set_str(&at, "model", "carn_m");
    attrs_set_int(&at, "scale", 4);
    attrs_set_float(&at, "loss", 0.0123);
    attrs_set_int(&at, "scale", 2); /* overwrite keeps one entry */
    Optim o, ob;
    optim_init_adam(&o, &ps, 1e-3, 0.9, 0.999, 1e-8, 0.01);
    fill_optim(&o);
    EXPECT(ckpt_save(s.path, &ps, &at, &o) == 0, "save: %s", rn_errmsg());
    EXPECT(!exists(s.tmp), "tmp file left behind");

    make_model(&back, (ModelOpts){0}, 0.0f);
    optim_init_adam(&ob, &back, 5.0, 0.5, 0.5, 1.0, 0.0);
    CkptAttrs got;
    EXPECT(ckpt_load(s.path, &back, &got, &ob) == 0, "load: %s", rn_errmsg());
    EXPECT(memcmp(ps.data, back.data, ps.total * sizeof(real_t)) == 0, "parameters differ after round trip");
    EXPECT(memcmp(o.m, ob.m, o.n * sizeof(real_t)) == 0 && memcmp(o.v, ob.v, o.n * sizeof(real_t)) == 0, "moments differ");
    EXPECT(ob.step == 7 && ob.lr == 3e-4 && ob.beta1 == 0.9 && ob.beta2 == 0.999 && ob.eps == 1e-8 && ob.weight_decay == 0.01,
           "optimizer hyperparameters not restored (step %lld lr %g b1 %g)", ob.step, ob.lr, ob.beta1);
    EXPECT(got.n == 3, "%d attributes (format and version are not returned)", got.n);
    EXPECT(!strcmp(got.a[0].key, "model") && !strcmp(got.a[2].key, "loss"), "attribute order: %s %s", got.a[0].key, got.a[2].key);
    EXPECT(!strcmp(attrs_get_str(&got, "model", ""), "carn_m"), "model attr");
    EXPECT(attrs_get_int(&got, "scale", 0) == 2, "scale attr %lld", attrs_get_int(&got, "scale", 0));
    EXPECT(attrs_get_float(&got, "loss", 0) == 0.0123, "loss attr");
    EXPECT(attrs_get_int(&got, "model", -1) == -1, "a string attribute read as int gives the default");

    CkptAttrs only;
    EXPECT(ckpt_read_attrs(s.path, &only) == 0 && only.n == 3, "read_attrs: %s", rn_errmsg());
    hsize_t d[4];
    EXPECT(stored_rank(s.path, "/params/conv.weight", d) == 4 && d[1] == 2 && d[3] == 3, "conv weight stored 4-D");
    EXPECT(stored_rank(s.path, "/params/conv.bias", d) == 1 && d[0] == 4, "bias stored as [4]");
    EXPECT(stored_rank(s.path, "/buffers/bn.running_mean", d) == 1, "buffer stored 1-D");
    optim_free(&o), optim_free(&ob), params_free(&ps), params_free(&back);
    scratch_free(&s);
}

/* SGD state restores into SGD; Adam state refuses to load into SGD; a file without /optim leaves
 * the optimizer as it was. */
TEST(ckpt_optim_kinds) {
    Scratch s;
    scratch_init(&s);
    ParamSet ps;
    make_model(&ps, (ModelOpts){0}, 1.0f);
    Optim sgd, adam;
    optim_init_sgd(&sgd, &ps, 0.1, 0.9, 0.0);
    optim_init_adam(&adam, &ps, 1e-3, 0.9, 0.999, 1e-8, 0.0);
    sgd.m[3] = 2.5f, sgd.step = 11;
    EXPECT(ckpt_save(s.path, &ps, NULL, &sgd) == 0, "save: %s", rn_errmsg());
    EXPECT(ckpt_load(s.path, &ps, NULL, &adam) == -1 && has(rn_errmsg(), "sgd"), "adam from sgd state: %s", rn_errmsg());
    EXPECT(adam.step == 0, "failed optimizer load changed the optimizer");
    sgd.m[3] = 0, sgd.step = 0;
    EXPECT(ckpt_load(s.path, &ps, NULL, &sgd) == 0 && sgd.m[3] == 2.5f && sgd.step == 11, "sgd state: %s", rn_errmsg());
    EXPECT(ckpt_save(s.path, &ps, NULL, NULL) == 0, "save without optim: %s", rn_errmsg());
    EXPECT(ckpt_load(s.path, &ps, NULL, &sgd) == 0 && sgd.step == 11, "no /optim leaves the optimizer alone");
    optim_free(&sgd), optim_free(&adam), params_free(&ps);
    scratch_free(&s);
}

/* ---------------------------------------------------------------- mismatched models */

TEST(ckpt_wrong_shape_names_parameter) {
    Scratch s;
    scratch_init(&s);
    EXPECT(save(s.path, 1.0f, (ModelOpts){0}) == 0, "save: %s", rn_errmsg());
    expect_load_error(s.path, (ModelOpts){.cin = 3}, "conv.weight", "[4, 2, 3, 3]", "[4, 3, 3, 3]");
    scratch_free(&s);
}

TEST(ckpt_missing_parameter) {
    Scratch s;
    scratch_init(&s);
    EXPECT(save(s.path, 1.0f, (ModelOpts){0}) == 0, "save: %s", rn_errmsg());
    expect_load_error(s.path, (ModelOpts){.extra = true}, "head.weight", "missing", s.path);
    scratch_free(&s);
}

TEST(ckpt_extra_parameter) {
    Scratch s;
    scratch_init(&s);
    EXPECT(save(s.path, 1.0f, (ModelOpts){0}) == 0, "save: %s", rn_errmsg());
    expect_load_error(s.path, (ModelOpts){.no_bn_weight = true}, "bn.weight", "lacks", s.path);
    scratch_free(&s);
}

/* A NaN or infinite weight is refused naming the entry: loaded, it would make every output NaN
 * (an all-NaN layer gave a flat grey image and exit status 0). */
TEST(ckpt_non_finite_value_names_the_tensor) {
    Scratch s;
    scratch_init(&s);
    ParamSet ps;
    make_model(&ps, (ModelOpts){0}, 1.0f);
    params_find(&ps, "bn.weight")->data[2] = (real_t)NAN;
    EXPECT(ckpt_save(s.path, &ps, NULL, NULL) == 0, "save: %s", rn_errmsg());
    expect_load_error(s.path, (ModelOpts){0}, "parameter bn.weight", "NaN at element 2", s.path);
    params_find(&ps, "bn.weight")->data[2] = 1;
    params_find(&ps, "bn.running_mean")->data[0] = (real_t)-INFINITY;
    EXPECT(ckpt_save(s.path, &ps, NULL, NULL) == 0, "save: %s", rn_errmsg());
    expect_load_error(s.path, (ModelOpts){0}, "buffer bn.running_mean", "-Inf at element 0", s.path);
    params_free(&ps);
    scratch_free(&s);
}

/* ---------------------------------------------------------------- bad files */

TEST(ckpt_missing_file) {
    expect_load_error("/tmp/rune_no_such_dir/none.h5", (ModelOpts){0}, "/tmp/rune_no_such_dir/none.h5", "No such file", NULL);
    CkptAttrs at;
    EXPECT(ckpt_read_attrs("/tmp/rune_no_such_dir/none.h5", &at) == -1, "read_attrs of a missing file");
}

TEST(ckpt_truncated_file) {
    Scratch s;
    scratch_init(&s);
    EXPECT(save(s.path, 1.0f, (ModelOpts){0}) == 0, "save: %s", rn_errmsg());
    struct stat st;
    stat(s.path, &st);
    EXPECT(truncate(s.path, st.st_size / 2) == 0, "truncate");
    expect_load_error(s.path, (ModelOpts){0}, s.path, "truncated", NULL);
    EXPECT(truncate(s.path, 40) == 0, "truncate");
    expect_load_error(s.path, (ModelOpts){0}, s.path, NULL, NULL);
    scratch_free(&s);
}

TEST(ckpt_zero_byte_file) {
    Scratch s;
    scratch_init(&s);
    close(open(s.path, O_CREAT | O_WRONLY, 0644));
    expect_load_error(s.path, (ModelOpts){0}, s.path, "empty", NULL);
    scratch_free(&s);
}

TEST(ckpt_not_hdf5) {
    Scratch s;
    scratch_init(&s);
    FILE *f = fopen(s.path, "w");
    fputs("this is a text file, not a checkpoint\n", f);
    fclose(f);
    expect_load_error(s.path, (ModelOpts){0}, s.path, "not an HDF5 file", NULL);
    scratch_free(&s);
}

TEST(ckpt_hdf5_not_rune) {
    Scratch s;
    scratch_init(&s);
    H5Fclose(H5Fcreate(s.path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    expect_load_error(s.path, (ModelOpts){0}, s.path, "not a rune checkpoint", NULL);
    scratch_free(&s);
}

/* Overwrites the bytes of the first float equal to v; the per-dataset Fletcher32 checksum must
 * catch it (without checksums a flipped byte would load silently as a wrong weight). */
static bool corrupt_float(const char *path, float v) {
    FILE *f = fopen(path, "r+b");
    if (!f) return false;
    unsigned char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    for (size_t i = 0; i + 4 <= n; i++)
        if (!memcmp(buf + i, &v, 4)) {
            float w = v * 3 + 1;
            fseek(f, (long)i, SEEK_SET);
            fwrite(&w, 4, 1, f);
            fclose(f);
            return true;
        }
    fclose(f);
    return false;
}

TEST(ckpt_corrupt_data) {
    Scratch s;
    scratch_init(&s);
    EXPECT(save(s.path, 1.0f, (ModelOpts){0}) == 0, "save: %s", rn_errmsg());
    /* conv.bias starts at element 72 */
    EXPECT(corrupt_float(s.path, 1.0f + 0.001f * 72), "bias value not found in the file");
    expect_load_error(s.path, (ModelOpts){0}, s.path, "conv.bias", NULL);
    scratch_free(&s);
}

/* ---------------------------------------------------------------- failing saves */

static void expect_save_fails_cleanly(const char *path, const char *tmp, const char *why) {
    ParamSet ps;
    make_model(&ps, (ModelOpts){0}, 1.0f);
    EXPECT(ckpt_save(path, &ps, NULL, NULL) == -1, "save into %s should fail", why);
    printf("    error: %s\n", rn_errmsg());
    EXPECT(has(rn_errmsg(), path), "message names the path: %s", rn_errmsg());
    EXPECT(!exists(tmp), "%s left behind", tmp);
    params_free(&ps);
}

TEST(ckpt_save_missing_directory) {
    expect_save_fails_cleanly("/tmp/rune_no_such_dir/ckpt.h5", "/tmp/rune_no_such_dir/ckpt.h5.tmp", "a missing directory");
}

/* In a private mount namespace (root only; each test runs in its own forked process, so the
 * mounts vanish with it) a directory can be made truly read-only or tiny. Returns false when
 * that is not possible here. */
static bool private_mounts(void) {
    return geteuid() == 0 && unshare(CLONE_NEWNS) == 0 && mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

/* An unwritable directory: a read-only bind mount as root (permissions do not stop root), a
 * mode-0555 directory otherwise. */
TEST(ckpt_save_readonly_directory) {
    Scratch s;
    scratch_init(&s);
    EXPECT(save(s.path, 1.0f, (ModelOpts){0}) == 0, "save: %s", rn_errmsg());
    bool mounted = false;
    if (private_mounts()) {
        mounted = mount(s.dir, s.dir, NULL, MS_BIND, NULL) == 0 &&
                  mount(NULL, s.dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0;
        EXPECT(mounted, "read-only bind mount failed");
    } else if (geteuid() != 0) {
        chmod(s.dir, 0555);
    } else {
        SKIP("root without mount namespaces: cannot make an unwritable directory");
    }
    expect_save_fails_cleanly(s.path, s.tmp, "a read-only directory");
    expect_loads(s.path, 1.0f);
    if (mounted) umount2(s.dir, MNT_DETACH);
    chmod(s.dir, 0755);
    scratch_free(&s);
}

/* A failed save of a large model must leave the previous checkpoint loadable, no tmp file, and
 * must release the tmp file's space (a training run keeps going and saves again later). */
static void full_disk_sequence(Scratch *s, const char *cause, void (*limit)(bool on)) {
    EXPECT(save(s->path, 1.0f, (ModelOpts){0}) == 0, "small save: %s", rn_errmsg());
    if (limit) limit(true);
    int rc = save(s->path, 2.0f, (ModelOpts){.big = 1 << 18});
    if (limit) limit(false);
    EXPECT(rc == -1, "a 1 MiB checkpoint should not fit");
    printf("    error: %s\n", rn_errmsg());
    EXPECT(has(rn_errmsg(), s->tmp) && has(rn_errmsg(), cause), "message names the tmp file and '%s': %s", cause, rn_errmsg());
    EXPECT(!exists(s->tmp), "tmp file left behind");
    expect_loads(s->path, 1.0f);
    EXPECT(save(s->path, 3.0f, (ModelOpts){0}) == 0, "a small save after the failure: %s", rn_errmsg());
    expect_loads(s->path, 3.0f);
}

/* Full disk for real: a 256 KiB tmpfs. */
TEST(ckpt_save_full_disk_tmpfs) {
    Scratch s;
    scratch_init(&s);
    if (!private_mounts() || mount("tmpfs", s.dir, "tmpfs", 0, "size=256k") != 0) {
        scratch_free(&s);
        SKIP("cannot mount a tmpfs here (needs root and mount namespaces); ckpt_save_file_size_limit covers it");
    }
    full_disk_sequence(&s, "No space left on device", NULL);
    umount2(s.dir, MNT_DETACH);
    scratch_free(&s);
}

/* The same failure without privileges: RLIMIT_FSIZE makes writes past 256 KiB fail (EFBIG), as a
 * full disk would partway through the file (the limit covers that one save only). */
static void fsize_limit(bool on) {
    static struct rlimit saved;
    if (on) {
        getrlimit(RLIMIT_FSIZE, &saved);
        struct rlimit rl = {256 << 10, saved.rlim_max}; /* soft limit only, so it can be lifted */
        EXPECT(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit");
    } else {
        setrlimit(RLIMIT_FSIZE, &saved);
    }
}

TEST(ckpt_save_file_size_limit) {
    Scratch s;
    scratch_init(&s);
    signal(SIGXFSZ, SIG_IGN);
    full_disk_sequence(&s, "File too large", fsize_limit);
    scratch_free(&s);
}
