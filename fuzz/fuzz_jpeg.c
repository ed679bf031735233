/* fuzz_jpeg.c: libFuzzer harness for JPEG decoding from memory (jpeg_decode through TurboJPEG). */
#include <stdint.h>
#include <stdlib.h>

#include "data/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const int want[] = {0, 1, 3, 4};
    Image im = {0};
    int c = want[size % 4];
    if (jpeg_decode(data, size, &im, c) == 0) {
        if (im.w <= 0 || im.h <= 0 || (c && im.c != c) || !im.px) abort();
        volatile uint8_t sink = im.px[(size_t)im.w * im.h * im.c - 1];
        (void)sink;
        image_free(&im);
    }
    return 0;
}
