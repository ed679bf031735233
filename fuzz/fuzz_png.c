/* fuzz_png.c: libFuzzer harness for PNG decoding from memory (png_decode in every channel mode, png_decode16). */
#include <stdint.h>
#include <stdlib.h>

#include "data/image.h"

/* Every input must either decode to a sane image or fail with -1; ASan/LSan catch the rest. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const int want[] = {0, 1, 3, 4};
    if (size % 5 == 4) { /* the 16-bit (instance map) reader */
        Image16 m = {0};
        if (png_decode16(data, size, &m) == 0) {
            if (m.w <= 0 || m.h <= 0 || !m.px) abort();
            volatile uint16_t sink = m.px[(size_t)m.w * m.h - 1];
            (void)sink;
            image16_free(&m);
        }
        return 0;
    }
    Image im = {0};
    int c = want[size % 4];
    if (png_decode(data, size, &im, c) == 0) {
        if (im.w <= 0 || im.h <= 0 || (c && im.c != c) || !im.px) abort();
        volatile uint8_t sink = im.px[(size_t)im.w * im.h * im.c - 1]; /* last byte must be addressable */
        (void)sink;
        image_free(&im);
    }
    return 0;
}
