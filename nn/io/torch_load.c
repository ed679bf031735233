/* torch_load.c: PyTorch checkpoint reader — storages from the legacy stream or the zip, then tensors by name. */
#include "nn/io/torch_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/io/pickle.h"
#include "nn/io/zipread.h"
#include "util/err.h"

/* ---- storage types ------------------------------------------------------------------------ */

typedef enum { K_F32, K_F16, K_BF16, K_F64, K_I64, K_I32, K_I16, K_I8, K_U8, K_BOOL } Kind;

typedef struct DType {
    const char *storage; /* torch.<storage> as pickled */
    const char *dtype;   /* its dtype's name */
    int size;            /* bytes per element */
    Kind kind;
} DType;

static const DType k_dtypes[] = {
    {"FloatStorage", "float32", 4, K_F32}, {"HalfStorage", "float16", 2, K_F16},
    {"BFloat16Storage", "bfloat16", 2, K_BF16}, {"DoubleStorage", "float64", 8, K_F64},
    {"LongStorage", "int64", 8, K_I64}, {"IntStorage", "int32", 4, K_I32},
    {"ShortStorage", "int16", 2, K_I16}, {"CharStorage", "int8", 1, K_I8},
    {"ByteStorage", "uint8", 1, K_U8}, {"BoolStorage", "bool", 1, K_BOOL},
};

static bool kind_is_float(Kind k) { return k <= K_F64; }

/* ---- loader state ------------------------------------------------------------------------- */

typedef struct Storage {
    const char *key;     /* points into the pickle tree */
    const DType *dt;
    int64_t numel;       /* as declared in the persistent id */
    const uint8_t *data; /* located in the file; NULL until found */
} Storage;

typedef struct Found {
    char *name;
    const PkObj *args; /* _rebuild_tensor_v2's arguments: (storage, offset, size, stride, ...) */
} Found;

/* A checkpoint may legally hold overlapping or broadcast (stride 0) views, which materialise to
 * more elements than their storages hold; beyond this allowance we refuse, so that a few bytes
 * of corrupt input cannot ask for gigabytes. */
#define BROADCAST_ALLOWANCE ((uint64_t)1 << 24)
#define MAX_NAME 4096

typedef struct Loader {
    const char *label;
    const uint8_t *buf;
    size_t n;
    Pickle pk;
    Storage *st;
    size_t nst;
    Found *found;
    size_t nfound, capfound;
    size_t visits;       /* dict entries walked: bounded, as memo sharing can make the tree a DAG */
    uint64_t out_elems;  /* elements materialised so far */
    uint64_t st_elems;   /* elements in all storages */
} Loader;

static int storage_cmp(const void *a, const void *b) {
    return strcmp(((const Storage *)a)->key, ((const Storage *)b)->key);
}

static Storage *storage_find(Loader *L, const char *key) {
    Storage probe = {.key = key};
    return L->nst ? bsearch(&probe, L->st, L->nst, sizeof *L->st, storage_cmp) : NULL;
}

/* ---- persistent ids: ('storage', torch.XStorage, key, location, numel[, view_metadata]) ---- */

static int pid_parts(Loader *L, const PkObj *pid, const DType **dt, const char **key, int64_t *numel) {
    const PkObj *a = pid;
    if (a->type != PK_TUPLE || a->n < 5 || !pk_is_str(a->items[0], "storage"))
        return rn_fail("%s: persistent id is not a ('storage', type, key, location, size) tuple", L->label);
    const PkObj *ty = a->items[1], *k = a->items[2], *sz = a->items[4];
    if (ty->type != PK_GLOBAL || strcmp(ty->s, "torch") != 0)
        return rn_fail("%s: storage type is not a torch.*Storage (%s)", L->label, pk_type_name(ty));
    *dt = NULL;
    for (size_t i = 0; i < sizeof k_dtypes / sizeof k_dtypes[0]; i++)
        if (strcmp(ty->name, k_dtypes[i].storage) == 0) *dt = &k_dtypes[i];
    if (!*dt) return rn_fail("%s: unsupported storage type torch.%s", L->label, ty->name);
    if (k->type != PK_STR) return rn_fail("%s: storage key is a %s, not a string", L->label, pk_type_name(k));
    if (sz->type != PK_INT || sz->i < 0)
        return rn_fail("%s: storage %s: bad element count", L->label, k->s);
    *key = k->s;
    *numel = sz->i;
    return 0;
}

