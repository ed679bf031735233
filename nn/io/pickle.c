/* pickle.c: the pickle VM — opcodes for constants, containers, memo, globals, calls and persistent ids. */
#include "nn/io/pickle.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* One run of the VM over one pickle. Every read is bounded by n; every pop by the stack floor
 * (the position of the innermost MARK), as in CPython's unpickler. */
typedef struct Vm {
    Pickle *pk;
    const uint8_t *b;
    size_t n, pos;
    const char *label;
    PkObj **st;
    size_t sp, cap;
    size_t *marks;
    size_t nmarks, capmarks;
    PkObj **memo;
    size_t nmemo;  /* slots allocated */
    size_t nset;   /* slots filled: MEMOIZE's index, as len(memo) in CPython */
    unsigned op;   /* current opcode and where it started, for messages */
    size_t op_pos;
    PkObj *result; /* set by STOP */
} Vm;

static int vm_fail(Vm *vm, const char *what) {
    return rn_fail("%s: pickle opcode 0x%02x at byte %zu: %s", vm->label, vm->op, vm->op_pos, what);
}

/* ---- nodes ---------------------------------------------------------------------------------- */

static PkObj *new_obj(Pickle *pk, PkType t) {
    if (pk->nall == pk->capall) {
        pk->capall = pk->capall ? 2 * pk->capall : 256;
        pk->all = xrealloc(pk->all, pk->capall * sizeof *pk->all);
    }
    PkObj *o = xcalloc(1, sizeof *o);
    o->type = t;
    pk->all[pk->nall++] = o;
    return o;
}

static void items_push(PkObj *o, PkObj *v) {
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 4;
        o->items = xrealloc(o->items, o->cap * sizeof *o->items);
    }
    o->items[o->n++] = v;
}

/* Dicts keep pairs interleaved; n counts slots, so n/2 pairs. */
static void dict_set(PkObj *d, PkObj *k, PkObj *v) {
    items_push(d, k);
    items_push(d, v);
}

static PkObj *new_bytes(Pickle *pk, PkType t, const uint8_t *p, size_t len) {
    PkObj *o = new_obj(pk, t);
    o->s = xmalloc(len + 1);
    memcpy(o->s, p, len);
    o->s[len] = 0;
    o->len = len;
    return o;
}

/* ---- reading and the stack -------------------------------------------------------------- */

static int take(Vm *vm, size_t k, const uint8_t **p) {
    if (vm->n - vm->pos < k) return vm_fail(vm, "truncated (operand runs past the end)");
    *p = vm->b + vm->pos;
    vm->pos += k;
    return 0;
}

