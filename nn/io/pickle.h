/* pickle.h: a minimal Python pickle VM (protocols 2-5) building a value tree, enough for PyTorch state_dicts. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The VM executes the opcodes a torch.save pickle uses and builds plain values; it never
 * imports or calls anything. A call (REDUCE/NEWOBJ) becomes a PK_OBJ node holding the callable
 * and its arguments, left for the caller to interpret (torch_load.c knows _rebuild_tensor_v2);
 * the one exception is collections.OrderedDict(), which becomes a PK_DICT so that the SETITEMS
 * that follow can fill it. Persistent ids (BINPERSID) become PK_PERSID nodes and are also
 * listed in Pickle.pids, so a loader can find every storage without walking the tree. */
typedef enum {
    PK_NONE, PK_BOOL, PK_INT, PK_BIGINT, PK_FLOAT, PK_STR, PK_BYTES,
    PK_TUPLE, PK_LIST, PK_DICT, PK_GLOBAL, PK_OBJ, PK_PERSID
} PkType;

typedef struct PkObj PkObj;
struct PkObj {
    PkType type;
    int64_t i;          /* PK_INT, PK_BOOL */
    double f;           /* PK_FLOAT */
    char *s;            /* PK_STR/PK_BYTES: NUL-terminated copy; PK_BIGINT: little-endian two's complement;
                           PK_GLOBAL: module */
    size_t len;         /* bytes in s */
    char *name;         /* PK_GLOBAL: attribute name */
    PkObj **items;      /* PK_TUPLE/PK_LIST: n items; PK_DICT: n key/value pairs, interleaved (2n) */
    size_t n, cap;
    PkObj *callable;    /* PK_OBJ: what was called */
    PkObj *args;        /* PK_OBJ: its argument tuple; PK_PERSID: the persistent id */
    PkObj *state;       /* set by BUILD (any node), else NULL */
};

/* Owns every node built by any pk_load() on it; nodes live until pk_free(). */
typedef struct Pickle {
    PkObj **all;
    size_t nall, capall;
    PkObj **pids;       /* every PK_PERSID node created, in order */
    size_t npids, cappids;
} Pickle;

void pk_init(Pickle *pk);
void pk_free(Pickle *pk);

/* Runs one pickle from buf[0..n) up to its STOP opcode: *out = the result, *used = bytes consumed
 * (a legacy torch file is several pickles back to back). label names the input in messages.
 * Returns -1 with rn_fail (truncated, unknown opcode 0x.., stack underflow, ...) on bad input. */
int pk_load(Pickle *pk, const uint8_t *buf, size_t n, const char *label, PkObj **out, size_t *used);

/* Helpers for interpreting the tree. */
bool pk_is_global(const PkObj *o, const char *module, const char *name);
bool pk_is_str(const PkObj *o, const char *s);
const PkObj *pk_dict_get(const PkObj *d, const char *key); /* string key; NULL if absent or d is no dict */
const char *pk_type_name(const PkObj *o);
