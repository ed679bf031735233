/* checksum.c: FNV-1a 64 over a file — enough to tell two model files apart in a record, not a security hash. */
#include "util/checksum.h"

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

int file_checksum(const char *path, char hex[17]) {
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail("cannot open %s", path);
    uint64_t h = 1469598103934665603ull;
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ull;
    int bad = ferror(f);
    fclose(f);
    if (bad) return rn_fail("reading %s failed", path);
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
    return 0;
}
