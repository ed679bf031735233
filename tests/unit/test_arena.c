/* test_arena.c: the activation arena — alignment, mark/rewind, and memory that tracks the peak. */
#include <stdint.h>
#include <string.h>

#include "nn/arena.h"
#include "tests/test.h"

TEST(arena_alignment_and_rewind) {
    Arena a;
    arena_init(&a, 1 << 16);
    char *p = arena_alloc(&a, 10), *q = arena_alloc(&a, 100);
    EXPECT(((uintptr_t)p & 63) == 0 && ((uintptr_t)q & 63) == 0, "64-byte aligned");
    ArenaMark m = arena_mark(&a);
    char *r = arena_alloc(&a, 1000);
    arena_rewind(&a, m);
    EXPECT(arena_alloc(&a, 1000) == r, "rewind hands the same memory out again");
    arena_reset(&a);
    EXPECT(arena_alloc(&a, 10) == p, "reset starts over in the first chunk");
    arena_free(&a);
}

TEST(arena_memory_tracks_the_peak_over_rewinds) {
    /* tiles of varying size after a fixed prefix, as tiled inference does: the held memory must
     * stay near the largest single step, not grow with the number of steps */
    Arena a;
    arena_init(&a, 1 << 16);
    arena_alloc(&a, 40000);
    ArenaMark m = arena_mark(&a);
    size_t biggest = 0;
    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(1 + (i * 7919) % 97) * 4096;
        biggest = n > biggest ? n : biggest;
        memset(arena_alloc(&a, n), 1, n);
        arena_rewind(&a, m);
    }
    size_t held = arena_reserved(&a);
    printf("    held %zu KiB for a largest step of %zu KiB\n", held >> 10, biggest >> 10);
    EXPECT(held <= 2 * biggest + (1 << 17), "held %zu bytes, largest step %zu", held, biggest);
    arena_free(&a);
}
