/* fuzz_profile.c: libFuzzer harness for profile.json (profile/profile_json.c: profile_json_read), the file serve-cloud and serve-edge are handed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz/fuzz_tmpfile.h"

#include "profile/profile_json.h"

/* Any bytes as a profile.json: read either refuses it with a message or fills a document that
 * can be written back and freed (ASan catches what reads or frees go wrong). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[] = "/tmp/fuzz_profile_XXXXXX";
    if (fuzz_write_tmp(data, size, path) != 0) return 0;
    ProfileDoc *d = calloc(1, sizeof *d);
    if (d && profile_json_read(path, d) == 0) {
        if (profile_json_write(d, path) != 0) abort(); /* what was read must be writable */
        profile_doc_free(d);
    }
    free(d);
    unlink(path);
    return 0;
}
