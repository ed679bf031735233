/* test_torch_load.c: PyTorch checkpoint reader against torch.load (scripts/fixtures/gen_torchio.py) and bad input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/io/checkpoint.h"
#include "nn/io/torch_load.h"
#include "nn/io/zipread.h"
#include "tests/fixture.h"
#include "tests/test.h"
#include "util/err.h"

/* ---- the listing written by gen_torchio.py: label name dtype ndim dims... sum sumsq crc32 ---- */

typedef struct Entry {
    char name[256], dtype[16];
    int ndim;
    long long dims[TORCH_MAX_DIM];
    double sum, sumsq;
    unsigned crc;
} Entry;

/* Entries of one label, in file order; returns the count (0 and a failure if none). */
static int read_listing(const char *label, Entry *out, int cap) {
    FILE *f = fopen(test_fixture_path("torchio_listing.txt"), "r");
    if (!f) return 0;
    char line[1024], lab[256];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < cap) {
        if (line[0] == '#') continue;
        Entry *e = &out[n];
        int pos = 0;
        if (sscanf(line, "%255s %255s %15s %d%n", lab, e->name, e->dtype, &e->ndim, &pos) != 4 || strcmp(lab, label)) continue;
        char *p = line + pos;
        for (int d = 0; d < e->ndim && d < TORCH_MAX_DIM; d++) e->dims[d] = strtoll(p, &p, 10);
        e->sum = strtod(p, &p);
        e->sumsq = strtod(p, &p);
        e->crc = (unsigned)strtoul(p, &p, 16);
        n++;
    }
    fclose(f);
    EXPECT(n > 0, "no listing entries for %s", label);
    return n;
}