/* One Storage per distinct key over every persistent id in the pickle (sorted for bsearch). */
static int build_storages(Loader *L) {
    L->st = xcalloc(L->pk.npids ? L->pk.npids : 1, sizeof *L->st);
    for (size_t i = 0; i < L->pk.npids; i++) {
        Storage *s = &L->st[i];
        TRY(pid_parts(L, L->pk.pids[i]->args, &s->dt, &s->key, &s->numel));
    }
    qsort(L->st, L->pk.npids, sizeof *L->st, storage_cmp);
    size_t m = 0;
    for (size_t i = 0; i < L->pk.npids; i++) {
        if (m && strcmp(L->st[m - 1].key, L->st[i].key) == 0) {
            if (L->st[m - 1].dt != L->st[i].dt || L->st[m - 1].numel != L->st[i].numel)
                return rn_fail("%s: storage key %s declared twice with different types or sizes", L->label,
                               L->st[i].key);
            continue;
        }
        L->st[m++] = L->st[i];
    }
    L->nst = m;
    for (size_t i = 0; i < m; i++) L->st_elems += (uint64_t)L->st[i].numel;
    return 0;
}

/* ---- legacy format: magic, protocol, sys_info, the object, the key list, then raw storages -- */

static const uint8_t k_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

static int next_pickle(Loader *L, size_t *pos, const char *what, PkObj **out) {
    char lab[600];
    snprintf(lab, sizeof lab, "%s (%s, pickle at byte %zu)", L->label, what, *pos);
    size_t used = 0;
    TRY(pk_load(&L->pk, L->buf + *pos, L->n - *pos, lab, out, &used));
    *pos += used;
    return 0;
}

static int legacy_header(Loader *L, size_t *pos) {
    PkObj *o;
    TRY(next_pickle(L, pos, "magic number", &o));
    if (o->type != PK_BIGINT || o->len != sizeof k_magic || memcmp(o->s, k_magic, sizeof k_magic) != 0)
        return rn_fail("%s: not a PyTorch checkpoint (bad magic number)", L->label);
    TRY(next_pickle(L, pos, "protocol version", &o));
    if (o->type != PK_INT || o->i != 1001)
        return rn_fail("%s: unsupported legacy protocol version (want 1001)", L->label);
    TRY(next_pickle(L, pos, "sys_info", &o));
    const PkObj *le = pk_dict_get(o, "little_endian");
    if (le && le->type == PK_BOOL && !le->i)
        return rn_fail("%s: written on a big-endian machine; not supported", L->label);
    return 0;
}

/* Each listed storage: int64 element count, then count * element size bytes. */
static int legacy_data(Loader *L, size_t *pos, const PkObj *keys) {
    if (keys->type != PK_LIST) return rn_fail("%s: storage key list is a %s, not a list", L->label, pk_type_name(keys));
    for (size_t i = 0; i < keys->n; i++) {
        const PkObj *k = keys->items[i];
        if (k->type != PK_STR) return rn_fail("%s: storage key list holds a %s", L->label, pk_type_name(k));
        Storage *s = storage_find(L, k->s);
        if (!s) return rn_fail("%s: storage key %s listed but used by no tensor", L->label, k->s);
        if (s->data) return rn_fail("%s: storage key %s listed twice", L->label, k->s);
        if (L->n - *pos < 8) return rn_fail("%s: truncated at byte %zu (size of storage %s)", L->label, *pos, k->s);
        int64_t cnt;
        memcpy(&cnt, L->buf + *pos, 8);
        *pos += 8;
        if (cnt != s->numel)
            return rn_fail("%s: storage %s holds %lld elements, the pickle says %lld", L->label, k->s,
                           (long long)cnt, (long long)s->numel);
        if ((uint64_t)cnt > (L->n - *pos) / (uint64_t)s->dt->size)
            return rn_fail("%s: truncated at byte %zu (storage %s wants %lld x %d bytes)", L->label, *pos, k->s,
                           (long long)cnt, s->dt->size);
        s->data = L->buf + *pos;
        *pos += (size_t)cnt * (size_t)s->dt->size;
    }
    return 0;
}