static uint64_t le(const uint8_t *p, int k) {
    uint64_t v = 0;
    for (int i = k - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int take_le(Vm *vm, int k, uint64_t *v) {
    const uint8_t *p = NULL;
    TRY(take(vm, (size_t)k, &p));
    *v = le(p, k);
    return 0;
}

static void push(Vm *vm, PkObj *o) {
    if (vm->sp == vm->cap) {
        vm->cap = vm->cap ? 2 * vm->cap : 64;
        vm->st = xrealloc(vm->st, vm->cap * sizeof *vm->st);
    }
    vm->st[vm->sp++] = o;
}

static size_t stack_floor(const Vm *vm) { return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0; }

static int pop(Vm *vm, PkObj **o) {
    if (vm->sp <= stack_floor(vm)) return vm_fail(vm, "stack underflow");
    *o = vm->st[--vm->sp];
    return 0;
}

static int top(Vm *vm, PkObj **o) {
    if (vm->sp <= stack_floor(vm)) return vm_fail(vm, "stack underflow");
    *o = vm->st[vm->sp - 1];
    return 0;
}

static void push_mark(Vm *vm) {
    if (vm->nmarks == vm->capmarks) {
        vm->capmarks = vm->capmarks ? 2 * vm->capmarks : 16;
        vm->marks = xrealloc(vm->marks, vm->capmarks * sizeof *vm->marks);
    }
    vm->marks[vm->nmarks++] = vm->sp;
}

static int pop_mark(Vm *vm, size_t *start) {
    if (!vm->nmarks) return vm_fail(vm, "no MARK on the stack");
    *start = vm->marks[--vm->nmarks];
    return 0;
}

/* The object just below a MARK (the list/dict that APPENDS/SETITEMS fill). */
static int below_mark(Vm *vm, size_t start, PkObj **o) {
    if (start <= stack_floor(vm)) return vm_fail(vm, "stack underflow below MARK");
    *o = vm->st[start - 1];
    return 0;
}

/* ---- opcode groups: each returns 1 if it handled vm->op, 0 if not its opcode, -1 on error --- */

static int push_int(Vm *vm, int64_t v) {
    PkObj *o = new_obj(vm->pk, PK_INT);
    o->i = v;
    push(vm, o);
    return 1;
}

/* LONG1/LONG4: little-endian two's complement of any length; up to 8 bytes becomes an int64,
 * longer ones (the legacy magic number is 10 bytes) keep their raw bytes as PK_BIGINT. */
static int op_long(Vm *vm, size_t len) {
    const uint8_t *p = NULL;
    TRY(take(vm, len, &p));
    if (len > 8) {
        push(vm, new_bytes(vm->pk, PK_BIGINT, p, len));
        return 1;
    }
    uint64_t v = len ? le(p, (int)len) : 0;
    if (len && len < 8 && (p[len - 1] & 0x80)) v |= ~(uint64_t)0 << (8 * len);
    return push_int(vm, (int64_t)v);
}

static int op_numbers(Vm *vm) {
    uint64_t v = 0;
    switch (vm->op) {
    case 'J': TRY(take_le(vm, 4, &v)); return push_int(vm, (int32_t)(uint32_t)v);
    case 'K': TRY(take_le(vm, 1, &v)); return push_int(vm, (int64_t)v);
    case 'M': TRY(take_le(vm, 2, &v)); return push_int(vm, (int64_t)v);
    case 0x8a: TRY(take_le(vm, 1, &v)); return op_long(vm, (size_t)v);
    case 0x8b:
        TRY(take_le(vm, 4, &v));
        if ((int32_t)(uint32_t)v < 0) return vm_fail(vm, "negative LONG4 length");
        return op_long(vm, (size_t)v);
    case 'G': { /* BINFLOAT: big-endian IEEE double */
        const uint8_t *p = NULL;
        TRY(take(vm, 8, &p));
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++) bits = bits << 8 | p[i];
        PkObj *o = new_obj(vm->pk, PK_FLOAT);
        memcpy(&o->f, &bits, 8);
        push(vm, o);
        return 1;
    }
    case 'N': push(vm, new_obj(vm->pk, PK_NONE)); return 1;
    case 0x88:
    case 0x89: {
        PkObj *o = new_obj(vm->pk, PK_BOOL);
        o->i = vm->op == 0x88;
        push(vm, o);
        return 1;
    }
    }
    return 0;
}

/* Length-prefixed strings and bytes: (opcode, width of the length field, node type). */
static int op_strings(Vm *vm) {
    static const struct { unsigned op; int width; PkType t; } tab[] = {
        {'X', 4, PK_STR},   {0x8c, 1, PK_STR},   {0x8d, 8, PK_STR},   {'T', 4, PK_STR},
        {'U', 1, PK_STR},   {'B', 4, PK_BYTES},  {'C', 1, PK_BYTES},  {0x8e, 8, PK_BYTES},
        {0x96, 8, PK_BYTES},
    };
    for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++) {
        if (tab[k].op != vm->op) continue;
        uint64_t len = 0;
        TRY(take_le(vm, tab[k].width, &len));
        if (vm->op == 'T' && (int32_t)(uint32_t)len < 0) return vm_fail(vm, "negative BINSTRING length");
        if (len > vm->n - vm->pos) return vm_fail(vm, "truncated (string runs past the end)");
        const uint8_t *p = NULL;
        TRY(take(vm, (size_t)len, &p));
        push(vm, new_bytes(vm->pk, tab[k].t, p, (size_t)len));
        return 1;
    }
    return 0;
}

static PkObj *seq_from(Vm *vm, PkType t, size_t start) {
    PkObj *o = new_obj(vm->pk, t);
    for (size_t i = start; i < vm->sp; i++) items_push(o, vm->st[i]);
    vm->sp = start;
    return o;
}

