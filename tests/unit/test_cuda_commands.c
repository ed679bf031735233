/* test_cuda_commands.c: the subcommands with --device cuda against --device cpu, run as the CUDA rune binary (skipped without a GPU). */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/image.h"
#include "nn/models/carn.h"
#include "tests/rune_exec.h"
#include "tests/test.h"
#include "util/err.h"

#ifndef RUNE_CUDA
TEST(cuda_commands) { SKIP("built without CUDA (make CUDA=1)"); }
#else
#include "nn/cuda/cuda.h"

#define FRAME "data/samples/camvid/test/Seq05VD_f00000.png"

/* A GPU, and RUNE_BIN = the rune beside this test binary: scripts/gpu-check.sh runs test_unit
 * without RUNE_BIN, and the CUDA test_unit must drive the CUDA rune (build/gpu/rune or
 * .gpu/rune), never a CPU build that would refuse --device cuda. */
static void need_gpu_rune(void) {
    if (!cuda_available()) SKIP(rn_errmsg());
    static char bin[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 8);
    if (n <= 0) SKIP("cannot find this test binary's folder");
    bin[n] = 0;
    char *slash = strrchr(bin, '/');
    strcpy(slash ? slash + 1 : bin, "rune");
    if (access(bin, X_OK) != 0) SKIP("no rune beside the CUDA test_unit (make BUILD=... CUDA=1 .../rune)");
    setenv("RUNE_BIN", bin, 1);
}

/* Runs rune with args (printf-style), its output into out[n]; fails the test, printing the
 * output, unless it exits 0. */
static int vrun(char *out, size_t n, const char *fmt, va_list ap) {
    static char args[2048];
    vsnprintf(args, sizeof args, fmt, ap);
    int rc = rune_exec(args, out, n);
    EXPECT(rc == 0, "rune %s: exit %d:\n%s", args, rc, out);
    return rc;
}