static unsigned crc32_bytes(const void *buf, size_t n) {
    static unsigned table[256];
    if (!table[1])
        for (unsigned i = 0; i < 256; i++) {
            unsigned c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    unsigned c = 0xFFFFFFFFu;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* Names, order, dtype, shape and the bytes (CRC) of every tensor; sums as a readable second check. */
static void expect_listing(const TorchFile *tf, const char *label, const char *strip) {
    static Entry e[512];
    int n = read_listing(label, e, 512);
    EXPECT(tf->count == n, "%s: %d tensors, listing has %d", label, tf->count, n);
    for (int i = 0; i < n && i < tf->count; i++) {
        const TorchTensor *t = &tf->t[i];
        const char *want = strip && !strncmp(e[i].name, strip, strlen(strip)) ? e[i].name + strlen(strip) : e[i].name;
        EXPECT(strcmp(t->name, want) == 0, "%s: tensor %d is %s, listing says %s", label, i, t->name, want);
        EXPECT(strcmp(t->dtype, e[i].dtype) == 0, "%s: %s dtype %s vs %s", label, t->name, t->dtype, e[i].dtype);
        EXPECT(t->ndim == e[i].ndim, "%s: %s rank %d vs %d", label, t->name, t->ndim, e[i].ndim);
        for (int d = 0; d < t->ndim && d < e[i].ndim; d++)
            EXPECT(t->shape[d] == e[i].dims[d], "%s: %s dim %d: %lld vs %lld", label, t->name, d, (long long)t->shape[d], e[i].dims[d]);
        unsigned crc = t->is_int ? crc32_bytes(t->idata, t->numel * 8) : crc32_bytes(t->data, t->numel * 4);
        EXPECT(crc == e[i].crc, "%s: %s bytes differ (crc %08x vs %08x)", label, t->name, crc, e[i].crc);
        double s = 0, s2 = 0, a = 0;
        for (size_t j = 0; j < t->numel; j++) {
            double v = t->is_int ? (double)t->idata[j] : t->data[j];
            if (isinf(v)) continue; /* the half tensor holds an inf: its sums are inf on both sides */
            s += v, s2 += v * v, a += fabs(v);
        }
        if (isfinite(e[i].sum)) EXPECT_NEAR(s, e[i].sum, 1e-12 * a + 1e-300);
        if (isfinite(e[i].sumsq)) EXPECT_NEAR(s2, e[i].sumsq, 1e-12 * s2 + 1e-300);
    }
}

static const char *k_tiny[] = {"torchio_tiny_legacy.pth", "torchio_tiny_zip.pth", "torchio_tiny_p4.pth",
                               "torchio_tiny_zip64.pth"};

/* Every value exactly as torch.load gives it (the .h5 holds them as float64, exact for all dtypes here). */
static void expect_tiny_values(const TorchFile *tf) {
    Fixture *f = fx_open("torchio_tiny.h5");
    if (!f) return;
    for (int i = 0; i < tf->count; i++) {
        const TorchTensor *t = &tf->t[i];
        char key[300];
        size_t n = 0, nd = 0;
        snprintf(key, sizeof key, "value/%s", t->name);
        double *v = fx_array(f, key, &n);
        snprintf(key, sizeof key, "shape/%s", t->name);
        double *sh = fx_array(f, key, &nd);
        if (!v || !sh) continue;
        EXPECT((int)nd == t->ndim && n == t->numel, "%s: rank %d numel %zu vs %zu %zu", t->name, t->ndim, t->numel, nd, n);
        size_t bad = 0;
        for (size_t j = 0; j < n && j < t->numel; j++) {
            double got = t->is_int ? (double)t->idata[j] : (double)t->data[j];
            bad += !(got == (double)(float)v[j] || (isnan(got) && isnan(v[j])));
        }
        EXPECT(bad == 0, "%s: %zu of %zu values differ from torch.load", t->name, bad, n);
    }
    fx_close(f);
}

TEST(torchio_tiny_all_formats) {
    for (size_t k = 0; k < sizeof k_tiny / sizeof k_tiny[0]; k++) {
        TorchFile tf;
        int rc = torch_load(test_fixture_path(k_tiny[k]), &tf);
        EXPECT(rc == 0, "%s: %s", k_tiny[k], rn_errmsg());
        if (rc) continue;
        EXPECT(tf.format == (k == 0 ? TORCH_FMT_LEGACY : TORCH_FMT_ZIP), "%s: format %d", k_tiny[k], tf.format);
        EXPECT(strcmp(tf.root, "") == 0, "root '%s'", tf.root);
        expect_listing(&tf, "tiny", NULL);
        expect_tiny_values(&tf);
        const TorchTensor *nb = torch_find(&tf, "bn.num_batches_tracked");
        EXPECT(nb && nb->is_int && nb->ndim == 0 && nb->numel == 1 && nb->idata[0] == 7, "num_batches_tracked");
        const TorchTensor *h = torch_find(&tf, "extra.half");
        EXPECT(h && !h->is_int && isinf(h->data[5]) && h->data[6] == 0 && signbit(h->data[6]), "half inf / -0");
        torch_free(&tf);
    }
}

TEST(torchio_wrapped_unwrap_and_strip) {
    TorchFile tf;
    int rc = torch_load(test_fixture_path("torchio_wrapped.pth"), &tf);
    EXPECT(rc == 0, "%s", rn_errmsg());
    if (rc) return;
    EXPECT(strcmp(tf.root, "state_dict") == 0, "root '%s'", tf.root);
    expect_listing(&tf, "wrapped", NULL); /* names as stored, "module." included */
    EXPECT(torch_strip_prefix(&tf, "module.") == tf.count, "every name had the prefix");
    expect_listing(&tf, "wrapped", "module.");
    EXPECT(strcmp(torch_guess_model(&tf), "unknown") == 0, "guess %s", torch_guess_model(&tf));
    torch_free(&tf);
}

TEST(torchio_import_to_params) {
    TorchFile tf;
    ParamSet ps;
    params_init(&ps);
    if (torch_load(test_fixture_path("torchio_wrapped.pth"), &tf) < 0) { EXPECT(0, "%s", rn_errmsg()); return; }
    EXPECT(torch_import_to_params(&tf, &ps, "module.") == 0, "%s", rn_errmsg());
    EXPECT(ps.count == tf.count - 1, "%d params from %d tensors (num_batches_tracked skipped)", ps.count, tf.count);
    for (int i = 0; i < ps.count; i++) {
        const TorchTensor *t = NULL;
        char full[300];
        snprintf(full, sizeof full, "module.%s", ps.t[i]->name);
        t = torch_find(&tf, full);
        EXPECT(t != NULL, "%s not in the file", full);
        if (!t) continue;
        bool want_buf = strstr(t->name, "running_") != NULL;
        EXPECT(ps.is_buffer[i] == want_buf, "%s buffer flag", t->name);
        EXPECT(tensor_numel(ps.t[i]) == t->numel, "%s numel", t->name);
        for (int d = 0; d < 4; d++) EXPECT(ps.t[i]->shape[d] == (d < t->ndim ? t->shape[d] : 1), "%s dim %d", t->name, d);
        for (size_t j = 0; j < t->numel; j++) EXPECT(ps.t[i]->data[j] == (real_t)t->data[j], "%s[%zu]", t->name, j);
    }
    EXPECT(params_find(&ps, "fc.weight") && params_find(&ps, "fc.weight")->shape[1] == 4, "fc.weight 2x4x1x1");
    params_free(&ps);
    torch_free(&tf);
}

TEST(torchio_import_rejects_rank5) {
    TorchFile tf;
    ParamSet ps;
    params_init(&ps);
    if (torch_load(test_fixture_path("torchio_tiny_zip.pth"), &tf) < 0) { EXPECT(0, "%s", rn_errmsg()); return; }
    EXPECT(torch_import_to_params(&tf, &ps, NULL) < 0, "a rank-5 tensor must be refused");
    EXPECT(strstr(rn_errmsg(), "extra.five_d") && strstr(rn_errmsg(), "rank 5"), "message: %s", rn_errmsg());
    params_free(&ps);
    torch_free(&tf);
}

/* A model's own ParamSet filled by name; every kind of mismatch named. */
static int fill_model(const TorchFile *tf, int fc_in, bool with_bn, bool allow_extra) {
    ParamSet ps;
    params_init(&ps);
    params_add(&ps, "conv.weight", 3, 2, 3, 3);
    params_add(&ps, "conv.bias", 3, 1, 1, 1);
    if (with_bn) {
        params_add(&ps, "bn.weight", 3, 1, 1, 1);
        params_add(&ps, "bn.bias", 3, 1, 1, 1);
        params_add_buffer(&ps, "bn.running_mean", 3, 1, 1, 1);
        params_add_buffer(&ps, "bn.running_var", 3, 1, 1, 1);
    }
    params_add(&ps, "fc.weight", 2, fc_in, 1, 1);
    params_add(&ps, "fc.bias", 2, 1, 1, 1);
    params_finalize(&ps);
    int rc = torch_fill_params(tf, &ps, "module.", allow_extra);
    if (rc == 0) {
        const TorchTensor *t = torch_find(tf, "module.bn.running_var");
        Tensor *p = params_find(&ps, "bn.running_var");
        if (t && p) EXPECT(p->data[2] == (real_t)t->data[2], "running_var copied");
    }
    params_free(&ps);
    return rc;
}

TEST(torchio_fill_params) {
    TorchFile tf;
    if (torch_load(test_fixture_path("torchio_wrapped.pth"), &tf) < 0) { EXPECT(0, "%s", rn_errmsg()); return; }
    EXPECT(fill_model(&tf, 4, true, false) == 0, "%s", rn_errmsg());
    EXPECT(fill_model(&tf, 5, true, false) < 0 && strstr(rn_errmsg(), "fc.weight"), "shape mismatch: %s", rn_errmsg());
    EXPECT(fill_model(&tf, 4, false, false) < 0 && strstr(rn_errmsg(), "bn."), "extra tensor: %s", rn_errmsg());
    EXPECT(fill_model(&tf, 4, false, true) == 0, "extra allowed: %s", rn_errmsg());
    torch_free(&tf);
}

/* The reader keeps what the file holds (tiny's extra.half has an infinity, as torch.load gives
 * it); a NaN or infinite value going into a model's weights is refused naming the tensor. */
TEST(torchio_non_finite_weights_refused) {
    TorchFile tf;
    if (torch_load(test_fixture_path("torchio_wrapped.pth"), &tf) < 0) { EXPECT(0, "%s", rn_errmsg()); return; }
    TorchTensor *t = (TorchTensor *)torch_find(&tf, "module.fc.weight");
    EXPECT(t && t->numel == 8, "module.fc.weight [2,4]");
    if (!t) return torch_free(&tf);
    t->data[5] = NAN;
    EXPECT(fill_model(&tf, 4, true, false) < 0 && strstr(rn_errmsg(), "torchio_wrapped.pth: tensor module.fc.weight holds NaN at element 5"),
           "fill: %s", rn_errmsg());
    ParamSet ps;
    params_init(&ps);
    EXPECT(torch_import_to_params(&tf, &ps, "module.") < 0 && strstr(rn_errmsg(), "module.fc.weight holds NaN"), "import: %s",
           rn_errmsg());
    params_free(&ps);
    torch_free(&tf);
    EXPECT(torch_load(test_fixture_path("torchio_tiny_zip.pth"), &tf) == 0, "%s", rn_errmsg());
    params_init(&ps);
    params_add(&ps, "extra.half", 7, 1, 1, 1);
    params_finalize(&ps);
    EXPECT(torch_fill_params(&tf, &ps, NULL, true) < 0 && strstr(rn_errmsg(), "tensor extra.half holds +Inf at element 5"),
           "%s", rn_errmsg());
    params_free(&ps);
    torch_free(&tf);
}

/* ---- the published weights against torch.load's listing ----------------------------------- */

static void check_shared(const char *rel, const char *guess) {
    TorchFile tf;
    const char *path = test_shared_path(rel);
    int rc = torch_load(path, &tf);
    EXPECT(rc == 0, "%s", rn_errmsg());
    if (rc) return;
    EXPECT(tf.format == TORCH_FMT_LEGACY, "%s is a legacy file", rel);
    expect_listing(&tf, rel, NULL);
    EXPECT(strcmp(torch_guess_model(&tf), guess) == 0, "%s guessed %s", rel, torch_guess_model(&tf));
    ParamSet ps;
    params_init(&ps);
    EXPECT(torch_import_to_params(&tf, &ps, NULL) == 0, "%s", rn_errmsg());
    params_free(&ps);
    torch_free(&tf);
}

TEST(torchio_shared_carn_m) { check_shared("weights/carn/carn_m.pth", "carn-m"); }
TEST(torchio_shared_espnet_cityscapes) { check_shared("weights/espnet/espnet_p_2_q_8.pth", "espnet"); }
TEST(torchio_shared_espnet_camvid) { check_shared("weights/espnet/espnet_p_2_q_8_camvid.pth", "espnet"); }

/* ---- bad input: errors naming the file, never a crash (also run under ASan) ------------------- */

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n ? *n : 1);
    if (fread(b, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return b;
}

static void write_file(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    EXPECT(f && fwrite(b, 1, n, f) == n, "writing %s", path);
    if (f) fclose(f);
}

static void expect_fail_mem(const void *b, size_t n, const char *label, const char *want) {
    TorchFile tf;
    int rc = torch_load_mem(b, n, label, &tf);
    EXPECT(rc < 0, "%s (%zu bytes) loaded", label, n);
    EXPECT(tf.count == 0 && tf.t == NULL, "%s: TorchFile not cleared", label);
    if (rc == 0) torch_free(&tf);
    else EXPECT(strstr(rn_errmsg(), label) && (!want || strstr(rn_errmsg(), want)), "message '%s' lacks '%s'/'%s'",
                rn_errmsg(), label, want ? want : "");
}

/* Every prefix of each tiny file in memory, and a few truncated copies on disk. */
TEST(torchio_truncated) {
    for (size_t k = 0; k < sizeof k_tiny / sizeof k_tiny[0]; k++) {
        size_t n = 0;
        uint8_t *b = slurp(test_fixture_path(k_tiny[k]), &n);
        EXPECT(b && n > 100, "%s", k_tiny[k]);
        if (!b) continue;
        for (size_t cut = 0; cut < n; cut++) expect_fail_mem(b, cut, k_tiny[k], NULL);
        char tmp[64];
        snprintf(tmp, sizeof tmp, "/tmp/rune_torchio_%d.pth", (int)getpid());
        size_t cuts[] = {1, 2, 40, n / 3, n / 2, n - 9, n - 1};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            write_file(tmp, b, cuts[c]);
            TorchFile tf;
            EXPECT(torch_load(tmp, &tf) < 0 && strstr(rn_errmsg(), tmp), "%s cut at %zu: '%s'", k_tiny[k], cuts[c], rn_errmsg());
        }
        unlink(tmp);
        free(b);
    }
}

TEST(torchio_truncated_shared) {
    size_t n = 0;
    uint8_t *b = slurp(test_shared_path("weights/carn/carn_m.pth"), &n);
    EXPECT(b && n > 1000000, "carn_m.pth");
    if (!b) return;
    for (size_t cut = 0; cut < n; cut += 9973) expect_fail_mem(b, cut, "carn_m", NULL);
    expect_fail_mem(b, n - 1, "carn_m", "truncated");
    free(b);
}

/* Bytes of the legacy file (each) and the protocol-4 zip (every third) replaced: any outcome but a
 * crash. Kept to ~5000 loads so it stays quick under ASan; fuzz/fuzz_pickle.c goes further. */
TEST(torchio_mutated_bytes) {
    const char *files[] = {"torchio_tiny_legacy.pth", "torchio_tiny_p4.pth"};
    for (size_t k = 0; k < 2; k++) {
        size_t n = 0;
        uint8_t *b = slurp(test_fixture_path(files[k]), &n);
        EXPECT(b && n > 1000, "%s", files[k]);
        if (!b) continue;
        for (size_t i = 0; i < n; i += k ? 3 : 1) {
            uint8_t keep = b[i];
            b[i] = i % 2 ? 0xff : (uint8_t)(keep ^ 0x80);
            TorchFile tf;
            if (torch_load_mem(b, n, "mutated", &tf) == 0) torch_free(&tf);
            b[i] = keep;
        }
        free(b);
    }
}

TEST(torchio_garbage) {
    uint8_t rnd[4096];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 16);
    expect_fail_mem(rnd, sizeof rnd, "random", "not a PyTorch checkpoint");
    rnd[0] = 0x80; /* looks like a pickle */
    expect_fail_mem(rnd, sizeof rnd, "randpickle", NULL);
    rnd[0] = 'P', rnd[1] = 'K', rnd[2] = 3, rnd[3] = 4; /* looks like a zip */
    expect_fail_mem(rnd, sizeof rnd, "randzip", "zip");
    expect_fail_mem("", 0, "empty", "empty file");
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/rune_torchio_e%d.pth", (int)getpid());
    write_file(tmp, "", 0);
    TorchFile tf;
    EXPECT(torch_load(tmp, &tf) < 0 && strstr(rn_errmsg(), "empty file"), "%s", rn_errmsg());
    unlink(tmp);
    EXPECT(torch_load("/nonexistent/x.pth", &tf) < 0 && strstr(rn_errmsg(), "/nonexistent/x.pth"), "%s", rn_errmsg());
}