static int load_legacy(Loader *L, PkObj **root) {
    size_t pos = 0;
    PkObj *keys;
    TRY(legacy_header(L, &pos));
    TRY(next_pickle(L, &pos, "state", root));
    size_t npids = L->pk.npids;
    TRY(next_pickle(L, &pos, "storage keys", &keys));
    L->pk.npids = npids; /* the key list has no persistent ids; keep the table to the state's */
    TRY(build_storages(L));
    TRY(legacy_data(L, &pos, keys));
    for (size_t i = 0; i < L->nst; i++)
        if (!L->st[i].data) return rn_fail("%s: storage key %s missing from the data", L->label, L->st[i].key);
    return 0;
}

/* ---- zip format: <prefix>/data.pkl, <prefix>/data/<key>, optional <prefix>/byteorder --------- */

static const ZipEntry *find_pickle(const ZipArchive *z, size_t *plen) {
    for (int i = 0; i < z->count; i++) {
        const char *nm = z->e[i].name, *slash = strchr(nm, '/');
        if (slash && strcmp(slash + 1, "data.pkl") == 0) {
            *plen = (size_t)(slash + 1 - nm);
            return &z->e[i];
        }
    }
    return NULL;
}

static const ZipEntry *zip_member(const ZipArchive *z, const char *prefix, size_t plen, const char *rest) {
    char nm[MAX_NAME + 64];
    snprintf(nm, sizeof nm, "%.*s%s", (int)plen, prefix, rest);
    return zip_find(z, nm);
}

static int zip_storages(Loader *L, const ZipArchive *z, const char *prefix, size_t plen) {
    for (size_t i = 0; i < L->nst; i++) {
        Storage *s = &L->st[i];
        char rest[MAX_NAME];
        if (strlen(s->key) > MAX_NAME - 8) return rn_fail("%s: storage key too long", L->label);
        snprintf(rest, sizeof rest, "data/%s", s->key);
        const ZipEntry *e = zip_member(z, prefix, plen, rest);
        if (!e)
            return rn_fail("%s: storage key %s missing (no %.*s%s in the archive)", L->label, s->key, (int)plen,
                           prefix, rest);
        if (!e->data)
            return rn_fail("%s: %s is compressed (method %d); torch.save stores entries uncompressed", L->label,
                           e->name, e->method);
        if ((uint64_t)s->numel > e->size / (uint64_t)s->dt->size)
            return rn_fail("%s: %s has %llu bytes, storage %s wants %lld x %d (truncated)", L->label, e->name,
                           (unsigned long long)e->size, s->key, (long long)s->numel, s->dt->size);
        s->data = e->data;
    }
    return 0;
}

static int zip_inner(Loader *L, const ZipArchive *z, PkObj **root) {
    size_t plen = 0;
    const ZipEntry *pe = find_pickle(z, &plen);
    if (!pe) return rn_fail("%s: zip archive without <name>/data.pkl (not a torch.save checkpoint)", L->label);
    if (!pe->data) return rn_fail("%s: %s is compressed (method %d)", L->label, pe->name, pe->method);
    const ZipEntry *bo = zip_member(z, pe->name, plen, "byteorder");
    if (bo && !(bo->data && bo->size == 6 && memcmp(bo->data, "little", 6) == 0))
        return rn_fail("%s: byteorder is not 'little'; big-endian checkpoints are not supported", L->label);
    char lab[600];
    snprintf(lab, sizeof lab, "%s (%s)", L->label, pe->name);
    TRY(pk_load(&L->pk, pe->data, (size_t)pe->size, lab, root, NULL));
    TRY(build_storages(L));
    return zip_storages(L, z, pe->name, plen);
}

static int load_zip(Loader *L, PkObj **root) {
    ZipArchive z;
    TRY(zip_open_mem(&z, L->buf, L->n, L->label));
    int rc = zip_inner(L, &z, root);
    zip_close(&z);
    return rc;
}

/* ---- finding tensors in the tree ------------------------------------------------------------ */

/* 1 and *args = the (storage, offset, size, stride, ...) tuple when o rebuilds a dense tensor,
 * 0 when o is something else, -1 for a tensor kind we cannot read (quantized, sparse...). */
