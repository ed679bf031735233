/* draw.c: class-colour overlays and box outlines drawn into 8-bit RGB images. */
#include "data/draw.h"

#include <stdbool.h>
#include <string.h>

/* SegNet's CamVid colours (class order of data/ds_camvid.c) and the Cityscapes train-id colours. */
static const uint8_t CAMVID_RGB[11][3] = {{128, 128, 128}, {128, 0, 0},   {192, 192, 128}, {128, 64, 128},
                                          {60, 40, 222},   {128, 128, 0}, {192, 128, 128}, {64, 64, 128},
                                          {64, 0, 128},    {64, 64, 0},   {0, 128, 192}};
static const uint8_t CITYSCAPES_RGB[19][3] = {
    {128, 64, 128}, {244, 35, 232}, {70, 70, 70},   {102, 102, 156}, {190, 153, 153}, {153, 153, 153}, {250, 170, 30},
    {220, 220, 0},  {107, 142, 35}, {152, 251, 152}, {70, 130, 180}, {220, 20, 60},   {255, 0, 0},     {0, 0, 142},
    {0, 0, 70},     {0, 60, 100},   {0, 80, 100},   {0, 0, 230},     {119, 11, 32}};

void class_colour(int classes, int k, uint8_t rgb[3]) {
    if (classes == 11 && k < 11) return (void)memcpy(rgb, CAMVID_RGB[k], 3);
    if (classes == 19 && k < 19) return (void)memcpy(rgb, CITYSCAPES_RGB[k], 3);
    rgb[0] = rgb[1] = rgb[2] = 0;
    for (int b = 0, c = k + 1; c; b++, c >>= 3)
        for (int j = 0; j < 3; j++) rgb[j] |= (uint8_t)(((c >> j) & 1) << (7 - b));
}

Image image_overlay_classes(const Image *im, const uint8_t *pred, int classes, double alpha) {
    Image o = image_alloc(im->w, im->h, 3);
    size_t n = (size_t)im->w * im->h;
    for (size_t i = 0; i < n; i++) {
        uint8_t c[3];
        class_colour(classes, pred[i], c);
        for (int j = 0; j < 3; j++) o.px[3 * i + j] = (uint8_t)(alpha * c[j] + (1 - alpha) * im->px[3 * i + j] + 0.5);
    }
    return o;
}

void image_draw_box(Image *im, int x0, int y0, int x1, int y1, int cls) {
    static const uint8_t pal[6][3] = {{255, 64, 64}, {64, 255, 64}, {64, 128, 255}, {255, 200, 0}, {255, 0, 255}, {0, 255, 255}};
    const uint8_t *col = pal[cls % 6];
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            bool edge = x - x0 < 2 || x1 - x < 2 || y - y0 < 2 || y1 - y < 2;
            if (edge) memcpy(im->px + ((size_t)y * im->w + x) * im->c, col, 3);
        }
}
