/* fuzz_pickle.c: libFuzzer target over the in-memory PyTorch checkpoint loader (pickle VM, zip reader, tensors). */
#include <stddef.h>
#include <stdint.h>

#include "nn/io/torch_load.h"

/* Build (clang): clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -D_GNU_SOURCE fuzz/fuzz_pickle.c \
 *   nn/io/torch_load.c nn/io/pickle.c nn/io/zipread.c util/err.c -o build/fuzz_pickle
 * Run: build/fuzz_pickle -max_total_time=60 CORPUS_DIR tests/fixtures/torchio_tiny_legacy.pth ...
 * Any input must load (and be freed) or fail with a message; a crash, leak or sanitizer report
 * is a bug. Inputs are bounded in what they can make us allocate (see torch_load.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    TorchFile tf;
    if (torch_load_mem(data, size, "fuzz", &tf) == 0) torch_free(&tf);
    return 0;
}
