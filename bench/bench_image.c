/* bench_image.c: speed of PNG decode, JPEG encode/decode, bicubic downscale and degrade() on real frames. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"
#include "data/degrade.h"
#include "data/image.h"
#include "data/resize.h"
#include "util/err.h"
#include "util/progress.h"
#include "util/sort.h"

#define DEFAULT_FRAME "data/samples/camvid/test/Seq05VD_f00000.png"

typedef struct BenchCase {
    const Image *im;
    int quality;
    const unsigned char *enc; /* PNG or JPEG bytes for the decode cases */
    size_t nenc;
} BenchCase;

typedef void (*BenchFn)(const BenchCase *);

static void do_png_decode(const BenchCase *b) {
    Image out;
    if (png_decode(b->enc, b->nenc, &out, 0) < 0) rn_die("bench: %s", rn_errmsg());
    image_free(&out);
}

static void do_jpeg_encode(const BenchCase *b) {
    unsigned char *buf;
    size_t len;
    if (jpeg_encode(b->im, b->quality, 420, &buf, &len) < 0) rn_die("bench: %s", rn_errmsg());
    free(buf);
}

static void do_jpeg_decode(const BenchCase *b) {
    Image out;
    if (jpeg_decode(b->enc, b->nenc, &out, 3) < 0) rn_die("bench: %s", rn_errmsg());
    image_free(&out);
}

static void do_bicubic4(const BenchCase *b) {
    Image lr = resize_bicubic(b->im, b->im->w / 4, b->im->h / 4);
    image_free(&lr);
}

static void do_degrade4(const BenchCase *b) {
    Degraded d;
    if (degrade(b->im, 4, b->quality, &d) < 0) rn_die("bench: %s", rn_errmsg());
    degraded_free(&d);
}

/* Runs fn for about 0.5 s (at least 5 times, at most 200), prints best and median. */
static void run(const char *what, BenchFn fn, const BenchCase *b, double mpix) {
    double t[200];
    int n = 0;
    fn(b); /* warm-up: page in the code and the allocator */
    double start = now_seconds();
    while (n < 200 && (n < 5 || now_seconds() - start < 0.5)) {
        double t0 = now_seconds();
        fn(b);
        t[n++] = now_seconds() - t0;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    printf("  %-34s best %8.3f ms  median %8.3f ms  %7.1f Mpixel/s  (%d runs)\n", what, t[0] * 1e3, t[n / 2] * 1e3,
           mpix / t[n / 2], n);
}

static void bench_one(const Image *im) {
    double mpix = (double)im->w * im->h * 1e-6;
    printf("%dx%d RGB (%.2f Mpixel):\n", im->w, im->h, mpix);
    BenchCase b = {im, 95, NULL, 0};
    unsigned char *png, *jpg;
    size_t npng, njpg;
    if (png_encode(im, &png, &npng) < 0) rn_die("bench: %s", rn_errmsg());
    b.enc = png, b.nenc = npng;
    run("PNG decode (from memory)", do_png_decode, &b, mpix);
    free(png);
    for (int q = 95; q >= 70; q -= 25) {
        b.quality = q;
        if (jpeg_encode(im, q, 420, &jpg, &njpg) < 0) rn_die("bench: %s", rn_errmsg());
        char what[64];
        snprintf(what, sizeof what, "JPEG encode q%d 4:2:0 (%zu B)", q, njpg);
        run(what, do_jpeg_encode, &b, mpix);
        b.enc = jpg, b.nenc = njpg;
        snprintf(what, sizeof what, "JPEG decode q%d 4:2:0", q);
        run(what, do_jpeg_decode, &b, mpix);
        free(jpg);
    }
    b.quality = 70;
    run("bicubic /4 (MATLAB, antialiased)", do_bicubic4, &b, mpix);
    run("degrade x4 q70 (crop+bicubic+JPEG)", do_degrade4, &b, mpix);
}

void bench_image(const char *path) {
    if (!path) path = DEFAULT_FRAME;
    Image im;
    if (png_read(path, &im, 3) < 0) {
        fprintf(stderr, "bench_image: %s\n", rn_errmsg());
        return;
    }
    printf("== image I/O on %s (one thread)\n", path);
    bench_one(&im);
    Image big = resize_bicubic(&im, 2048, 1024);
    bench_one(&big);
    image_free(&big);
    image_free(&im);
}

#ifdef BENCH_IMAGE_MAIN
/* Standalone driver for scripts/bench_image.sh: bench_image [FRAME.png [BIG_OUT.png]] — the
 * second argument saves the 2048x1024 upscale so tjbench can be run on the same pixels. */
int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : NULL;
    if (argc > 2) {
        Image im, big;
        if (png_read(path, &im, 3) < 0) rn_die("%s", rn_errmsg());
        big = resize_bicubic(&im, 2048, 1024);
        if (png_write(argv[2], &big) < 0) rn_die("%s", rn_errmsg());
        image_free(&im), image_free(&big);
        return 0;
    }
    bench_image(path);
    return 0;
}
#endif
