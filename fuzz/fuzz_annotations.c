/* fuzz_annotations.c: libFuzzer harness over the annotation parsers (COCO JSON, YOLO txt, VisDrone txt) from memory.
 *
 * Build and run (from the repo root; clang's libFuzzer, ASan + UBSan):
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *       fuzz/fuzz_annotations.c util/err.c data/ds_common.c data/ds_coco.c data/ds_yolo.c \
 *       data/ds_visdrone.c $(pkg-config --cflags --libs jansson) -o build/fuzz_annotations
 *   mkdir -p build/fuzz-corpus && build/fuzz_annotations -max_total_time=60 build/fuzz-corpus
 * The first input byte picks the parser (mod 3: COCO, YOLO, VisDrone); for YOLO the next two bytes
 * give the image size. The JSON parser is jansson's (not instrumented, so coverage guidance sees only
 * rune's side). Every parse must either succeed with sane boxes or fail with a message naming the
 * input; anything else (crash, leak, UB, a bad box) aborts. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/err.h"

static void check_boxes(const Box *b, int n, int nclasses) {
    for (int k = 0; k < n; k++) {
        if (!isfinite(b[k].x0) || !isfinite(b[k].y0) || !isfinite(b[k].x1) || !isfinite(b[k].y1)) abort();
        if (b[k].x1 < b[k].x0 || b[k].y1 < b[k].y0) abort();
        if (b[k].ignore ? b[k].cls < -1 : (b[k].cls < 0 || (nclasses > 0 && b[k].cls >= nclasses))) abort();
    }
}

static void check_failed(const char *name) {
    if (!strstr(rn_errmsg(), name)) abort(); /* every failure names the input */
}

static void fuzz_coco(const char *t, size_t n) {
    Dataset ds;
    if (coco_parse(t, n, "fuzz.json", "img", &ds) < 0) return check_failed("fuzz.json");
    for (int i = 0; i < ds.n; i++) check_boxes(ds.samples[i].boxes, ds.samples[i].nboxes, ds.nclasses);
    dataset_free(&ds);
}

static void fuzz_yolo(const char *t, size_t n, int w, int h) {
    Box *b;
    int nb;
    if (yolo_parse(t, n, "fuzz.txt", w, h, 80, &b, &nb) < 0) return check_failed("fuzz.txt:");
    check_boxes(b, nb, 80);
    for (int k = 0; k < nb; k++)
        if (b[k].x0 < 0 || b[k].x1 > w || b[k].y0 < 0 || b[k].y1 > h) abort();
    free(b);
}

static void fuzz_visdrone(const char *t, size_t n) {
    Box *b;
    int nb;
    if (visdrone_parse(t, n, "fuzz.txt", &b, &nb) < 0) return check_failed("fuzz.txt:");
    check_boxes(b, nb, 10);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    /* copy so that reading one byte past the input (a missing length check) is caught by ASan */
    size_t n = size - 3;
    char *t = malloc(n ? n : 1);
    memcpy(t, data + 3, n);
    switch (data[0] % 3) {
    case 0: fuzz_coco(t, n); break;
    case 1: fuzz_yolo(t, n, 1 + data[1] * 8, 1 + data[2] * 8); break;
    default: fuzz_visdrone(t, n); break;
    }
    free(t);
    return 0;
}
