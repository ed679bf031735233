/* test_image.c: PNG/JPEG I/O (round trips, corrupt files), MATLAB bicubic vs sr-bench, bilinear vs PyTorch, degrade. */
#include <dirent.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/degrade.h"
#include "data/image.h"
#include "data/resize.h"
#include "tests/fixture.h"
#include "tests/test.h"
#include "util/err.h"

/* A per-process scratch path (tests run in forked children, possibly side by side). */
static const char *tmp_path(const char *name) {
    static char p[8][256];
    static int k;
    char *s = p[k++ % 8];
    snprintf(s, 256, "/tmp/rune_test_image_%d_%s", (int)getpid(), name);
    return s;
}

/* Deterministic test pattern: every channel and position distinct enough to catch swaps. */
static Image pattern(int w, int h, int c) {
    Image im = image_alloc(w, h, c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) im.px[((size_t)y * w + x) * c + ch] = (uint8_t)(x * 7 + y * 13 + ch * 61 + (x * y) % 5);
    return im;
}

static int same(const Image *a, const Image *b) {
    return a->w == b->w && a->h == b->h && a->c == b->c && !memcmp(a->px, b->px, (size_t)a->w * a->h * a->c);
}

static void png_roundtrip(int c) {
    Image im = pattern(37, 23, c), back = {0};
    const char *p = tmp_path("rt.png");
    EXPECT(png_write(p, &im) == 0, "%s", rn_errmsg());
    EXPECT(png_read(p, &back, 0) == 0, "%s", rn_errmsg());
    EXPECT(same(&im, &back), "c=%d: pixels differ after a PNG round trip", c);
    unlink(p);
    image_free(&im);
    image_free(&back);
}

TEST(png_roundtrip_gray) { png_roundtrip(1); }
TEST(png_roundtrip_rgb) { png_roundtrip(3); }
TEST(png_roundtrip_rgba) { png_roundtrip(4); }

TEST(png_roundtrip_16bit) {
    Image16 im = image16_alloc(19, 11), back = {0};
    for (int i = 0; i < 19 * 11; i++) im.px[i] = (uint16_t)(i * 331 + 7); /* uses both bytes */
    const char *p = tmp_path("rt16.png");
    EXPECT(png_write16(p, &im) == 0, "%s", rn_errmsg());
    EXPECT(png_read16(p, &back) == 0, "%s", rn_errmsg());
    EXPECT(back.w == 19 && back.h == 11 && !memcmp(im.px, back.px, sizeof(uint16_t) * 19 * 11), "16-bit round trip differs");
    Image tmp;
    EXPECT(png_read(p, &tmp, 0) < 0, "png_read accepted a 16-bit file");
    /* 8-bit gray read as 16-bit keeps its values. */
    Image g = pattern(5, 4, 1);
    EXPECT(png_write(p, &g) == 0, "%s", rn_errmsg());
    image16_free(&back);
    EXPECT(png_read16(p, &back) == 0, "%s", rn_errmsg());
    for (int i = 0; i < 20; i++) EXPECT(back.px[i] == g.px[i], "widened %d: %d vs %d", i, back.px[i], g.px[i]);
    unlink(p);
    image16_free(&im);
    image16_free(&back);
    image_free(&g);
}

TEST(png_memory_roundtrip_and_convert) {
    Image im = pattern(16, 9, 3), back = {0}, gray = {0};
    unsigned char *buf;
    size_t len;
    EXPECT(png_encode(&im, &buf, &len) == 0, "%s", rn_errmsg());
    EXPECT(png_decode(buf, len, &back, 0) == 0 && same(&im, &back), "memory round trip");
    EXPECT(png_decode(buf, len, &gray, 1) == 0 && gray.c == 1, "to gray");
    /* BT.601 luma of the first pixel, by hand. */
    int want = (int)(0.299 * im.px[0] + 0.587 * im.px[1] + 0.114 * im.px[2] + 0.5);
    EXPECT(abs(gray.px[0] - want) <= 0, "luma %d vs %d", gray.px[0], want);
    free(buf);
    image_free(&im), image_free(&back), image_free(&gray);
}

