/* fuzz_frame.c: libFuzzer harness for what a FRAME costs the cloud: any declared size and scale (up to the wire's 16384x16384) with any payload, through wire_decode, frame_admit and the decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/degrade.h"
#include "data/image.h"
#include "serve/admit.h"
#include "serve/wire.h"

#define MAX_PIXELS (1920L * 1080L) /* serve-cloud's default --max-pixels */

/* Input: u16 hr_w, u16 hr_h, u8 scale, u8 quality (both taken modulo their ranges), then the payload.
 * The declared size is any the wire allows, so large declarations with small payloads are the common
 * case, not a rare mutation. Checks: an encoded FRAME decodes back; frame_admit refuses any frame whose
 * decode could exceed MAX_PIXELS / scale^2 pixels; an admitted payload that decodes has exactly the
 * admitted LR size (the header read and the decoder agree). The run's RSS limit (scripts/fuzz.sh)
 * bounds what one frame may allocate. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6) return 0;
    WireMsg m = {.type = WIRE_FRAME};
    strcpy(m.edge_id, "fuzz");
    WireFrame *f = &m.u.frame;
    f->hr_w = data[0] | data[1] << 8;
    f->hr_h = data[2] | data[3] << 8;
    f->cfg = (WireConfig){.scale = 1 + data[4] % WIRE_MAX_SCALE, .quality = data[5] % 101};
    f->payload = data + 6;
    f->payload_len = (uint32_t)(size - 6);
    size_t n = 0;
    uint8_t *wire = wire_encode_alloc(&m, &n);
    if (!wire) return 0; /* a size the wire itself refuses (0, or over WIRE_MAX_SIDE) */
    WireMsg back;
    if (wire_decode(wire, n, &back) != WIRE_OK) abort();
    const WireFrame *g = &back.u.frame;
    char why[256];
    if (frame_admit(g, MAX_PIXELS, why, sizeof why) < 0) {
        int lw = degrade_lr_size(g->hr_w, g->cfg.scale), lh = degrade_lr_size(g->hr_h, g->cfg.scale);
        if ((long)g->hr_w * g->hr_h > MAX_PIXELS) abort();
        Image img;
        int rc = g->cfg.quality == 0 ? png_decode(g->payload, g->payload_len, &img, 3)
                                     : jpeg_decode(g->payload, g->payload_len, &img, 3);
        if (rc == 0) {
            if (img.w != lw || img.h != lh) abort();
            image_free(&img);
        }
    }
    free(wire);
    return 0;
}