static int tensor_args(Loader *L, const PkObj *o, const PkObj **args, int depth) {
    if (!o || o->type != PK_OBJ || !o->callable || o->callable->type != PK_GLOBAL) return 0;
    const PkObj *c = o->callable, *a = o->args;
    if (strcmp(c->s, "torch._utils") != 0 || depth > 4) return 0;
    if (!strcmp(c->name, "_rebuild_tensor_v2") || !strcmp(c->name, "_rebuild_tensor")) {
        if (a->n < 4) return rn_fail("%s: %s with %zu arguments (want >= 4)", L->label, c->name, a->n);
        *args = a;
        return 1;
    }
    if (!strcmp(c->name, "_rebuild_parameter") || !strcmp(c->name, "_rebuild_parameter_with_state"))
        return a->n ? tensor_args(L, a->items[0], args, depth + 1)
                    : rn_fail("%s: %s without arguments", L->label, c->name);
    if (!strcmp(c->name, "_rebuild_from_type_v2")) { /* (func, type, args, state): a Tensor subclass */
        if (a->n < 3 || a->items[2]->type != PK_TUPLE) return rn_fail("%s: malformed _rebuild_from_type_v2", L->label);
        PkObj inner = {.type = PK_OBJ, .callable = a->items[0], .args = a->items[2]};
        return tensor_args(L, &inner, args, depth + 1);
    }
    if (!strncmp(c->name, "_rebuild", 8))
        return rn_fail("%s: unsupported tensor kind torch._utils.%s (only dense tensors are read)", L->label, c->name);
    return 0;
}

static void add_found(Loader *L, const char *name, const PkObj *args) {
    if (L->nfound == L->capfound) {
        L->capfound = L->capfound ? 2 * L->capfound : 64;
        L->found = xrealloc(L->found, L->capfound * sizeof *L->found);
    }
    L->found[L->nfound++] = (Found){xstrdup(name), args};
}

static const char *key_text(const PkObj *k, char *tmp, size_t n) {
    if (k->type == PK_STR) return k->s;
    if (k->type == PK_INT) return snprintf(tmp, n, "%lld", (long long)k->i), tmp;
    return NULL; /* other key types (tuples, None) name no tensor */
}

/* Collects every tensor under dict d, naming nested entries "outer.inner". */
static int walk(Loader *L, const PkObj *d, const char *prefix, int depth) {
    /* A real pickle spends at least a byte per dict entry; memo sharing (BINGET of the same dict
     * again and again) could otherwise make the walk exponential in a few bytes of input. */
    L->visits += d->n / 2 + 1;
    if (depth > 32 || L->visits > L->n + 16)
        return rn_fail("%s: dict nesting too deep or shared too often (cyclic?) under '%s'", L->label, prefix);
    for (size_t i = 0; i + 1 < d->n; i += 2) {
        char tmp[32], name[2 * MAX_NAME + 2];
        const char *k = key_text(d->items[i], tmp, sizeof tmp);
        if (!k) continue;
        if (strlen(prefix) + strlen(k) + 2 > MAX_NAME) return rn_fail("%s: tensor name too long", L->label);
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", k);
        const PkObj *v = d->items[i + 1], *args;
        int r = tensor_args(L, v, &args, 0);
        TRY(r);
        if (r) add_found(L, name, args);
        else if (v->type == PK_DICT) TRY(walk(L, v, name, depth + 1));
    }
    return 0;
}

static bool dict_has_tensor(Loader *L, const PkObj *d) {
    const PkObj *args;
    for (size_t i = 1; i < d->n; i += 2)
        if (tensor_args(L, d->items[i], &args, 0) == 1) return true;
    return false;
}

/* Descends through wrapper dicts ({'state_dict': sd, 'epoch': 3}) to the state_dict. */
static const PkObj *unwrap(Loader *L, const PkObj *root, char *path, size_t n) {
    static const char *keys[] = {"state_dict", "model", "model_state_dict", "net", "params", "module"};
    path[0] = 0;
    for (int depth = 0; depth < 8 && !dict_has_tensor(L, root); depth++) {
        const PkObj *next = NULL;
        const char *via = NULL;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !next; k++) {
            const PkObj *v = pk_dict_get(root, keys[k]);
            if (v && v->type == PK_DICT) next = v, via = keys[k];
        }
        if (!next) break;
        size_t len = strlen(path);
        snprintf(path + len, n - len, "%s%s", len ? "." : "", via);
        root = next;
    }
    return root;
}