/* Palette (plain and with transparency) and gray+alpha, written with libpng's simplified API. */
TEST(png_palette_and_gray_alpha) {
    const char *p = tmp_path("pal.png");
    uint8_t idx[6] = {0, 1, 2, 2, 1, 0}, cmap[3 * 4] = {10, 20, 30, 200, 100, 50, 0, 255, 7};
    png_image pi = {.version = PNG_IMAGE_VERSION, .width = 3, .height = 2, .format = PNG_FORMAT_RGB_COLORMAP, .colormap_entries = 3};
    EXPECT(png_image_write_to_file(&pi, p, 0, idx, 0, cmap), "libpng simplified write failed");
    Image im = {0};
    EXPECT(png_read(p, &im, 0) == 0, "%s", rn_errmsg());
    EXPECT(im.c == 3 && im.w == 3 && im.h == 2, "palette -> %dx%dx%d", im.w, im.h, im.c);
    EXPECT(im.px[3 * 1 + 0] == 200 && im.px[3 * 1 + 1] == 100 && im.px[3 * 1 + 2] == 50, "palette entry 1 expanded wrong");
    image_free(&im);

    uint8_t cmapa[4 * 3] = {10, 20, 30, 255, 200, 100, 50, 128, 0, 255, 7, 0};
    pi = (png_image){.version = PNG_IMAGE_VERSION, .width = 3, .height = 2, .format = PNG_FORMAT_RGBA_COLORMAP, .colormap_entries = 3};
    EXPECT(png_image_write_to_file(&pi, p, 0, idx, 0, cmapa), "libpng simplified write failed");
    EXPECT(png_read(p, &im, 0) == 0 && im.c == 4, "palette+tRNS -> c=%d", im.c);
    EXPECT(im.px[4 * 1 + 3] == 128 && im.px[4 * 2 + 3] == 0, "alpha from tRNS: %d %d", im.px[7], im.px[11]);
    image_free(&im);

    uint8_t ga[6 * 2] = {0, 255, 50, 128, 100, 0, 150, 255, 200, 1, 250, 2};
    pi = (png_image){.version = PNG_IMAGE_VERSION, .width = 3, .height = 2, .format = PNG_FORMAT_GA};
    EXPECT(png_image_write_to_file(&pi, p, 0, ga, 0, NULL), "libpng simplified write failed");
    EXPECT(png_read(p, &im, 0) == 0 && im.c == 4, "gray+alpha -> c=%d", im.c);
    EXPECT(im.px[4 * 1 + 0] == 50 && im.px[4 * 1 + 2] == 50 && im.px[4 * 1 + 3] == 128, "gray+alpha expanded wrong");
    image_free(&im);
    EXPECT(png_read(p, &im, 1) == 0 && im.c == 1 && im.px[1] == 50, "gray+alpha read as gray");
    image_free(&im);
    unlink(p);
}

/* Writes `len` bytes to a file; returns its path. */
static const char *put(const char *name, const unsigned char *b, size_t len) {
    const char *p = tmp_path(name);
    EXPECT(file_write_all(p, b, len) == 0, "%s", rn_errmsg());
    return p;
}

/* The reader must fail with a message naming the file, and not crash (each test is a child process). */
static void expect_bad(int (*rd)(const char *, Image *, int), const char *p, const char *what) {
    Image im = {0};
    EXPECT(rd(p, &im, 0) < 0, "%s was accepted", what);
    EXPECT(strstr(rn_errmsg(), p) != NULL, "%s: message does not name the file: %s", what, rn_errmsg());
    EXPECT(im.px == NULL, "%s: output touched on failure", what);
    printf("    %s -> %s\n", what, rn_errmsg());
    unlink(p);
}