static int op_tuples(Vm *vm) {
    size_t start = 0;
    switch (vm->op) {
    case ')': push(vm, new_obj(vm->pk, PK_TUPLE)); return 1;
    case 't': TRY(pop_mark(vm, &start)); push(vm, seq_from(vm, PK_TUPLE, start)); return 1;
    case 0x85:
    case 0x86:
    case 0x87: {
        size_t k = vm->op - 0x84;
        if (vm->sp - stack_floor(vm) < k) return vm_fail(vm, "stack underflow");
        push(vm, seq_from(vm, PK_TUPLE, vm->sp - k));
        return 1;
    }
    }
    return 0;
}

static int append_items(Vm *vm, PkObj *list, size_t start) {
    if (list->type != PK_LIST) return vm_fail(vm, "APPEND(S)/ADDITEMS target is not a list or set");
    for (size_t i = start; i < vm->sp; i++) items_push(list, vm->st[i]);
    vm->sp = start;
    return 1;
}

/* Lists (and sets, kept as lists: state_dicts do not use them, but a checkpoint's extras may). */
static int op_lists(Vm *vm) {
    size_t start = 0;
    PkObj *l = NULL;
    switch (vm->op) {
    case ']':
    case 0x8f: push(vm, new_obj(vm->pk, PK_LIST)); return 1;
    case 'l':
    case 0x91: TRY(pop_mark(vm, &start)); push(vm, seq_from(vm, PK_LIST, start)); return 1;
    case 'a':
        if (vm->sp - stack_floor(vm) < 2) return vm_fail(vm, "stack underflow");
        return append_items(vm, vm->st[vm->sp - 2], vm->sp - 1);
    case 'e':
    case 0x90:
        TRY(pop_mark(vm, &start));
        TRY(below_mark(vm, start, &l));
        return append_items(vm, l, start);
    }
    return 0;
}

static int set_items(Vm *vm, PkObj *d, size_t start) {
    if (d->type != PK_DICT) return vm_fail(vm, "SETITEM(S) target is not a dict");
    if ((vm->sp - start) % 2) return vm_fail(vm, "odd number of items for SETITEMS/DICT");
    for (size_t i = start; i < vm->sp; i += 2) dict_set(d, vm->st[i], vm->st[i + 1]);
    vm->sp = start;
    return 1;
}

static int op_dicts(Vm *vm) {
    size_t start = 0;
    PkObj *d = NULL;
    switch (vm->op) {
    case '}': push(vm, new_obj(vm->pk, PK_DICT)); return 1;
    case 'd':
        TRY(pop_mark(vm, &start));
        d = new_obj(vm->pk, PK_DICT);
        TRY(set_items(vm, d, start));
        push(vm, d);
        return 1;
    case 's':
        if (vm->sp - stack_floor(vm) < 3) return vm_fail(vm, "stack underflow");
        return set_items(vm, vm->st[vm->sp - 3], vm->sp - 2);
    case 'u':
        TRY(pop_mark(vm, &start));
        TRY(below_mark(vm, start, &d));
        return set_items(vm, d, start);
    }
    return 0;
}

/* Memo indices are bounded by the pickle's length: each PUT costs at least one byte, so an index
 * beyond it cannot come from a real pickler and would only make us allocate for nothing. */
static int memo_put(Vm *vm, uint64_t idx) {
    PkObj *o = NULL;
    TRY(top(vm, &o));
    if (idx > vm->n) return vm_fail(vm, "memo index larger than the pickle");
    if (idx >= vm->nmemo) {
        size_t m = vm->nmemo ? vm->nmemo : 64;
        while (m <= idx) m *= 2;
        vm->memo = xrealloc(vm->memo, m * sizeof *vm->memo);
        memset(vm->memo + vm->nmemo, 0, (m - vm->nmemo) * sizeof *vm->memo);
        vm->nmemo = m;
    }
    if (!vm->memo[idx]) vm->nset++;
    vm->memo[idx] = o;
    return 1;
}

static int memo_get(Vm *vm, uint64_t idx) {
    if (idx >= vm->nmemo || !vm->memo[idx]) return vm_fail(vm, "memo key never stored (BINGET of an unset index)");
    push(vm, vm->memo[idx]);
    return 1;
}

