/* test_sr_metrics.c: Y-channel PSNR/SSIM against numpy (scripts/fixtures/gen_sr_metrics.py). */
#include <math.h>
#include <string.h>

#include "profile/sr_metrics.h"
#include "tests/fixture.h"
#include "tests/test.h"

/* uint8 HWC dataset of the fixture as an Image (pixels in the arena-backed double copy). */
static Image fixture_image(Fixture *f, const char *name, int h, int w) {
    size_t n;
    double *v = fx_array(f, name, &n);
    Image im = image_alloc(w, h, 3);
    EXPECT(n == (size_t)h * w * 3, "%s has %zu values", name, n);
    for (size_t i = 0; i < n && i < (size_t)h * w * 3; i++) im.px[i] = (uint8_t)v[i];
    return im;
}

TEST(sr_metrics_vs_numpy) {
    Fixture *f = fx_open("sr_metrics.h5");
    if (!f) return;
    Image hr = fixture_image(f, "hr", 40, 48), sr = fixture_image(f, "sr", 40, 48);
    double y[40 * 48];
    sr_y_channel(&hr, y);
    real_t yr[40 * 48];
    for (int i = 0; i < 40 * 48; i++) yr[i] = (real_t)y[i];
    fx_expect(f, "y_hr", yr, 40 * 48, 0, 0); /* integers: exact */
    EXPECT_NEAR(sr_psnr(&sr, &hr, 0), fx_scalar(f, "psnr_b0"), 1e-9);
    EXPECT_NEAR(sr_psnr(&sr, &hr, 4), fx_scalar(f, "psnr_b4"), 1e-9);
    EXPECT_NEAR(sr_ssim(&sr, &hr, 0), fx_scalar(f, "ssim_b0"), 1e-9);
    EXPECT_NEAR(sr_ssim(&sr, &hr, 4), fx_scalar(f, "ssim_b4"), 1e-9);
    image_free(&hr), image_free(&sr);
    fx_close(f);
}

TEST(sr_metrics_identity_and_symmetry) {
    Image a = image_alloc(20, 16, 3), b = image_alloc(20, 16, 3);
    for (int i = 0; i < 20 * 16 * 3; i++) a.px[i] = (uint8_t)(i * 37 % 251), b.px[i] = (uint8_t)(i * 53 % 241);
    EXPECT(isinf(sr_psnr(&a, &a, 2)), "identical images: infinite PSNR");
    EXPECT_NEAR(sr_ssim(&a, &a, 2), 1.0, 1e-12);
    EXPECT_NEAR(sr_ssim(&a, &b, 2), sr_ssim(&b, &a, 2), 1e-12);
    EXPECT(sr_ssim(&a, &b, 2) < 0.5, "unrelated images have low SSIM");
    /* a gray image is R = G = B */
    Image g = image_alloc(20, 16, 1), g3 = image_alloc(20, 16, 3);
    for (int i = 0; i < 20 * 16; i++) g.px[i] = g3.px[3 * i] = g3.px[3 * i + 1] = g3.px[3 * i + 2] = (uint8_t)(i * 7);
    EXPECT_NEAR(sr_psnr(&g, &a, 1), sr_psnr(&g3, &a, 1), 1e-12);
    image_free(&a), image_free(&b), image_free(&g), image_free(&g3);
}

/* RGB PSNR over every sample: one sample off by 10 in 2 x 1 x 3 -> 10 log10(255^2 * 6 / 100). */
TEST(psnr_rgb_by_hand) {
    Image a = image_alloc(2, 1, 3), b = image_alloc(2, 1, 3);
    memset(a.px, 100, 6), memset(b.px, 100, 6);
    EXPECT(isinf(psnr_rgb(&a, &b)), "identical images: infinite PSNR");
    b.px[4] = 110;
    EXPECT_NEAR(psnr_rgb(&a, &b), 10 * log10(255.0 * 255.0 * 6 / 100), 1e-12);
    image_free(&a), image_free(&b);
}