TEST(png_bad_files_fail_cleanly) {
    Image im = pattern(64, 48, 3);
    unsigned char *buf;
    size_t len;
    EXPECT(png_encode(&im, &buf, &len) == 0, "%s", rn_errmsg());
    expect_bad(png_read, put("zero.png", buf, 0), "zero-byte PNG");
    expect_bad(png_read, put("trunc.png", buf, len / 2), "truncated PNG");
    expect_bad(png_read, put("trunc_end.png", buf, len - 6), "PNG missing its IEND");
    unsigned char *bad = malloc(len);
    memcpy(bad, buf, len);
    for (size_t i = len / 3; i < len / 3 + 16; i++) bad[i] ^= 0x5a; /* inside IDAT: CRC and zlib errors */
    expect_bad(png_read, put("corrupt.png", bad, len), "corrupt PNG");
    memcpy(bad, buf, len);
    bad[16] = 0x7f; /* IHDR width = 2^31-ish */
    expect_bad(png_read, put("huge.png", bad, len), "PNG with absurd IHDR");
    expect_bad(png_read, put("junk.png", (const unsigned char *)"hello, not an image", 19), "junk PNG");
    Image16 i16;
    EXPECT(png_read16(put("zero16.png", buf, 0), &i16) < 0, "zero-byte 16-bit PNG accepted");
    EXPECT(png_read16(put("rgb16.png", buf, len), &i16) < 0, "RGB accepted as 16-bit gray");
    EXPECT(png_read("/nonexistent/x.png", &im, 0) < 0 && strstr(rn_errmsg(), "/nonexistent/x.png"), "missing file");
    free(bad);
    free(buf);
    image_free(&im);
}

static double psnr8(const Image *a, const Image *b) {
    double se = 0;
    size_t n = (size_t)a->w * a->h * a->c;
    for (size_t i = 0; i < n; i++) se += (double)(a->px[i] - b->px[i]) * (a->px[i] - b->px[i]);
    return se == 0 ? 99 : 10 * log10(255.0 * 255.0 / (se / n));
}

TEST(jpeg_roundtrip) {
    for (int c = 1; c <= 3; c += 2) {
        Image im = pattern(40, 30, c), back = {0};
        unsigned char *buf;
        size_t len;
        EXPECT(jpeg_encode(&im, 95, 444, &buf, &len) == 0, "%s", rn_errmsg());
        EXPECT(len > 4 && buf[0] == 0xff && buf[1] == 0xd8 && buf[len - 2] == 0xff && buf[len - 1] == 0xd9,
               "c=%d: %zu bytes are not exactly one SOI..EOI stream", c, len);
        EXPECT(jpeg_decode(buf, len, &back, 0) == 0, "%s", rn_errmsg());
        EXPECT(back.c == c && back.w == 40 && back.h == 30, "decoded %dx%dx%d", back.w, back.h, back.c);
        double p = psnr8(&im, &back);
        printf("    c=%d q95 444: %zu bytes, PSNR %.2f dB\n", c, len, p);
        EXPECT(p > 30, "c=%d: PSNR %.2f at quality 95", c, p);
        free(buf);
        image_free(&im), image_free(&back);
    }
    Image im = pattern(8, 8, 3);
    unsigned char *buf;
    size_t len;
    EXPECT(jpeg_encode(&im, 0, 420, &buf, &len) < 0, "quality 0 accepted");
    EXPECT(jpeg_encode(&im, 101, 420, &buf, &len) < 0, "quality 101 accepted");
    EXPECT(jpeg_encode(&im, 50, 411, &buf, &len) < 0, "subsampling 411 accepted");
    const char *p = tmp_path("w.jpg");
    Image back = {0};
    EXPECT(image_write(p, &im) == 0 && image_read(p, &back, 3) == 0 && back.w == 8, "image_write/read by extension");
    EXPECT(image_read(tmp_path("x.bmp"), &back, 3) < 0 && strstr(rn_errmsg(), "x.bmp"), "unknown extension accepted");
    unlink(p);
    image_free(&im), image_free(&back);
}

