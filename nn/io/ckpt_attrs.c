/* ckpt_attrs.c: the small ordered key/value list stored as a checkpoint's root attributes. */
#include <string.h>

#include "nn/io/checkpoint.h"
#include "util/err.h"

/* Finds key, or appends an empty slot for it; keys longer than the slot or a full list are
 * programming errors (the callers use fixed, short keys). */
static CkptAttr *slot(CkptAttrs *at, const char *key) {
    RN_CHECK(strlen(key) < sizeof at->a[0].key, "attribute key '%s' too long", key);
    for (int i = 0; i < at->n; i++)
        if (strcmp(at->a[i].key, key) == 0) return &at->a[i];
    RN_CHECK(at->n < CKPT_MAX_ATTRS, "more than %d checkpoint attributes (adding '%s')", CKPT_MAX_ATTRS, key);
    CkptAttr *a = &at->a[at->n++];
    memset(a, 0, sizeof *a);
    strcpy(a->key, key);
    return a;
}

static const CkptAttr *find(const CkptAttrs *at, const char *key, char type) {
    if (!at) return NULL;
    for (int i = 0; i < at->n; i++)
        if (strcmp(at->a[i].key, key) == 0) return at->a[i].type == type ? &at->a[i] : NULL;
    return NULL;
}

void attrs_set_str(CkptAttrs *at, const char *key, const char *v) {
    CkptAttr *a = slot(at, key);
    RN_CHECK(strlen(v) < sizeof a->s, "value of attribute '%s' too long (%zu chars)", key, strlen(v));
    a->type = 's';
    strcpy(a->s, v);
}

void attrs_set_int(CkptAttrs *at, const char *key, long long v) {
    CkptAttr *a = slot(at, key);
    a->type = 'i';
    a->i = v;
}

void attrs_set_float(CkptAttrs *at, const char *key, double v) {
    CkptAttr *a = slot(at, key);
    a->type = 'f';
    a->f = v;
}

const char *attrs_get_str(const CkptAttrs *at, const char *key, const char *dflt) {
    const CkptAttr *a = find(at, key, 's');
    return a ? a->s : dflt;
}

long long attrs_get_int(const CkptAttrs *at, const char *key, long long dflt) {
    const CkptAttr *a = find(at, key, 'i');
    return a ? a->i : dflt;
}

double attrs_get_float(const CkptAttrs *at, const char *key, double dflt) {
    const CkptAttr *a = find(at, key, 'f');
    return a ? a->f : dflt;
}
