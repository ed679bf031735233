/* draw.h: pictures for people — class colours blended over a frame, box outlines — drawn into 8-bit RGB images. */
#pragma once
#include <stdint.h>

#include "data/image.h"

/* Colour of class k among `classes`: SegNet's CamVid palette for 11 classes, the Cityscapes
 * train-id palette for 19, else well-spread hues from a fixed bit-interleaving (as the PASCAL VOC
 * palette does). */
void class_colour(int classes, int k, uint8_t rgb[3]);
/* A copy of the RGB image with the class map pred[h*w] blended over it: alpha * colour +
 * (1 - alpha) * pixel, rounded. */
Image image_overlay_classes(const Image *im, const uint8_t *pred, int classes, double alpha);
/* A 2-pixel rectangle outline over [x0, x1] x [y0, y1] (inside the image) in one of six colours
 * chosen by cls. */
void image_draw_box(Image *im, int x0, int y0, int x1, int y1, int cls);