TEST(jpeg_bad_files_fail_cleanly) {
    Image im = pattern(64, 48, 3);
    unsigned char *buf;
    size_t len;
    EXPECT(jpeg_encode(&im, 80, 420, &buf, &len) == 0, "%s", rn_errmsg());
    expect_bad(jpeg_read, put("zero.jpg", buf, 0), "zero-byte JPEG");
    expect_bad(jpeg_read, put("trunc.jpg", buf, len / 2), "truncated JPEG");
    expect_bad(jpeg_read, put("hdr.jpg", buf, 40), "JPEG cut inside its header");
    unsigned char *bad = malloc(len);
    memcpy(bad, buf, len);
    for (size_t i = len / 2; i < len / 2 + 8; i++) bad[i] = 0xff; /* bogus markers in the entropy data */
    expect_bad(jpeg_read, put("corrupt.jpg", bad, len), "corrupt JPEG");
    expect_bad(jpeg_read, put("junk.jpg", (const unsigned char *)"GIF89a not a jpeg", 17), "junk JPEG");
    free(bad);
    free(buf);
    image_free(&im);
}

/* A real frame: more quality, strictly more bytes (the knob the profiler sweeps). */
TEST(jpeg_bytes_monotone_in_quality_camvid) {
    const char *p = test_shared_path("data/camvid/test/Seq05VD_f00000.png");
    Image im;
    EXPECT(png_read(p, &im, 3) == 0, "%s", rn_errmsg());
    if (!im.px) return;
    EXPECT(im.w == 480 && im.h == 360, "CamVid frame %dx%d", im.w, im.h);
    size_t prev = 0;
    for (int q = 10; q <= 100; q += 10) {
        unsigned char *buf;
        size_t len;
        EXPECT(jpeg_encode(&im, q, 420, &buf, &len) == 0, "%s", rn_errmsg());
        printf("    q%3d: %7zu bytes\n", q, len);
        EXPECT(len > prev, "quality %d gave %zu bytes, not more than %zu", q, len, prev);
        prev = len;
        free(buf);
    }
    unsigned char *b420, *b444;
    size_t n420, n444;
    EXPECT(jpeg_encode(&im, 70, 420, &b420, &n420) == 0 && jpeg_encode(&im, 70, 444, &b444, &n444) == 0, "encode");
    EXPECT(n444 > n420, "4:4:4 (%zu) not larger than 4:2:0 (%zu)", n444, n420);
    free(b420), free(b444);
    image_free(&im);
}

TEST(image_frame_conversions) {
    Image im = pattern(6, 5, 3);
    Frame f = frame_from_image(&im);
    EXPECT_NEAR(f.px[0], im.px[0] / 255.0, 1e-7);
    EXPECT_NEAR(f.px[30 + 1], im.px[3 * 1 + 1] / 255.0, 1e-7); /* plane 1, pixel 1 = G of pixel 1 */
    Image back = image_from_frame(&f);
    EXPECT(same(&im, &back), "8-bit -> float -> 8-bit is not the identity");
    f.px[0] = -0.3f, f.px[1] = 1.7f, f.px[2] = 0.5f / 255.0f + 1e-6f;
    Image cl = image_from_frame(&f);
    EXPECT(cl.px[0] == 0 && cl.px[3] == 255 && cl.px[6] == 1, "clamp/round: %d %d %d", cl.px[0], cl.px[3], cl.px[6]);
    Image crop = image_crop(&im, 2, 1, 3, 2);
    EXPECT(crop.px[0] == im.px[(1 * 6 + 2) * 3] && crop.px[3 * 3 + 2] == im.px[(2 * 6 + 2) * 3 + 2], "crop");
    frame_free(&f);
    image_free(&im), image_free(&back), image_free(&cl), image_free(&crop);
}

/* The two byte -> float rules: division is the correctly rounded v / 255 (PyTorch's ToTensor,
 * darknet), multiplication by 1/255 is off by one unit in the last place for some values; planes
 * come out [c][h][w]. */
