/* arena.c: chunked bump allocator; chunks are kept on reset so steady-state steps never malloc. */
#include "nn/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nn/profile.h"
#include "util/err.h"

#define HUGE_PAGE ((size_t)2 << 20)

struct ArenaChunk {
    ArenaChunk *next;
    size_t size, off;
    unsigned char *mem;
};

static unsigned char *mem_new(const Arena *a, size_t size) {
    if (a->mem_alloc) return a->mem_alloc(size);
    void *p;
    double t = profile_clock(); /* a steady-state step never gets here: a breakdown row says if one does */
    /* 2 MiB-aligned and marked for huge pages (where the kernel's THP mode is "madvise"): a conv
     * reads rows of 64+ planes at once, each plane megabytes apart, and with 4 KiB pages those
     * reads miss the first-level TLB; advice only, so a refusal changes nothing */
    size_t align = size >= HUGE_PAGE ? HUGE_PAGE : 64;
    if (posix_memalign(&p, align, size) != 0) rn_die("out of memory: arena chunk of %zu MiB", size >> 20);
    if (align == HUGE_PAGE) madvise(p, size, MADV_HUGEPAGE);
    profile_add_since("arena: new host chunk", t);
    return p;
}

static void mem_del(const Arena *a, void *p) {
    if (a->mem_free) a->mem_free(p);
    else free(p);
}

static ArenaChunk *chunk_new(const Arena *a, size_t size) {
    ArenaChunk *c = xcalloc(1, sizeof *c);
    c->size = size;
    c->mem = mem_new(a, size);
    return c;
}

void arena_init(Arena *a, size_t chunk_size) { arena_init_with(a, chunk_size, NULL, NULL); }

void arena_init_with(Arena *a, size_t chunk_size, void *(*mem_alloc)(size_t), void (*mem_free)(void *)) {
    memset(a, 0, sizeof *a);
    a->chunk_size = chunk_size ? chunk_size : (64u << 20);
    a->mem_alloc = mem_alloc, a->mem_free = mem_free;
}

void arena_free(Arena *a) {
    for (ArenaChunk *c = a->first, *n; c; c = n) {
        n = c->next;
        mem_del(a, c->mem);
        free(c);
    }
    memset(a, 0, sizeof *a);
}

void *arena_alloc(Arena *a, size_t n) {
    n = (n + 63) & ~(size_t)63;
    if (!a->head) a->head = a->first = chunk_new(a, n > a->chunk_size ? n : a->chunk_size);
    while (a->head->off + n > a->head->size) {
        /* move to the next kept chunk if it fits, else insert a fresh one after head */
        ArenaChunk *nx = a->head->next;
        if (nx && nx->size < n) {
            /* chunks past head hold nothing live (reset/rewind): regrow this one rather than
             * inserting another, so memory tracks the peak request instead of growing */
            mem_del(a, nx->mem);
            nx->size = n > a->chunk_size ? n : a->chunk_size;
            nx->mem = mem_new(a, nx->size);
        }
        if (nx) {
            nx->off = 0;
            a->head = nx;
            continue;
        }
        ArenaChunk *c = chunk_new(a, n > a->chunk_size ? n : a->chunk_size);
        c->next = nx;
        a->head->next = c;
        a->head = c;
    }
    void *p = a->head->mem + a->head->off;
    a->head->off += n;
    a->used += n;
    if (a->used > a->peak) a->peak = a->used;
    return p;
}

void *arena_zalloc(Arena *a, size_t n) {
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void arena_reset(Arena *a) {
    a->head = a->first;
    if (a->head) a->head->off = 0;
    a->used = 0;
}

ArenaMark arena_mark(const Arena *a) {
    ArenaMark m = {a->head, a->head ? a->head->off : 0, a->used};
    return m;
}

void arena_rewind(Arena *a, ArenaMark m) {
    if (!m.chunk) {
        arena_reset(a);
        return;
    }
    a->head = m.chunk;
    a->head->off = m.off;
    a->used = m.used;
}

size_t arena_trim(Arena *a, size_t keep) {
    size_t held = arena_reserved(a), recent = a->peak;
    if (a->used != 0) return 0;
    a->peak = 0;
    if (held <= keep || held / 2 <= recent) return 0;
    for (ArenaChunk *c = a->first, *n; c; c = n) {
        n = c->next;
        mem_del(a, c->mem);
        free(c);
    }
    a->first = NULL;
    a->head = NULL;
    return held;
}

size_t arena_reserved(const Arena *a) {
    size_t n = 0;
    for (const ArenaChunk *c = a->first; c; c = c->next) n += c->size;
    return n;
}
