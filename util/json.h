/* json.h: a small strict JSON (RFC 8259) parser into a tree, for annotation files (COCO). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } JsonType;

typedef struct Json Json;
struct Json {
    JsonType type;
    int line;        /* 1-based line where the value starts (for error messages naming the line) */
    bool b;          /* JSON_BOOL */
    double num;      /* JSON_NUM */
    char *str;       /* JSON_STR: UTF-8, NUL-terminated (embedded \u0000 ends it early) */
    int n;           /* JSON_ARR / JSON_OBJ: element count */
    Json *items;     /* [n] elements or member values */
    char **keys;     /* JSON_OBJ: [n] member names */
};

/* Parses text[0..len) (need not be NUL-terminated). Returns NULL with rn_fail("NAME:LINE:COL: ...")
 * on malformed input. Nesting deeper than 256 levels is rejected (no stack overflow on hostile
 * input). Free with json_free. */
Json *json_parse(const char *text, size_t len, const char *name);
void json_free(Json *j);

/* Lookups return NULL when absent or of the wrong kind. With duplicate keys the last one wins. */
const Json *json_get(const Json *obj, const char *key);
const Json *json_get_type(const Json *obj, const char *key, JsonType type);
const char *json_type_name(JsonType t);