/* Hand-made pickles after a valid legacy header: each malformation gets its own message. */
static void expect_bad_pickle(const char *body, size_t len, const char *want) {
    static const uint8_t head[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.',
                                   0x80, 0x02, 'M', 0xe9, 0x03, '.', 0x80, 0x02, '}', '.'};
    uint8_t buf[256];
    memcpy(buf, head, sizeof head);
    memcpy(buf + sizeof head, body, len);
    expect_fail_mem(buf, sizeof head + len, "handmade", want);
}

/* String literals: their length is sizeof - 1 (they may hold NULs). */
#define BAD_PICKLE(lit, want) expect_bad_pickle(lit, sizeof(lit) - 1, want)

TEST(torchio_bad_pickles) {
    /* (hex escapes are closed with "" before a following hex-digit character) */
    BAD_PICKLE("\x80\x02\xff", "unknown opcode 0xff");
    BAD_PICKLE("\x80\x02h\x05.", "memo key never stored");
    BAD_PICKLE("\x80\x02s.", "underflow");
    BAD_PICKLE("\x80\x02X\xff\xff\x00\x00" "ab", "truncated");
    BAD_PICKLE("\x80\x02(t0.", "underflow");             /* STOP with an empty stack */
    BAD_PICKLE("\x80\x02]q\x00h\x00" "a.\x80\x02].", "not a dict"); /* l = []; l.append(l) */
    BAD_PICKLE("\x80\x02}q\x00.", "storage keys");       /* state ok, key list missing */
    BAD_PICKLE("\x80\x02r\xff\xff\xff\x7f.", "underflow");
    BAD_PICKLE("\x80\x02Nr\xff\xff\xff\x7f.", "memo index");
    BAD_PICKLE("\x80\x02}q\x00X\x01\x00\x00\x00" "ah\x00s.\x80\x02].", "too deep"); /* d['a'] = d */
    BAD_PICKLE("\x80\x02}q\x00.\x80\x02]q\x00X\x01\x00\x00\x00" "7a.", "listed but used by no tensor");
}