static int run_capture(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run_capture(char *out, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vrun(out, n, fmt, ap);
    va_end(ap);
    return rc;
}

static int run_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_ok(const char *fmt, ...) {
    static char out[16384];
    va_list ap;
    va_start(ap, fmt);
    int rc = vrun(out, sizeof out, fmt, ap);
    va_end(ap);
    return rc;
}

/* A 160x120 corner of the sample frame (keeps the CPU side of each comparison to a second). */
static const char *small_frame(const char *dir) {
    static char path[512];
    Image im, crop;
    EXPECT(image_read(FRAME, &im, 3) == 0, "%s", rn_errmsg());
    crop = image_crop(&im, 160, 120, 160, 120);
    snprintf(path, sizeof path, "%s/in.png", dir);
    EXPECT(png_write(path, &crop) == 0, "%s", rn_errmsg());
    image_free(&im), image_free(&crop);
    return path;
}

/* Upscale: the same CARN-M on both devices differs by float32 summation order (~1e-6 of a pixel);
 * after clamping and rounding to 8 bits that moves a value by at most one step where it lies on
 * a rounding boundary. Tiles of 48 on a 160x120 input also cross the per-tile device rewind. */
TEST(cuda_commands_upscale_matches_cpu) {
    need_gpu_rune();
    const char *dir = test_temp_dir("up");
    const char *in = small_frame(dir);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/cpu.png", dir), snprintf(b, sizeof b, "%s/cuda.png", dir);
    if (run_ok("upscale --model weights/carn_m.h5 --scale 4 --tile 48 --device cpu %s %s", in, a)) return;
    if (run_ok("upscale --model weights/carn_m.h5 --scale 4 --tile 48 --device cuda %s %s", in, b)) return;
    Image x, y;
    EXPECT(image_read(a, &x, 3) == 0 && image_read(b, &y, 3) == 0, "%s", rn_errmsg());
    EXPECT(x.w == y.w && x.h == y.h && x.w == 640 && x.h == 480, "%dx%d vs %dx%d", x.w, x.h, y.w, y.h);
    int worst = 0;
    for (size_t i = 0; i < (size_t)x.w * x.h * 3; i++) {
        int d = abs((int)x.px[i] - (int)y.px[i]);
        worst = d > worst ? d : worst;
    }
    EXPECT(worst <= 1, "max |cpu - cuda| = %d of 255", worst);
    image_free(&x), image_free(&y);
}

/* Segment: the labels are an argmax of logits that differ between devices by float32 summation
 * order (ESPNet's CPU logits are within 1.4e-5 of PyTorch's, README), so only pixels whose top two
 * logits lie that close can flip: a handful at class boundaries. 99.9 % (173 of the 172800
 * pixels may differ) leaves room for those, while any wrong kernel moves whole regions. */
TEST(cuda_commands_segment_matches_cpu) {
    need_gpu_rune();
    const char *dir = test_temp_dir("seg");
    char a[600], b[600], oa[600], ob[600];
    snprintf(a, sizeof a, "%s/cpu_map.png", dir), snprintf(b, sizeof b, "%s/cuda_map.png", dir);
    snprintf(oa, sizeof oa, "%s/cpu.png", dir), snprintf(ob, sizeof ob, "%s/cuda.png", dir);
    if (run_ok("segment --model weights/espnet_camvid.h5 --labels %s --device cpu " FRAME " %s", a, oa)) return;
    if (run_ok("segment --model weights/espnet_camvid.h5 --labels %s --device cuda " FRAME " %s", b, ob)) return;
    Image x, y;
    EXPECT(image_read(a, &x, 1) == 0 && image_read(b, &y, 1) == 0, "%s", rn_errmsg());
    EXPECT(x.w == y.w && x.h == y.h && x.w == 480 && x.h == 360, "%dx%d vs %dx%d", x.w, x.h, y.w, y.h);
    size_t n = (size_t)x.w * x.h, same = 0;
    for (size_t i = 0; i < n; i++) same += x.px[i] == y.px[i];
    EXPECT(same >= 0.999 * n, "labels agree on %zu of %zu pixels (%.4f %%)", same, n, 100.0 * same / n);
    image_free(&x), image_free(&y);
}

/* The first logged loss of a run (row "1,<loss>,..."), or NAN. */
static double first_loss(const char *csv) {
    char *t = test_read_text(csv);
    char *row = t ? strstr(t, "\n1,") : NULL;
    double v = row ? atof(row + 3) : NAN;
    free(t);
    return v;
}

/* train-sr: step 1's loss is the L1 of the same initial weights on the same batch (same seed): a
 * float32 mean over 4x3x32x32 values on either device, so 1e-4 relative is summation order only.
 * The checkpoint is written from host copies of device parameters and must load. */
TEST(cuda_commands_train_sr_two_steps) {
    need_gpu_rune();
    const char *dir = test_temp_dir("tsr");
    const char *base = "train-sr --data data/samples/camvid --init weights/carn_m.h5 --scale 4 --lr-patch 8 --batch 4 --quiet";
    if (run_ok("%s --steps 1 --out %s/cpu.h5 --device cpu", base, dir)) return;
    if (run_ok("%s --steps 2 --out %s/cuda.h5 --device cuda", base, dir)) return;
    char p[600], la[600], lb[600];
    snprintf(p, sizeof p, "%s/cuda.h5", dir);
    snprintf(la, sizeof la, "%s/cpu_loss.csv", dir), snprintf(lb, sizeof lb, "%s/cuda_loss.csv", dir);
    double x = first_loss(la), y = first_loss(lb);
    EXPECT(x > 0 && fabs(x - y) <= 1e-4 * x, "first loss cpu %.9g, cuda %.9g", x, y);
    Carn *m = NULL;
    CkptAttrs at;
    EXPECT(carn_load(p, &m, &at) == 0, "%s", rn_errmsg());
    if (m) EXPECT(attrs_get_int(&at, "step", -1) == 2, "step attribute %lld", attrs_get_int(&at, "step", -1));
    if (m) carn_free(m);
}

/* finetune-asr: SR on the GPU through the frozen ESPNet moved there too; 2 steps write the
 * checkpoint and a two-row loss log. */
TEST(cuda_commands_finetune_asr_two_steps) {
    need_gpu_rune();
    const char *dir = test_temp_dir("asr");
    if (run_ok("finetune-asr --sr weights/carn_m.h5 --task weights/espnet_camvid.h5 --data data/samples/camvid "
               "--crop 96 --batch 2 --steps 2 --small 0.05 --quiet --out %s/asr.h5 --device cuda", dir))
        return;
    char p[600], l[600];
    snprintf(p, sizeof p, "%s/asr.h5", dir), snprintf(l, sizeof l, "%s/asr_loss.csv", dir);
    char *t = test_read_text(l);
    EXPECT(t && strstr(t, "\n1,") && strstr(t, "\n2,"), "loss log: %s", t ? t : "(none)");
    free(t);
    Carn *m = NULL;
    EXPECT(carn_load(p, &m, NULL) == 0, "%s", rn_errmsg());
    if (m) carn_free(m);
}

/* train-task: SwiftNet (width 0.25) from the same seeded weights on the same crops, BN in training
 * mode (cuDNN's batch statistics against the CPU's): step 1's cross-entropy is a float32 mean over
 * 2x64x64 pixels either way, so 1e-4 relative is summation order, as for train-sr. */
TEST(cuda_commands_train_task_one_step) {
    need_gpu_rune();
    const char *dir = test_temp_dir("ttask");
    const char *base = "train-task --model swiftnet --data data/samples/camvid --split test --steps 1 --batch 2 --crop 64 --quiet";
    if (run_ok("%s --out %s/cpu.h5 --device cpu", base, dir)) return;
    if (run_ok("%s --out %s/cuda.h5 --device cuda", base, dir)) return;
    char la[600], lb[600];
    snprintf(la, sizeof la, "%s/cpu_loss.csv", dir), snprintf(lb, sizeof lb, "%s/cuda_loss.csv", dir);
    double x = first_loss(la), y = first_loss(lb);
    EXPECT(x > 0 && fabs(x - y) <= 1e-4 * x, "first loss cpu %.9g, cuda %.9g", x, y);
}

/* mIoU and PSNR of table5.csv's row for `method` ("scale,method,miou,psnr,..."; hr's PSNR is nan).
 * Rows follow the header, so "\n4,sr," finds exactly one. 0 when found, -1 when not. */
static int table5_row(const char *path, const char *method, double *miou, double *psnr) {
    char *t = test_read_text(path), key[64];
    snprintf(key, sizeof key, "\n%s,", method);
    const char *row = t ? strstr(t, key) : NULL;
    int ok = row && sscanf(row + strlen(key), "%lf,%lf", miou, psnr) == 2;
    free(t);
    return ok ? 0 : -1;
}

/* eval: the whole pipeline (bicubic downscale, CARN-M x4, ESPNet, scoring) on one sample frame on
 * each device. PSNR is computed from the reconstruction, whose device difference is float32
 * summation order (~1e-6 of a pixel): the CSV's 4 decimals must agree to 2e-3 dB. The label maps
 * may differ in a handful of boundary pixels (see the segment test), and one frame's small
 * classes make mIoU sensitive to those, so 0.5 points; a wrong kernel moves either by far more. */
TEST(cuda_commands_eval_matches_cpu) {
    need_gpu_rune();
    const char *dir = test_temp_dir("eval");
    const char *base = "eval --task weights/espnet_camvid.h5 --data data/samples/camvid --scales 4 "
                       "--method sr:4:weights/carn_m.h5 --frames 1 --episode 1 --bootstrap 0 --no-figures --quiet";
    if (run_ok("%s --out %s/cpu --device cpu", base, dir)) return;
    if (run_ok("%s --out %s/cuda --device cuda", base, dir)) return;
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/cpu/table5.csv", dir), snprintf(b, sizeof b, "%s/cuda/table5.csv", dir);
    const char *rows[] = {"4,bilinear", "4,sr", "1,hr"};
    for (int i = 0; i < 3; i++) {
        double ma, mb, pa, pb;
        EXPECT(table5_row(a, rows[i], &ma, &pa) == 0 && table5_row(b, rows[i], &mb, &pb) == 0, "%s: no row", rows[i]);
        EXPECT(ma > 0 && fabs(ma - mb) <= 0.5, "%s mIoU cpu %.4f, cuda %.4f", rows[i], ma, mb);
        if (i < 2) EXPECT(pa > 15 && fabs(pa - pb) <= 2e-3, "%s PSNR cpu %.4f, cuda %.4f", rows[i], pa, pb);
    }
}

/* The box lines of detect's output ("name class score x0 y0 x1 y1"; the header line does not parse). */
typedef struct { int cls; double score, box[4]; } Box;
static int parse_boxes(char *out, Box *b, int max) {
    int n = 0;
    for (char *line = strtok(out, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        char name[64];
        Box x;
        if (sscanf(line, "%63s %d %lf %lf %lf %lf %lf", name, &x.cls, &x.score, &x.box[0], &x.box[1], &x.box[2],
                   &x.box[3]) == 7)
            b[n++] = x;
    }
    return n;
}

/* detect: Yolo-Fastest 1.1 on a COCO image (shared data; scripts/gpu-pack.sh carries it): the
 * same boxes in the same order, scores equal to the 3 printed decimals (+1 for rounding), corners
 * to 0.2 px (one printed decimal). No score lies within 1e-3 of the 0.25 threshold here, so
 * summation-order noise (~1e-6) cannot add or drop a box. */
TEST(cuda_commands_detect_matches_cpu) {
    need_gpu_rune();
    char cfg[600], w[600], img[600];
    snprintf(cfg, sizeof cfg, "%s", test_shared_path("weights/darknet/yolo-fastest-1.1.cfg"));
    snprintf(w, sizeof w, "%s", test_shared_path("weights/darknet/yolo-fastest-1.1.weights"));
    snprintf(img, sizeof img, "%s", test_shared_path("data/coco-mini/000000037777.jpg"));
    static char oa[8192], ob[8192];
    if (run_capture(oa, sizeof oa, "detect --model %s --weights %s --device cpu %s", cfg, w, img)) return;
    if (run_capture(ob, sizeof ob, "detect --model %s --weights %s --device cuda %s", cfg, w, img)) return;
    Box a[64], b[64];
    int na = parse_boxes(oa, a, 64), nb = parse_boxes(ob, b, 64);
    EXPECT(na >= 3 && na == nb, "%d boxes on the cpu, %d on cuda", na, nb);
    for (int i = 0; i < na && i < nb; i++) {
        EXPECT(a[i].cls == b[i].cls && fabs(a[i].score - b[i].score) <= 1.5e-3, "box %d: class %d %.3f vs %d %.3f", i,
               a[i].cls, a[i].score, b[i].cls, b[i].score);
        for (int k = 0; k < 4; k++)
            EXPECT(fabs(a[i].box[k] - b[i].box[k]) <= 0.2, "box %d corner %d: %.1f vs %.1f", i, k, a[i].box[k], b[i].box[k]);
    }
}
#endif
