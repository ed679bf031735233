/* fuzz_tmpfile.h: the fuzz input written to a fresh temporary file, for harnesses of readers that take a path. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* path: a mkstemp template ("/tmp/fuzz_NAME_XXXXXX"), filled in. 0 when the file holds exactly the
 * input (the caller unlinks it), -1 when it could not be made (nothing is left behind). */
static inline int fuzz_write_tmp(const uint8_t *data, size_t size, char *path) {
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f || fwrite(data, 1, size, f) != size) {
        if (f) fclose(f);
        else close(fd);
        unlink(path);
        return -1;
    }
    fclose(f);
    return 0;
}
