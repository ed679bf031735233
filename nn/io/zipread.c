/* zipread.c: ZIP central-directory parser (end record, zip64 end record and extra fields, local headers). */
#include "nn/io/zipread.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define SIG_CDIR 0x02014b50u
#define SIG_LOCAL 0x04034b50u
#define EOCD_LEN 22
#define CDIR_LEN 46
#define LOCAL_LEN 30

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) as zip records it; table[] from crc_table. */
static void crc_table(uint32_t table[256]) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32_of(const uint32_t table[256], const uint8_t *p, uint64_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (uint64_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes; search
 * backwards so a comment that happens to contain the signature is not taken for it. */
static long find_eocd(const uint8_t *buf, size_t n) {
    if (n < EOCD_LEN) return -1;
    size_t lo = n - EOCD_LEN > 65535 ? n - EOCD_LEN - 65535 : 0;
    for (size_t i = n - EOCD_LEN + 1; i-- > lo;)
        if (rd32(buf + i) == SIG_EOCD) return (long)i;
    return -1;
}

typedef struct {
    uint64_t cd_off, cd_size, count;
} CentralDir;

/* Fills cd from the classic end record, or from the zip64 end record when a field is saturated. */
static int read_end(const uint8_t *buf, size_t n, const char *label, CentralDir *cd) {
    long e = find_eocd(buf, n);
    if (e < 0) return rn_fail("%s: not a zip archive (no end-of-central-directory record; truncated?)", label);
    const uint8_t *p = buf + e;
    cd->count = rd16(p + 10);
    cd->cd_size = rd32(p + 12);
    cd->cd_off = rd32(p + 16);
    if (cd->count != 0xFFFF && cd->cd_size != 0xFFFFFFFFu && cd->cd_off != 0xFFFFFFFFu) return 0;
    if (e < 20 || rd32(buf + e - 20) != SIG_LOC64)
        return rn_fail("%s: zip end record wants zip64 but the zip64 locator is missing", label);
    uint64_t off = rd64(buf + e - 20 + 8);
    if (off > n || n - off < 56 || rd32(buf + off) != SIG_EOCD64)
        return rn_fail("%s: zip64 end record at offset %llu is missing or truncated", label, (unsigned long long)off);
    cd->count = rd64(buf + off + 32);
    cd->cd_size = rd64(buf + off + 40);
    cd->cd_off = rd64(buf + off + 48);
    return 0;
}

/* Replaces saturated 32-bit fields with their values from the zip64 extra field (id 1), which
 * holds, in this order and only for the saturated ones: size, compressed size, local offset. */
static int zip64_extra(const uint8_t *x, size_t xlen, uint64_t *usize, uint64_t *csize, uint64_t *loff,
                       const char *label, const char *name) {
    size_t i = 0;
    while (i + 4 <= xlen) {
        unsigned id = rd16(x + i), len = rd16(x + i + 2);
        if (i + 4 + len > xlen) break;
        if (id == 1) {
            const uint8_t *q = x + i + 4, *end = q + len;
            uint64_t *f[3] = {usize, csize, loff};
            for (int k = 0; k < 3; k++) {
                if (*f[k] != 0xFFFFFFFFu) continue;
                if (end - q < 8) return rn_fail("%s: entry %s: zip64 extra field too short", label, name);
                *f[k] = rd64(q);
                q += 8;
            }
            return 0;
        }
        i += 4 + len;
    }
    if (*usize == 0xFFFFFFFFu || *csize == 0xFFFFFFFFu || *loff == 0xFFFFFFFFu)
        return rn_fail("%s: entry %s has saturated sizes but no zip64 extra field", label, name);
    return 0;
}

/* Locates an entry's bytes through its local header (whose name and extra lengths may differ
 * from the central directory's: torch pads the local extra field to align the data). */
static int locate_data(const uint8_t *buf, size_t n, uint64_t loff, ZipEntry *en, uint64_t csize, const char *label) {
    if (loff > n || n - loff < LOCAL_LEN || rd32(buf + loff) != SIG_LOCAL)
        return rn_fail("%s: entry %s: local header at offset %llu missing or truncated", label, en->name,
                       (unsigned long long)loff);
    uint64_t start = loff + LOCAL_LEN + rd16(buf + loff + 26) + rd16(buf + loff + 28);
    if (start > n || n - start < csize)
        return rn_fail("%s: entry %s: data (%llu bytes at offset %llu) runs past the end of the file (truncated)",
                       label, en->name, (unsigned long long)csize, (unsigned long long)start);
    if (en->method == 0 && csize != en->size)
        return rn_fail("%s: entry %s: stored entry with compressed size %llu != size %llu", label, en->name,
                       (unsigned long long)csize, (unsigned long long)en->size);
    en->data = en->method == 0 ? buf + start : NULL;
    return 0;
}

/* Parses one central-directory record at *pos; advances *pos past it. */
static int read_cdir_entry(const uint8_t *buf, size_t n, uint64_t *pos, uint64_t cd_end, ZipEntry *en,
                           const char *label) {
    uint64_t p = *pos;
    if (cd_end - p < CDIR_LEN || rd32(buf + p) != SIG_CDIR)
        return rn_fail("%s: bad central directory record at offset %llu", label, (unsigned long long)p);
    const uint8_t *h = buf + p;
    unsigned nlen = rd16(h + 28), xlen = rd16(h + 30), clen = rd16(h + 32);
    if (cd_end - p - CDIR_LEN < (uint64_t)nlen + xlen + clen)
        return rn_fail("%s: central directory record at offset %llu truncated", label, (unsigned long long)p);
    en->name = xmalloc(nlen + 1);
    memcpy(en->name, h + CDIR_LEN, nlen);
    en->name[nlen] = 0;
    en->method = rd16(h + 10);
    en->crc32 = rd32(h + 16);
    uint64_t csize = rd32(h + 20), loff = rd32(h + 42);
    en->size = rd32(h + 24);
    TRY(zip64_extra(h + CDIR_LEN + nlen, xlen, &en->size, &csize, &loff, label, en->name));
    TRY(locate_data(buf, n, loff, en, csize, label));
    *pos = p + CDIR_LEN + nlen + xlen + clen;
    return 0;
}

/* A stored entry's bytes must have the CRC-32 the directory records (compressed entries are
 * refused later, unread). */
static int check_crc(const uint32_t table[256], const ZipEntry *en, const char *label) {
    if (!en->data) return 0;
    uint32_t got = crc32_of(table, en->data, en->size);
    if (got != en->crc32)
        return rn_fail("%s: entry %s is damaged: its bytes have CRC-32 %08x, the archive records %08x", label, en->name,
                       (unsigned)got, (unsigned)en->crc32);
    return 0;
}

int zip_open_mem(ZipArchive *z, const uint8_t *buf, size_t n, const char *label) {
    memset(z, 0, sizeof *z);
    CentralDir cd = {0};
    TRY(read_end(buf, n, label, &cd));
    if (cd.cd_off > n || n - cd.cd_off < cd.cd_size)
        return rn_fail("%s: central directory (%llu bytes at %llu) lies past the end of the file (truncated)", label,
                       (unsigned long long)cd.cd_size, (unsigned long long)cd.cd_off);
    if (cd.count > cd.cd_size / CDIR_LEN)
        return rn_fail("%s: zip claims %llu entries in a %llu-byte central directory", label,
                       (unsigned long long)cd.count, (unsigned long long)cd.cd_size);
    z->e = xcalloc(cd.count ? cd.count : 1, sizeof *z->e);
    uint64_t pos = cd.cd_off, end = cd.cd_off + cd.cd_size;
    uint32_t table[256];
    crc_table(table);
    for (uint64_t i = 0; i < cd.count; i++) {
        z->count++;
        if (read_cdir_entry(buf, n, &pos, end, &z->e[i], label) < 0 || check_crc(table, &z->e[i], label) < 0) {
            zip_close(z);
            return -1;
        }
    }
    return 0;
}

void zip_close(ZipArchive *z) {
    for (int i = 0; i < z->count; i++) free(z->e[i].name);
    free(z->e);
    memset(z, 0, sizeof *z);
}

const ZipEntry *zip_find(const ZipArchive *z, const char *name) {
    for (int i = 0; i < z->count; i++)
        if (strcmp(z->e[i].name, name) == 0) return &z->e[i];
    return NULL;
}
