/* cmd_segment.c: `rune segment` — segment one image with ESPNet or SwiftNet weights; a class-coloured overlay and the raw class map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "data/image.h"
#include "nn/models/segmenter.h"
#include "util/args.h"
#include "util/err.h"
#include "util/progress.h"

/* SegNet's CamVid colours (class order of data/ds_camvid.c) and the Cityscapes train-id colours. */
static const uint8_t CAMVID_RGB[11][3] = {{128, 128, 128}, {128, 0, 0},   {192, 192, 128}, {128, 64, 128},
                                          {60, 40, 222},   {128, 128, 0}, {192, 128, 128}, {64, 64, 128},
                                          {64, 0, 128},    {64, 64, 0},   {0, 128, 192}};
static const uint8_t CITYSCAPES_RGB[19][3] = {
    {128, 64, 128}, {244, 35, 232}, {70, 70, 70},   {102, 102, 156}, {190, 153, 153}, {153, 153, 153}, {250, 170, 30},
    {220, 220, 0},  {107, 142, 35}, {152, 251, 152}, {70, 130, 180}, {220, 20, 60},   {255, 0, 0},     {0, 0, 142},
    {0, 0, 70},     {0, 60, 100},   {0, 80, 100},   {0, 0, 230},     {119, 11, 32}};

/* Colour of class k among `classes`: the dataset palette for 11 (CamVid) / 19 (Cityscapes) classes,
 * else well-spread hues from a fixed bit-interleaving (as the PASCAL VOC palette does). */
static void class_colour(int classes, int k, uint8_t rgb[3]) {
    if (classes == 11 && k < 11) return (void)memcpy(rgb, CAMVID_RGB[k], 3);
    if (classes == 19 && k < 19) return (void)memcpy(rgb, CITYSCAPES_RGB[k], 3);
    rgb[0] = rgb[1] = rgb[2] = 0;
    for (int b = 0, c = k + 1; c; b++, c >>= 3)
        for (int j = 0; j < 3; j++) rgb[j] |= (uint8_t)(((c >> j) & 1) << (7 - b));
}

static Image overlay(const Image *im, const uint8_t *pred, int classes, double alpha) {
    Image o = image_alloc(im->w, im->h, 3);
    size_t n = (size_t)im->w * im->h;
    for (size_t i = 0; i < n; i++) {
        uint8_t c[3];
        class_colour(classes, pred[i], c);
        for (int j = 0; j < 3; j++) o.px[3 * i + j] = (uint8_t)(alpha * c[j] + (1 - alpha) * im->px[3 * i + j] + 0.5);
    }
    return o;
}

/* The share of the frame each predicted class covers, largest first. */
static void print_histogram(const Segmenter *s, const uint8_t *pred, size_t n) {
    long long count[256] = {0};
    for (size_t i = 0; i < n; i++) count[pred[i]]++;
    for (int shown = 0; shown < s->classes; shown++) {
        int best = -1;
        for (int k = 0; k < s->classes; k++)
            if (count[k] > 0 && (best < 0 || count[k] > count[best])) best = k;
        if (best < 0) break;
        char name[24];
        snprintf(name, sizeof name, "class %d", best);
        printf("  %-14s %6.2f %%\n", s->class_names ? s->class_names[best] : name, 100.0 * count[best] / (double)n);
        count[best] = 0;
    }
}

static int segment_image(Segmenter *s, const Image *im, uint8_t *pred) {
    Frame fr = frame_from_image(im);
    Tensor *x = tensor_new(1, 3, fr.h, fr.w);
    for (size_t i = 0; i < (size_t)3 * fr.w * fr.h; i++) x->data[i] = (real_t)fr.px[i];
    frame_free(&fr);
    bool old = engine_set_grad(false);
    Tensor *y = segmenter_forward(s, x, false);
    engine_set_grad(old);
    segmenter_predict(s, y, 0, pred);
    engine_step_reset();
    return 0;
}

int cmd_segment(int argc, char **argv) {
    const char *model = NULL, *arch = NULL, *norm = NULL, *labels = NULL;
    int classes = 0;
    double alpha = 0.5;
    ArgSpec specs[] = {
        {"model", ARG_STR, &model, "M", "weights: published ESPNet .pth, upstream SwiftNet .pth/.pt, or a rune .h5"},
        {"arch", ARG_STR, &arch, "A", "espnet or swiftnet (default: told from the tensor names / checkpoint)"},
        {"classes", ARG_INT, &classes, "N", "classes to predict (default: the model's outputs; ESPNet 12 -> 11, 20 -> 19, "
                                            "dropping its void channel)"},
        {"norm", ARG_STR, &norm, "NAME", "input normalisation: camvid or cityscapes (ESPNet default: from its class "
                                         "count; SwiftNet: the checkpoint's img_mean/img_std)"},
        {"labels", ARG_STR, &labels, "MAP.png", "also write the raw class map: 8-bit gray PNG, one class id per pixel"},
        {"alpha", ARG_FLOAT, &alpha, "A", "overlay opacity of the class colours (1 = colours only)"},
        {0},
    };
    ArgCmd cmd = {"segment", "--model M [options] IN.png OUT.png",
                  "Segments IN (PNG or JPEG, RGB) with a frozen ESPNet or SwiftNet and writes OUT: the image\n"
                  "blended with class colours (CamVid palette for 11 classes, Cityscapes palette for 19,\n"
                  "generated colours otherwise). Prints the share of the frame each class covers.",
                  specs, 2, 2};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    if (!model) args_usage_error(&cmd, "--model is required");
    if (alpha < 0 || alpha > 1) args_usage_error(&cmd, "--alpha wants 0..1, got %g", alpha);
    Segmenter *s = segmenter_open(model, arch, classes, norm);
    Image im = {0};
    if (!s || image_read(pos[0], &im, 3) < 0) {
        fprintf(stderr, "rune segment: %s\n", rn_errmsg());
        segmenter_close(s);
        free(pos);
        return 1;
    }
    size_t n = (size_t)im.w * im.h;
    Image map = image_alloc(im.w, im.h, 1);
    double t0 = now_seconds();
    segment_image(s, &im, map.px);
    double dt = now_seconds() - t0;
    Image ov = overlay(&im, map.px, s->classes, alpha);
    int rc = image_write(pos[1], &ov);
    if (rc == 0 && labels) rc = png_write(labels, &map);
    if (rc < 0) fprintf(stderr, "rune segment: %s\n", rn_errmsg());
    else {
        printf("%s (%dx%d) -> %s%s%s: %s, %d classes, %.2f s\n", pos[0], im.w, im.h, pos[1], labels ? " + " : "",
               labels ? labels : "", s->arch_name, s->classes, dt);
        print_histogram(s, map.px, n);
    }
    image_free(&im), image_free(&map), image_free(&ov);
    segmenter_close(s);
    free(pos);
    return rc < 0 ? 1 : 0;
}
