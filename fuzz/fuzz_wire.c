/* fuzz_wire.c: libFuzzer harness for the online loop's wire parser (serve/wire.c: wire_decode), with re-encode checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/wire.h"

/* Any bytes: wire_decode answers a known code and never reads outside the input; an accepted
 * message re-encodes to exactly the input bytes (the format has one spelling per message), and
 * a FRAME's payload lies inside the input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    WireMsg m;
    int e = wire_decode(data, size, &m);
    if (e > 0 || e <= -WIRE_NERR) abort();
    if (e != WIRE_OK) {
        if (m.type != 0 || m.edge_id[0]) abort(); /* nothing of a refused message is kept */
        return 0;
    }
    if (!wire_id_valid(m.edge_id)) abort();
    if (m.type == WIRE_FRAME) {
        const WireFrame *f = &m.u.frame;
        if (f->payload_len && (f->payload < data || f->payload + f->payload_len != data + size)) abort();
        if (wire_config_check(&f->cfg) != WIRE_OK) abort();
    }
    if (wire_size(&m) != size) abort();
    uint8_t *again = malloc(size);
    if (!again) return 0;
    long n = wire_encode(&m, again, size);
    if (n != (long)size || memcmp(again, data, size)) abort();
    free(again);
    return 0;
}
