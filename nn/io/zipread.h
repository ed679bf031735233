/* zipread.h: a minimal reader of ZIP archives held in memory (stored entries, zip64), for PyTorch checkpoints. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* torch.save's zip format writes every entry uncompressed ("stored"), so entries are plain byte
 * ranges of the buffer and nothing is copied. Every offset and size read from the archive is
 * checked against the buffer, and every stored entry's bytes against the CRC-32 the central
 * directory records for it (damaged tensor bytes would otherwise load as wrong weights); a
 * malformed or damaged archive is an error (-1, rn_fail), never a crash. */
typedef struct ZipEntry {
    char *name;          /* as stored (NUL-terminated copy) */
    int method;          /* 0 = stored; anything else cannot be read here */
    uint64_t size;       /* uncompressed size */
    uint32_t crc32;      /* CRC-32 of the uncompressed bytes, from the central directory */
    const uint8_t *data; /* start of the entry's bytes in the buffer (stored entries only; else NULL) */
} ZipEntry;

typedef struct ZipArchive {
    int count;
    ZipEntry *e;
} ZipArchive;

/* Parses the central directory of buf[0..n) (zip64 records are followed where present). label
 * names the file in messages. The archive borrows buf: keep it alive while entries are used. */
int zip_open_mem(ZipArchive *z, const uint8_t *buf, size_t n, const char *label);
void zip_close(ZipArchive *z);
const ZipEntry *zip_find(const ZipArchive *z, const char *name); /* NULL if absent */