static int op_memo(Vm *vm) {
    uint64_t v = 0;
    switch (vm->op) {
    case 'q': TRY(take_le(vm, 1, &v)); return memo_put(vm, v);
    case 'r': TRY(take_le(vm, 4, &v)); return memo_put(vm, v);
    case 0x94: return memo_put(vm, vm->nset);
    case 'h': TRY(take_le(vm, 1, &v)); return memo_get(vm, v);
    case 'j': TRY(take_le(vm, 4, &v)); return memo_get(vm, v);
    }
    return 0;
}

/* GLOBAL's operands are two newline-terminated lines: module, then name. */
static int take_line(Vm *vm, const uint8_t **p, size_t *len) {
    const uint8_t *s = vm->b + vm->pos, *nl = memchr(s, '\n', vm->n - vm->pos);
    if (!nl) return vm_fail(vm, "truncated (GLOBAL line without newline)");
    *p = s;
    *len = (size_t)(nl - s);
    vm->pos += *len + 1;
    return 0;
}

static PkObj *new_global(Vm *vm, const uint8_t *mod, size_t mlen, const uint8_t *name, size_t nlen) {
    PkObj *g = new_bytes(vm->pk, PK_GLOBAL, mod, mlen);
    g->name = xmalloc(nlen + 1);
    memcpy(g->name, name, nlen);
    g->name[nlen] = 0;
    return g;
}

static int op_globals(Vm *vm) {
    if (vm->op == 'c') {
        const uint8_t *m = NULL, *nm = NULL;
        size_t ml = 0, nl = 0;
        TRY(take_line(vm, &m, &ml));
        TRY(take_line(vm, &nm, &nl));
        push(vm, new_global(vm, m, ml, nm, nl));
        return 1;
    }
    if (vm->op == 0x93) { /* STACK_GLOBAL: module and name strings from the stack */
        PkObj *m = NULL, *nm = NULL;
        TRY(pop(vm, &nm));
        TRY(pop(vm, &m));
        if (m->type != PK_STR || nm->type != PK_STR) return vm_fail(vm, "STACK_GLOBAL wants two strings");
        push(vm, new_global(vm, (const uint8_t *)m->s, m->len, (const uint8_t *)nm->s, nm->len));
        return 1;
    }
    return 0;
}

static PkObj *new_call(Vm *vm, PkObj *callable, PkObj *args) {
    /* OrderedDict() is the state_dict container: make it a real dict for SETITEMS to fill. */
    if (pk_is_global(callable, "collections", "OrderedDict") && args->type == PK_TUPLE && args->n == 0)
        return new_obj(vm->pk, PK_DICT);
    PkObj *o = new_obj(vm->pk, PK_OBJ);
    o->callable = callable;
    o->args = args;
    return o;
}

static void record_pid(Pickle *pk, PkObj *p) {
    if (pk->npids == pk->cappids) {
        pk->cappids = pk->cappids ? 2 * pk->cappids : 64;
        pk->pids = xrealloc(pk->pids, pk->cappids * sizeof *pk->pids);
    }
    pk->pids[pk->npids++] = p;
}

static int op_calls(Vm *vm) {
    PkObj *a = NULL, *b = NULL, *c = NULL;
    switch (vm->op) {
    case 'R': /* REDUCE: callable(*args) */
    case 0x81: /* NEWOBJ: cls.__new__(cls, *args) */
        TRY(pop(vm, &a));
        TRY(pop(vm, &b));
        if (a->type != PK_TUPLE) return vm_fail(vm, "REDUCE/NEWOBJ arguments are not a tuple");
        push(vm, new_call(vm, b, a));
        return 1;
    case 0x92: /* NEWOBJ_EX: cls, args, kwargs (kwargs dropped) */
        TRY(pop(vm, &c));
        TRY(pop(vm, &a));
        TRY(pop(vm, &b));
        if (a->type != PK_TUPLE) return vm_fail(vm, "NEWOBJ_EX arguments are not a tuple");
        push(vm, new_call(vm, b, a));
        return 1;
    case 'b': /* BUILD: obj.__setstate__(state); kept as data */
        TRY(pop(vm, &a));
        TRY(top(vm, &b));
        b->state = a;
        return 1;
    case 'Q': /* BINPERSID */
        TRY(pop(vm, &a));
        b = new_obj(vm->pk, PK_PERSID);
        b->args = a;
        record_pid(vm->pk, b);
        push(vm, b);
        return 1;
    }
    return 0;
}

