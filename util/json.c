/* json.c: recursive-descent JSON parser (strict grammar, \u escapes to UTF-8, depth-limited). */
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define JSON_MAX_DEPTH 256

typedef struct {
    const char *s, *p, *end, *name;
    const char *line_start;
    int line, depth;
} Parser;

static int perr(Parser *ps, const char *what) {
    return rn_fail("%s:%d:%d: malformed JSON: %s", ps->name, ps->line, (int)(ps->p - ps->line_start) + 1, what);
}

static void skip_ws(Parser *ps) {
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == '\n') {
            ps->line++;
            ps->line_start = ps->p + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        ps->p++;
    }
}

static int expect_word(Parser *ps, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0) return perr(ps, "unexpected token");
    ps->p += n;
    return 0;
}

/* Number per the JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(Parser *ps, double *out) {
    const char *q = ps->p, *e = ps->end;
    if (q < e && *q == '-') q++;
    if (q >= e || *q < '0' || *q > '9') return perr(ps, "bad number");
    if (*q == '0') q++;
    else while (q < e && *q >= '0' && *q <= '9') q++;
    if (q < e && *q == '.') {
        q++;
        if (q >= e || *q < '0' || *q > '9') return perr(ps, "bad number (digit expected after '.')");
        while (q < e && *q >= '0' && *q <= '9') q++;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < e && (*q == '+' || *q == '-')) q++;
        if (q >= e || *q < '0' || *q > '9') return perr(ps, "bad number (digit expected in exponent)");
        while (q < e && *q >= '0' && *q <= '9') q++;
    }
    char buf[64];
    size_t n = (size_t)(q - ps->p);
    if (n >= sizeof buf) return perr(ps, "number too long");
    memcpy(buf, ps->p, n); /* strtod needs a terminated copy: the input need not end in NUL */
    buf[n] = 0;
    *out = strtod(buf, NULL);
    ps->p = q;
    return 0;
}

static int hex4(Parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return perr(ps, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return perr(ps, "bad hex digit in \\u escape");
    }
    ps->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX, joining a UTF-16 surrogate pair into one code point. */
static int parse_u_escape(Parser *ps, unsigned *cp) {
    TRY(hex4(ps, cp));
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return perr(ps, "lone low surrogate in \\u escape");
    if (*cp < 0xD800 || *cp > 0xDBFF) return 0;
    if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') return perr(ps, "unpaired surrogate in \\u escape");
    ps->p += 2;
    unsigned lo;
    TRY(hex4(ps, &lo));
    if (lo < 0xDC00 || lo > 0xDFFF) return perr(ps, "bad low surrogate in \\u escape");
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return 0;
}

static int escape_char(char c, char *out) {
    switch (c) {
    case '"': *out = '"'; return 0;
    case '\\': *out = '\\'; return 0;
    case '/': *out = '/'; return 0;
    case 'b': *out = '\b'; return 0;
    case 'f': *out = '\f'; return 0;
    case 'n': *out = '\n'; return 0;
    case 'r': *out = '\r'; return 0;
    case 't': *out = '\t'; return 0;
    default: return -1;
    }
}

/* Called with ps->p on the opening quote. The output never outgrows the input (an escape is at
 * least as long as its UTF-8), so one allocation of the raw span suffices. */
static int parse_string(Parser *ps, char **out) {
    ps->p++;
    const char *q = ps->p;
    while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end) return perr(ps, "unterminated string");
    char *s = xmalloc((size_t)(q - ps->p) + 1), *o = s;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) { free(s); return perr(ps, "control character in string"); }
        if (c != '\\') { *o++ = (char)c; ps->p++; continue; }
        ps->p++;
        if (*ps->p == 'u') {
            ps->p++;
            unsigned cp;
            if (parse_u_escape(ps, &cp) < 0) { free(s); return -1; }
            o += put_utf8(o, cp);
        } else {
            if (escape_char(*ps->p, o) < 0) { free(s); return perr(ps, "bad escape in string"); }
            o++;
            ps->p++;
        }
    }
    ps->p++;
    *o = 0;
    *out = s;
    return 0;
}

static int parse_value(Parser *ps, Json *v);

static void push(Json *v, int *cap, const Json *item, char *key) {
    if (v->n == *cap) {
        *cap = *cap ? 2 * *cap : 4;
        v->items = xrealloc(v->items, (size_t)*cap * sizeof *v->items);
        if (v->type == JSON_OBJ) v->keys = xrealloc(v->keys, (size_t)*cap * sizeof *v->keys);
    }
    v->items[v->n] = *item;
    if (v->type == JSON_OBJ) v->keys[v->n] = key;
    v->n++;
}

static void json_clear(Json *j);

/* Array or object body; ps->p is just past the opening bracket. */
static int parse_container(Parser *ps, Json *v, char close) {
    int cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) { ps->p++; return 0; }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (v->type == JSON_OBJ) {
            if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "object key (string) expected");
            TRY(parse_string(ps, &key));
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { free(key); return perr(ps, "':' expected after object key"); }
            ps->p++;
        }
        Json item = {0};
        if (parse_value(ps, &item) < 0) {
            json_clear(&item);
            free(key);
            return -1;
        }
        push(v, &cap, &item, key);
        skip_ws(ps);
        if (ps->p >= ps->end) return perr(ps, close == ']' ? "unterminated array" : "unterminated object");
        if (*ps->p == close) { ps->p++; return 0; }
        if (*ps->p != ',') return perr(ps, close == ']' ? "',' or ']' expected" : "',' or '}' expected");
        ps->p++;
    }
}

static int parse_value(Parser *ps, Json *v) {
    skip_ws(ps);
    if (ps->p >= ps->end) return perr(ps, "value expected, found end of input");
    v->line = ps->line;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        if (++ps->depth > JSON_MAX_DEPTH) return perr(ps, "nesting too deep");
        v->type = c == '{' ? JSON_OBJ : JSON_ARR;
        ps->p++;
        int rc = parse_container(ps, v, c == '{' ? '}' : ']');
        ps->depth--;
        return rc;
    }
    if (c == '"') { v->type = JSON_STR; return parse_string(ps, &v->str); }
    if (c == 't') { v->type = JSON_BOOL; v->b = true; return expect_word(ps, "true"); }
    if (c == 'f') { v->type = JSON_BOOL; return expect_word(ps, "false"); }
    if (c == 'n') { v->type = JSON_NULL; return expect_word(ps, "null"); }
    v->type = JSON_NUM;
    return parse_number(ps, &v->num);
}

Json *json_parse(const char *text, size_t len, const char *name) {
    Parser ps = {text, text, text + len, name, text, 1, 0};
    Json *root = xcalloc(1, sizeof *root);
    if (parse_value(&ps, root) == 0) {
        skip_ws(&ps);
        if (ps.p == ps.end) return root;
        perr(&ps, "trailing characters after the JSON value");
    }
    json_free(root); /* partial trees are consistent: every pushed item is complete */
    return NULL;
}

static void json_clear(Json *j) {
    for (int i = 0; i < j->n; i++) {
        json_clear(&j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
}

void json_free(Json *j) {
    if (!j) return;
    json_clear(j);
    free(j);
}

const Json *json_get(const Json *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJ) return NULL;
    for (int i = obj->n - 1; i >= 0; i--)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

const Json *json_get_type(const Json *obj, const char *key, JsonType type) {
    const Json *v = json_get(obj, key);
    return v && v->type == type ? v : NULL;
}

const char *json_type_name(JsonType t) {
    static const char *names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t < 6 ? names[t] : "?";
}
