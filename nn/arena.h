/* arena.h: bump allocator for per-step activations; reset (or rewound to a mark) each step. */
#pragma once
#include <stddef.h>

typedef struct ArenaChunk ArenaChunk;
typedef struct Arena {
    ArenaChunk *head;   /* chunk being filled */
    ArenaChunk *first;  /* chunks are kept after reset and reused */
    size_t chunk_size;  /* default size of a new chunk */
    size_t used;        /* bytes handed out since reset (for stats) */
    size_t peak;        /* high-water mark of used (since arena_trim) */
    /* Chunk memory: NULL = host (64-byte aligned); a device arena (nn/cuda) sets its own. The
     * arena never touches chunk memory itself, so it works for memory the host cannot read. */
    void *(*mem_alloc)(size_t bytes);
    void (*mem_free)(void *p);
} Arena;

typedef struct ArenaMark {
    ArenaChunk *chunk;
    size_t off;
    size_t used;
} ArenaMark;

void arena_init(Arena *a, size_t chunk_size);
/* The same with chunk memory from mem_alloc/mem_free (which die on failure). */
void arena_init_with(Arena *a, size_t chunk_size, void *(*mem_alloc)(size_t), void (*mem_free)(void *));
void arena_free(Arena *a);
void *arena_alloc(Arena *a, size_t n);  /* 64-byte aligned, uninitialised */
void *arena_zalloc(Arena *a, size_t n); /* zeroed (host arenas only) */
void arena_reset(Arena *a);
ArenaMark arena_mark(const Arena *a);
void arena_rewind(Arena *a, ArenaMark m);
/* With nothing live (after a reset): when the chunks hold more than keep bytes and more than twice
 * the peak use since the last arena_trim (one step larger than the current ones grew them), frees
 * them all, so that step does not keep its memory for the life of the process; the next step makes
 * the chunks it needs again (steps of a steady size keep theirs). Starts a new peak measurement.
 * Returns the bytes freed (0 when kept or something is live). */
size_t arena_trim(Arena *a, size_t keep);
/* Bytes held by all chunks (what the arena costs in memory, live or not). */
size_t arena_reserved(const Arena *a);