TEST(image_to_planar_rules) {
    float div[256], mul[256];
    pixel_unit_table(PIXEL_DIV, div);
    pixel_unit_table(PIXEL_MUL, mul);
    int differ = 0;
    for (int v = 0; v < 256; v++) {
        EXPECT(div[v] == (float)((double)v / 255.0), "PIXEL_DIV(%d) = %.9g is not v/255 rounded once", v, div[v]);
        EXPECT(mul[v] == (float)v * (1.0f / 255.0f), "PIXEL_MUL(%d) = %.9g", v, mul[v]);
        EXPECT(fabsf(div[v] - mul[v]) <= 6e-8f, "rules %d apart by more than an ulp", v);
        differ += div[v] != mul[v];
    }
    EXPECT(div[0] == 0 && div[255] == 1 && mul[255] == 1, "ends");
    EXPECT(differ > 0, "the rules never differ: one of them is not what it says");
    Image im = pattern(6, 5, 3);
    float p[90];
    image_to_planar(&im, PIXEL_DIV, p);
    EXPECT(p[30 + 7] == div[im.px[3 * 7 + 1]] && p[60 + 29] == div[im.px[3 * 29 + 2]], "plane order");
    Frame f = frame_from_image(&im);
    image_to_planar(&im, PIXEL_MUL, p);
    EXPECT(memcmp(f.px, p, sizeof p) == 0, "frame_from_image is PIXEL_MUL");
    frame_free(&f);
    image_free(&im);
}

TEST(bicubic_basic_properties) {
    Image im = image_alloc(23, 17, 3);
    memset(im.px, 97, 23 * 17 * 3);
    Image lr = resize_bicubic(&im, 7, 5);
    for (int i = 0; i < 7 * 5 * 3; i++) EXPECT(lr.px[i] == 97, "constant not kept at %d: %d", i, lr.px[i]);
    Image pat = pattern(12, 9, 1), same_sz = resize_bicubic(&pat, 12, 9);
    EXPECT(same(&pat, &same_sz), "resizing to the same size is not the identity");
    image_free(&im), image_free(&lr), image_free(&pat), image_free(&same_sz);
}

/* Mean |diff| between MATLAB's LR and ours for every HR/LR pair in one sr-bench folder. */
static void sr_bench_folder(const char *rel, int scale) {
    const char *dir = test_shared_path(rel);
    char dcopy[512];
    snprintf(dcopy, sizeof dcopy, "%s", dir);
    DIR *d = opendir(dcopy);
    EXPECT(d != NULL, "cannot list %s", dcopy);
    if (!d) return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        const char *hr_tag = strstr(e->d_name, "_HR.png");
        if (!hr_tag) continue;
        char hp[800], lp[800];
        snprintf(hp, sizeof hp, "%s/%s", dcopy, e->d_name);
        snprintf(lp, sizeof lp, "%s/%.*s_LR.png", dcopy, (int)(hr_tag - e->d_name), e->d_name);
        Image hr, lr;
        if (png_read(hp, &hr, 3) < 0 || png_read(lp, &lr, 3) < 0) {
            EXPECT(0, "%s", rn_errmsg());
            continue;
        }
        EXPECT(hr.w == lr.w * scale && hr.h == lr.h * scale, "%s: HR %dx%d is not x%d of LR %dx%d", hp, hr.w, hr.h, scale, lr.w, lr.h);
        Image ours = resize_bicubic(&hr, lr.w, lr.h);
        double mad = 0;
        int maxd = 0;
        size_t np = (size_t)lr.w * lr.h * 3;
        for (size_t i = 0; i < np; i++) {
            int dd = abs(ours.px[i] - lr.px[i]);
            mad += dd;
            if (dd > maxd) maxd = dd;
        }
        mad /= np;
        printf("    %-22s x%d %4dx%-4d MAD %.4f (max %d)\n", e->d_name, scale, lr.w, lr.h, mad, maxd);
        EXPECT(mad <= 1.0, "%s: mean |ours - MATLAB| = %.3f grey levels", hp, mad);
        /* Stronger than the spec: with MATLAB's index clamping and per-pass uint8 rounding the
         * shipped LR images are reproduced bit for bit; any drift means a convention changed. */
        EXPECT(maxd == 0, "%s: max |ours - MATLAB| = %d grey levels (was bit-exact)", hp, maxd);
        image_free(&hr), image_free(&lr), image_free(&ours);
        n++;
    }
    closedir(d);
    EXPECT(n > 0, "no HR/LR pairs in %s", dcopy);
}