static int op_misc(Vm *vm) {
    PkObj *o = NULL;
    size_t start = 0;
    uint64_t v = 0;
    switch (vm->op) {
    case '(': push_mark(vm); return 1;
    case '0': /* POP: with nothing above the innermost MARK, CPython pops the mark itself */
        if (vm->nmarks && vm->sp == stack_floor(vm)) return pop_mark(vm, &start) < 0 ? -1 : 1;
        return pop(vm, &o) < 0 ? -1 : 1;
    case '1': TRY(pop_mark(vm, &start)); vm->sp = start; return 1;
    case '2': TRY(top(vm, &o)); push(vm, o); return 1;
    case 0x80:
        TRY(take_le(vm, 1, &v));
        if (v > 5) return vm_fail(vm, "unsupported pickle protocol (> 5)");
        return 1;
    case 0x95: TRY(take_le(vm, 8, &v)); return 1; /* FRAME: only a read-ahead hint */
    case '.':
        TRY(pop(vm, &vm->result));
        return 1;
    }
    return 0;
}

typedef int (*OpGroup)(Vm *);
static const OpGroup k_groups[] = {op_memo, op_strings, op_numbers, op_dicts, op_tuples,
                                   op_lists, op_calls, op_globals, op_misc};

static int step(Vm *vm) {
    for (size_t g = 0; g < sizeof k_groups / sizeof k_groups[0]; g++) {
        int r = k_groups[g](vm);
        if (r) return r;
    }
    return rn_fail("%s: unknown opcode 0x%02x at byte %zu (not a pickle this reader supports, or corrupt)",
                   vm->label, vm->op, vm->op_pos);
}

int pk_load(Pickle *pk, const uint8_t *buf, size_t n, const char *label, PkObj **out, size_t *used) {
    Vm vm = {.pk = pk, .b = buf, .n = n, .label = label};
    int rc = 0;
    while (!vm.result) {
        if (vm.pos >= vm.n) {
            vm.op_pos = vm.pos;
            rc = rn_fail("%s: pickle truncated at byte %zu (no STOP opcode)", label, vm.pos);
            break;
        }
        vm.op_pos = vm.pos;
        vm.op = buf[vm.pos++];
        if ((rc = step(&vm)) < 0) break;
        rc = 0;
    }
    free(vm.st);
    free(vm.marks);
    free(vm.memo);
    if (rc < 0) return -1;
    *out = vm.result;
    if (used) *used = vm.pos;
    return 0;
}

void pk_init(Pickle *pk) { memset(pk, 0, sizeof *pk); }

void pk_free(Pickle *pk) {
    for (size_t i = 0; i < pk->nall; i++) {
        free(pk->all[i]->s);
        free(pk->all[i]->name);
        free(pk->all[i]->items);
        free(pk->all[i]);
    }
    free(pk->all);
    free(pk->pids);
    memset(pk, 0, sizeof *pk);
}

bool pk_is_global(const PkObj *o, const char *module, const char *name) {
    return o && o->type == PK_GLOBAL && strcmp(o->s, module) == 0 && strcmp(o->name, name) == 0;
}

bool pk_is_str(const PkObj *o, const char *s) {
    return o && o->type == PK_STR && strlen(s) == o->len && memcmp(o->s, s, o->len) == 0;
}

const PkObj *pk_dict_get(const PkObj *d, const char *key) {
    if (!d || d->type != PK_DICT) return NULL;
    for (size_t i = 0; i + 1 < d->n; i += 2)
        if (pk_is_str(d->items[i], key)) return d->items[i + 1];
    return NULL;
}

const char *pk_type_name(const PkObj *o) {
    static const char *names[] = {"None", "bool", "int", "int", "float", "str", "bytes",
                                  "tuple", "list", "dict", "global", "object", "persistent id"};
    return o ? names[o->type] : "nothing";
}