/* ---- materialising one tensor --------------------------------------------------------------- */

typedef struct View {
    const Storage *s;
    int64_t base;   /* element offset of the tensor's [0,...,0] in the storage */
    int64_t avail;  /* elements of the storage (or legacy storage view) from which it may read */
    int ndim;
    int64_t size[TORCH_MAX_DIM], stride[TORCH_MAX_DIM];
} View;

static int int_tuple(Loader *L, const char *name, const PkObj *t, const char *what, int64_t *out, int *nd) {
    if (t->type != PK_TUPLE)
        return rn_fail("%s: tensor %s: %s is a %s, not a tuple", L->label, name, what, pk_type_name(t));
    if (t->n > TORCH_MAX_DIM)
        return rn_fail("%s: tensor %s has %zu dimensions (max %d)", L->label, name, t->n, TORCH_MAX_DIM);
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->type != PK_INT || t->items[i]->i < 0)
            return rn_fail("%s: tensor %s: %s[%zu] is not a non-negative int", L->label, name, what, i);
        out[i] = t->items[i]->i;
    }
    *nd = (int)t->n;
    return 0;
}

/* The storage a tensor refers to, with the legacy (view_key, offset, size) view metadata applied. */
static int view_storage(Loader *L, const char *name, const PkObj *pers, View *v) {
    if (pers->type != PK_PERSID)
        return rn_fail("%s: tensor %s: storage is a %s, not a persistent id", L->label, name, pk_type_name(pers));
    const DType *dt;
    const char *key;
    int64_t numel;
    TRY(pid_parts(L, pers->args, &dt, &key, &numel));
    v->s = storage_find(L, key);
    if (!v->s) return rn_fail("%s: tensor %s: storage key %s missing", L->label, name, key);
    v->base = 0;
    v->avail = v->s->numel;
    const PkObj *vm = pers->args->n > 5 ? pers->args->items[5] : NULL;
    if (!vm || vm->type == PK_NONE) return 0;
    if (vm->type != PK_TUPLE || vm->n != 3 || vm->items[1]->type != PK_INT || vm->items[2]->type != PK_INT ||
        vm->items[1]->i < 0 || vm->items[2]->i < 0 || vm->items[1]->i > numel ||
        vm->items[2]->i > numel - vm->items[1]->i)
        return rn_fail("%s: tensor %s: bad storage view metadata", L->label, name);
    v->base = vm->items[1]->i;
    v->avail = vm->items[2]->i;
    return 0;
}