TEST(torchio_bad_archives) {
    TorchFile tf;
    EXPECT(torch_load(test_fixture_path("torchio_bad_nokey.pth"), &tf) < 0 && strstr(rn_errmsg(), "storage key 3 missing"),
           "%s", rn_errmsg());
    EXPECT(torch_load(test_fixture_path("torchio_bad_deflate.pth"), &tf) < 0 && strstr(rn_errmsg(), "compressed"),
           "%s", rn_errmsg());
}

/* ---- rune import end to end (the binary: $RUNE_BIN, which `make test` sets) ------------------ */

static int run_rune(const char *args) {
    const char *bin = getenv("RUNE_BIN");
    if (!bin || access(bin, X_OK) != 0) SKIP("RUNE_BIN not set or not executable (make test sets it)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", bin, args);
    return system(cmd);
}

TEST(torchio_cmd_import) {
    char out[64], args[512];
    snprintf(out, sizeof out, "/tmp/rune_torchio_%d.h5", (int)getpid());
    const char *in = test_fixture_path("torchio_wrapped.pth");
    snprintf(args, sizeof args, "import %s --strip-prefix module. --model tiny -o %s", in, out);
    EXPECT(run_rune(args) == 0, "rune %s failed", args);
    CkptAttrs at = {0};
    EXPECT(ckpt_read_attrs(out, &at) == 0, "%s", rn_errmsg());
    EXPECT(strcmp(attrs_get_str(&at, "model", ""), "tiny") == 0, "model %s", attrs_get_str(&at, "model", ""));
    EXPECT(strcmp(attrs_get_str(&at, "source", ""), in) == 0, "source %s", attrs_get_str(&at, "source", ""));
    /* Same names, shapes and values as the in-process import; ckpt_load checks every name and shape. */
    TorchFile tf;
    ParamSet want, got;
    params_init(&want), params_init(&got);
    EXPECT(torch_load(in, &tf) == 0 && torch_import_to_params(&tf, &want, "module.") == 0, "%s", rn_errmsg());
    EXPECT(torch_import_to_params(&tf, &got, "module.") == 0, "%s", rn_errmsg());
    memset(got.data, 0, got.total * sizeof(real_t));
    EXPECT(ckpt_load(out, &got, NULL, NULL) == 0, "%s", rn_errmsg());
    EXPECT(got.total == want.total && memcmp(got.data, want.data, want.total * sizeof(real_t)) == 0, "values differ");
    snprintf(args, sizeof args, "import %s --list", in);
    EXPECT(run_rune(args) == 0, "rune %s failed", args);
    snprintf(args, sizeof args, "import %s -o %s", test_fixture_path("torchio_bad_nokey.pth"), out);
    EXPECT(run_rune(args) != 0, "a broken file must fail");
    params_free(&want), params_free(&got);
    torch_free(&tf);
    unlink(out);
}