TEST(bicubic_matches_matlab_set5_x2) { sr_bench_folder("data/sr-bench/Set5/image_SRF_2", 2); }
TEST(bicubic_matches_matlab_set5_x3) { sr_bench_folder("data/sr-bench/Set5/image_SRF_3", 3); }
TEST(bicubic_matches_matlab_set5_x4) { sr_bench_folder("data/sr-bench/Set5/image_SRF_4", 4); }
TEST(bicubic_matches_matlab_set14_x4) { sr_bench_folder("data/sr-bench/Set14/image_SRF_4", 4); }

TEST(bilinear_matches_torch) {
    Fixture *f = fx_open("image_resize.h5");
    if (!f) return;
    size_t n;
    double *x = fx_array(f, "x", &n);
    EXPECT(n == 3 * 7 * 9, "fixture x has %zu values", n);
    Frame in = frame_alloc(9, 7, 3);
    for (size_t i = 0; i < n; i++) in.px[i] = (float)x[i];
    struct { const char *name; int h, w; } cases[] = {{"up", 13, 17}, {"up4", 28, 36}, {"down", 4, 5}, {"down2", 3, 4}, {"mixed", 5, 20}};
    for (int k = 0; k < 5; k++) {
        Frame out = resize_bilinear(&in, cases[k].w, cases[k].h);
        fx_expect(f, cases[k].name, out.px, (size_t)3 * cases[k].w * cases[k].h, 1e-5, 1e-5);
        frame_free(&out);
    }
    frame_free(&in);
    fx_close(f);
}

TEST(degrade_sizes_non_divisible) {
    Image hr = pattern(101, 67, 3);
    int scales[] = {1, 2, 3, 4, 6, 8, 7};
    for (int k = 0; k < 7; k++) {
        int s = scales[k];
        for (int q = 0; q <= 70; q += 70) {
            Degraded d;
            EXPECT(degrade(&hr, s, q, &d) == 0, "%s", rn_errmsg());
            EXPECT(d.lr.w == 101 / s && d.lr.h == 67 / s && d.lr.c == 3, "x%d q%d: LR %dx%d", s, q, d.lr.w, d.lr.h);
            EXPECT(d.hr_w == (101 / s) * s && d.hr_h == (67 / s) * s, "x%d: HR crop %dx%d", s, d.hr_w, d.hr_h);
            Image dec;
            int rc = q ? jpeg_decode(d.bytes, d.nbytes, &dec, 3) : png_decode(d.bytes, d.nbytes, &dec, 3);
            EXPECT(rc == 0 && same(&dec, &d.lr), "x%d q%d: the bytes do not decode to the LR frame", s, q);
            Image crop = degrade_crop(&hr, s);
            if (q == 0 && s > 1) {
                Image ref = resize_bicubic(&crop, crop.w / s, crop.h / s);
                EXPECT(same(&ref, &d.lr), "x%d lossless LR is not the bicubic downscale of the crop", s);
                image_free(&ref);
            }
            if (q == 0 && s == 1) EXPECT(same(&crop, &d.lr), "x1 lossless is not the frame itself");
            image_free(&dec), image_free(&crop);
            degraded_free(&d);
        }
    }
    Degraded d;
    EXPECT(degrade(&hr, 102, 70, &d) < 0, "a frame smaller than the scale was accepted");
    EXPECT(degrade(&hr, 0, 70, &d) < 0, "scale 0 accepted");
    EXPECT(degrade(&hr, 2, 101, &d) < 0, "quality 101 accepted");
    image_free(&hr);
}

/* Inputs the fuzzers (scripts/fuzz.sh) once found trouble with: each must fail fast and cleanly. */
TEST(png_fuzz_regressions) {
    const char *files[] = {"fuzz/regress/png/chunk_2gb_alloc.png"};
    for (int i = 0; i < 1; i++) {
        unsigned char *buf;
        size_t len;
        if (file_read_all(files[i], &buf, &len) < 0) {
            EXPECT(0, "%s", rn_errmsg());
            continue;
        }
        Image im = {0};
        Image16 m = {0};
        EXPECT(png_decode(buf, len, &im, 0) < 0 && png_decode16(buf, len, &m) < 0, "%s decoded", files[i]);
        EXPECT(strstr(rn_errmsg(), "claims") != NULL, "%s: rejected late: %s", files[i], rn_errmsg());
        free(buf);
    }
}