/* Parses (storage, offset, size, stride) and checks every element it reads lies in the storage. */
static int make_view(Loader *L, const char *name, const PkObj *args, View *v, uint64_t *numel) {
    int nst = 0;
    TRY(view_storage(L, name, args->items[0], v));
    if (args->items[1]->type != PK_INT || args->items[1]->i < 0)
        return rn_fail("%s: tensor %s: storage offset is not a non-negative int", L->label, name);
    TRY(int_tuple(L, name, args->items[2], "size", v->size, &v->ndim));
    TRY(int_tuple(L, name, args->items[3], "stride", v->stride, &nst));
    if (nst != v->ndim) return rn_fail("%s: tensor %s: %d sizes but %d strides", L->label, name, v->ndim, nst);
    for (int d = 0; d < v->ndim; d++)
        if (v->size[d] <= 1) v->stride[d] = 0; /* never stepped along: its stride (however large) is irrelevant */
    int64_t off = args->items[1]->i, last = 0, t;
    uint64_t cnt = 1;
    for (int d = 0; d < v->ndim; d++) {
        if (__builtin_mul_overflow(cnt, (uint64_t)v->size[d], &cnt) || cnt > ((uint64_t)1 << 40))
            return rn_fail("%s: tensor %s: element count overflows", L->label, name);
        if (v->size[d] &&
            (__builtin_mul_overflow(v->size[d] - 1, v->stride[d], &t) || __builtin_add_overflow(last, t, &last)))
            return rn_fail("%s: tensor %s: strides overflow", L->label, name);
    }
    if (cnt && (off > v->avail || last >= v->avail - off))
        return rn_fail("%s: tensor %s reads element %lld of a %lld-element storage %s", L->label, name,
                       (long long)(off + last), (long long)v->avail, v->s->key);
    v->base += off;
    *numel = cnt;
    return 0;
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) bits = sign | 0x7f800000u | man << 13;  /* inf, nan */
    else if (exp) bits = sign | (exp + 112) << 23 | man << 13; /* normal: rebias 15 -> 127 */
    else if (!man) bits = sign;                               /* zero */
    else {                                                    /* subnormal: normalise */
        int e = -1;
        do { man <<= 1; e++; } while (!(man & 0x400));
        bits = sign | (uint32_t)(112 - e) << 23 | (man & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Element i of raw storage bytes, as float or as int64 (host is little-endian, as are the files). */
static double elem_f(const uint8_t *p, Kind k) {
    float f; double d; uint16_t h; uint32_t b;
    switch (k) {
    case K_F32: memcpy(&f, p, 4); return f;
    case K_F16: memcpy(&h, p, 2); return half_to_float(h);
    case K_BF16: memcpy(&h, p, 2); b = (uint32_t)h << 16; memcpy(&f, &b, 4); return f;
    case K_F64: memcpy(&d, p, 8); return d;
    default: return 0;
    }
}

static int64_t elem_i(const uint8_t *p, Kind k) {
    int64_t l; int32_t i; int16_t s;
    switch (k) {
    case K_I64: memcpy(&l, p, 8); return l;
    case K_I32: memcpy(&i, p, 4); return i;
    case K_I16: memcpy(&s, p, 2); return s;
    case K_I8: return (int8_t)p[0];
    case K_U8: return p[0];
    case K_BOOL: return p[0] != 0;
    default: return 0;
    }
}

/* Walks the strided view in row-major order (an odometer over the dimensions). */
static void gather(const View *v, size_t numel, float *fo, int64_t *io) {
    const DType *dt = v->s->dt;
    int64_t idx[TORCH_MAX_DIM] = {0}, src = v->base;
    for (size_t i = 0; i < numel; i++) {
        const uint8_t *p = v->s->data + (size_t)src * (size_t)dt->size;
        if (fo) fo[i] = (float)elem_f(p, dt->kind);
        else io[i] = elem_i(p, dt->kind);
        for (int d = v->ndim - 1; d >= 0; d--) {
            src += v->stride[d];
            if (++idx[d] < v->size[d]) break;
            src -= v->stride[d] * v->size[d];
            idx[d] = 0;
        }
    }
}

static bool is_contiguous(const View *v) {
    int64_t expect = 1;
    for (int d = v->ndim - 1; d >= 0; d--) {
        if (v->size[d] != 1 && v->stride[d] != expect) return false;
        expect *= v->size[d];
    }
    return true;
}

static int materialise(Loader *L, const Found *f, TorchTensor *t) {
    View v;
    uint64_t numel = 0;
    TRY(make_view(L, f->name, f->args, &v, &numel));
    if (__builtin_add_overflow(L->out_elems, numel, &L->out_elems) || L->out_elems > L->st_elems + BROADCAST_ALLOWANCE)
        return rn_fail("%s: tensor %s: %llu elements materialise far beyond the storages' %llu (overlapping views?)",
                       L->label, f->name, (unsigned long long)numel, (unsigned long long)L->st_elems);
    t->name = xstrdup(f->name);
    t->ndim = v.ndim;
    memcpy(t->shape, v.size, sizeof v.size);
    t->numel = (size_t)numel;
    t->dtype = v.s->dt->dtype;
    t->is_int = !kind_is_float(v.s->dt->kind);
    if (t->is_int) t->idata = xmalloc(t->numel * sizeof *t->idata);
    else t->data = xmalloc(t->numel * sizeof *t->data);
    if (!t->is_int && v.s->dt->kind == K_F32 && is_contiguous(&v))
        memcpy(t->data, v.s->data + (size_t)v.base * 4, t->numel * 4);
    else gather(&v, t->numel, t->data, t->idata);
    return 0;
}

/* ---- entry points --------------------------------------------------------------------------- */

static int load_tree(Loader *L, TorchFile *tf) {
    PkObj *root = NULL;
    if (L->n == 0) return rn_fail("%s: empty file", L->label);
    if (L->n >= 4 && L->buf[0] == 'P' && L->buf[1] == 'K' && (L->buf[2] == 3 || L->buf[2] == 5)) {
        tf->format = TORCH_FMT_ZIP;
        TRY(load_zip(L, &root));
    } else if (L->buf[0] == 0x80) {
        tf->format = TORCH_FMT_LEGACY;
        TRY(load_legacy(L, &root));
    } else if (L->n > 262 && memcmp(L->buf + 257, "ustar", 5) == 0) {
        return rn_fail("%s: tar-format checkpoint (PyTorch < 0.4) is not supported", L->label);
    } else {
        return rn_fail("%s: not a PyTorch checkpoint (starts with byte 0x%02x; want a zip or a pickle)", L->label,
                       L->buf[0]);
    }
    if (root->type != PK_DICT)
        return rn_fail("%s: top-level object is a %s, not a dict (a pickled nn.Module? save model.state_dict())",
                       L->label, pk_type_name(root));
    char path[256];
    const PkObj *sd = unwrap(L, root, path, sizeof path);
    tf->root = xstrdup(path);
    TRY(walk(L, sd, "", 0));
    tf->t = xcalloc(L->nfound ? L->nfound : 1, sizeof *tf->t);
    for (size_t i = 0; i < L->nfound; i++) {
        TRY(materialise(L, &L->found[i], &tf->t[i]));
        tf->count++;
    }
    return 0;
}

int torch_load_mem(const void *buf, size_t n, const char *label, TorchFile *tf) {
    memset(tf, 0, sizeof *tf);
    tf->path = xstrdup(label);
    Loader L = {.label = tf->path, .buf = buf, .n = n};
    pk_init(&L.pk);
    int rc = load_tree(&L, tf);
    pk_free(&L.pk);
    free(L.st);
    for (size_t i = 0; i < L.nfound; i++) free(L.found[i].name);
    free(L.found);
    if (rc < 0) torch_free(tf);
    return rc;
}

int torch_load(const char *path, TorchFile *tf) {
    memset(tf, 0, sizeof *tf);
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail("%s: cannot open", path);
    long sz = -1;
    if (fseek(f, 0, SEEK_END) == 0) sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return rn_fail("%s: cannot determine the file size (not a regular file?)", path);
    }
    uint8_t *buf = xmalloc((size_t)sz);
    size_t got = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    if (got != (size_t)sz) {
        free(buf);
        return rn_fail("%s: read %zu of %ld bytes", path, got, sz);
    }
    int rc = torch_load_mem(buf, (size_t)sz, path, tf);
    free(buf);
    return rc;
}

void torch_free(TorchFile *tf) {
    for (int i = 0; i < tf->count; i++) {
        free(tf->t[i].name);
        free(tf->t[i].data);
        free(tf->t[i].idata);
    }
    free(tf->t);
    free(tf->path);
    free(tf->root);
    memset(tf, 0, sizeof *tf);
}

const TorchTensor *torch_find(const TorchFile *tf, const char *name) {
    for (int i = 0; i < tf->count; i++)
        if (strcmp(tf->t[i].name, name) == 0) return &tf->t[i];
    return NULL;
}

int torch_strip_prefix(TorchFile *tf, const char *prefix) {
    size_t len = prefix ? strlen(prefix) : 0;
    int changed = 0;
    for (int i = 0; len && i < tf->count; i++) {
        if (strncmp(tf->t[i].name, prefix, len) != 0) continue;
        memmove(tf->t[i].name, tf->t[i].name + len, strlen(tf->t[i].name + len) + 1);
        changed++;
    }
    return changed;
}

const char *torch_shape_str(const TorchTensor *t, char *buf, size_t n) {
    if (t->ndim == 0) return snprintf(buf, n, "scalar"), buf;
    size_t len = 0;
    buf[0] = 0;
    for (int d = 0; d < t->ndim && len < n; d++)
        len += (size_t)snprintf(buf + len, n - len, "%s%lld", d ? "x" : "", (long long)t->shape[d]);
    return buf;
}