/* A flipped bit in a tensor's bytes used to import as a wrong weight: each stored zip entry is
 * checked against its CRC-32, in both zip layouts, and the message names the entry. */
TEST(torchio_zip_crc_catches_a_flipped_tensor_byte) {
    const char *files[] = {"torchio_tiny_zip.pth", "torchio_tiny_zip64.pth"};
    for (size_t k = 0; k < 2; k++) {
        size_t n = 0;
        uint8_t *b = slurp(test_fixture_path(files[k]), &n);
        ZipArchive z;
        EXPECT(b && zip_open_mem(&z, b, n, files[k]) == 0, "%s: %s", files[k], rn_errmsg());
        if (!b || z.count == 0) { free(b); continue; }
        const ZipEntry *e = NULL; /* the first tensor storage: <name>/data/<key> */
        for (int i = 0; i < z.count && !e; i++)
            if (strstr(z.e[i].name, "/data/") && z.e[i].size >= 4) e = &z.e[i];
        EXPECT(e != NULL, "%s has a storage entry", files[k]);
        if (e) {
            char name[256];
            snprintf(name, sizeof name, "%s", e->name);
            size_t at = (size_t)(e->data - b) + 2;
            b[at] ^= 0x10;
            TorchFile tf;
            int rc = torch_load_mem(b, n, files[k], &tf);
            EXPECT(rc < 0, "%s: a flipped tensor byte loaded", files[k]);
            if (rc == 0) torch_free(&tf);
            else EXPECT(strstr(rn_errmsg(), name) && strstr(rn_errmsg(), "CRC-32"), "%s", rn_errmsg());
            b[at] ^= 0x10;
            EXPECT(torch_load_mem(b, n, files[k], &tf) == 0, "restored: %s", rn_errmsg());
            torch_free(&tf);
        }
        zip_close(&z);
        free(b);
    }
}
