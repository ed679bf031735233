/* ds_common.c: building, sorting, freeing datasets, and the file helpers every reader shares. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "util/err.h"

void dataset_init(Dataset *ds, const char *name) {
    memset(ds, 0, sizeof *ds);
    ds->name = xstrdup(name);
    for (int v = 0; v < 256; v++) ds->label_lut[v] = (uint8_t)v;
}

Sample *dataset_add(Dataset *ds, const char *frame) {
    if (ds->n == ds->cap) {
        ds->cap = ds->cap ? 2 * ds->cap : 64;
        ds->samples = xrealloc(ds->samples, (size_t)ds->cap * sizeof *ds->samples);
    }
    Sample *s = &ds->samples[ds->n++];
    memset(s, 0, sizeof *s);
    s->frame = frame ? xstrdup(frame) : NULL;
    s->id = -1;
    return s;
}

void dataset_set_classes(Dataset *ds, const char *const *names, int n) {
    ds->class_names = xcalloc((size_t)n, sizeof *ds->class_names);
    for (int i = 0; i < n; i++) ds->class_names[i] = xstrdup(names[i]);
    ds->nclasses = n;
}

static int cmp_time(const void *a, const void *b) {
    const Sample *x = a, *y = b;
    int c = strcmp(x->seq ? x->seq : "", y->seq ? y->seq : "");
    if (c) return c;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    /* ties (same frame number) keep a fixed order by path, so the sort is stable in effect */
    return strcmp(x->frame ? x->frame : "", y->frame ? y->frame : "");
}

void dataset_sort_time(Dataset *ds) {
    if (ds->n > 1) qsort(ds->samples, (size_t)ds->n, sizeof *ds->samples, cmp_time);
}

void box_push(Box **boxes, int *n, int *cap, Box b) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *boxes = xrealloc(*boxes, (size_t)*cap * sizeof **boxes);
    }
    (*boxes)[(*n)++] = b;
}

void dataset_free(Dataset *ds) {
    for (int i = 0; i < ds->n; i++) {
        Sample *s = &ds->samples[i];
        free(s->frame);
        free(s->label);
        free(s->lr);
        free(s->boxes);
        free(s->seq);
    }
    for (int c = 0; c < ds->nclasses; c++) free(ds->class_names[c]);
    free(ds->class_names);
    free(ds->class_ids);
    free(ds->samples);
    free(ds->name);
    memset(ds, 0, sizeof *ds);
}

int dataset_sequence(const Dataset *ds, const char *seq, int *count) {
    int first = -1, n = 0;
    for (int i = 0; i < ds->n; i++) {
        if (!ds->samples[i].seq || strcmp(ds->samples[i].seq, seq) != 0) continue;
        if (first < 0) first = i;
        n++;
    }
    if (count) *count = n;
    return first;
}

int dataset_nboxes(const Dataset *ds) {
    int n = 0;
    for (int i = 0; i < ds->n; i++) n += ds->samples[i].nboxes;
    return n;
}

int read_text_file(const char *path, char **text, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return rn_fail("%s: read error", path);
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return 0;
}

static bool has_suffix(const char *name, const char *suffixes) {
    if (!*suffixes) return true;
    size_t ln = strlen(name);
    for (const char *p = suffixes; *p;) {
        const char *e = strchr(p, ',');
        size_t ls = e ? (size_t)(e - p) : strlen(p);
        if (ls <= ln && strncasecmp(name + ln - ls, p, ls) == 0) return true;
        p += ls + (e ? 1 : 0);
    }
    return false;
}

/* Natural order (frame_2 before frame_10); equal to plain order for zero-padded names. */
static int cmp_str(const void *a, const void *b) { return strverscmp(*(char *const *)a, *(char *const *)b); }

int list_dir(const char *dir, const char *suffixes, char ***names, int *n) {
    DIR *d = opendir(dir);
    if (!d) return rn_fail("%s: cannot open folder: %s", dir, strerror(errno));
    int cap = 64, cnt = 0;
    char **v = xmalloc((size_t)cap * sizeof *v);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, suffixes)) continue;
        if (cnt == cap) v = xrealloc(v, (size_t)(cap *= 2) * sizeof *v);
        v[cnt++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(v, (size_t)cnt, sizeof *v, cmp_str); /* readdir order is arbitrary; names give time order */
    *names = v;
    *n = cnt;
    return 0;
}

void free_names(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

char *path_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *p = xmalloc(la + lb + 2);
    memcpy(p, a, la);
    size_t k = la;
    if (la && a[la - 1] != '/') p[k++] = '/';
    memcpy(p + k, b, lb + 1);
    return p;
}

bool path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool parse_seq_frame(const char *name, char **seq, int *index) {
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *us = strrchr(base, '_');
    if (!us || us == base) return false;
    const char *d = us + 1;
    while (*d && !(*d >= '0' && *d <= '9')) d++; /* "f00030" in Seq05VD names */
    if (!*d) return false;
    long v = 0;
    for (; *d >= '0' && *d <= '9'; d++)
        if ((v = v * 10 + (*d - '0')) > 1000000000L) return false;
    *seq = strndup(base, (size_t)(us - base));
    if (!*seq) rn_die("out of memory");
    *index = (int)v;
    return true;
}

int text_line(const char *text, size_t len, size_t *pos, char *buf, size_t cap, const char *name, int lineno) {
    if (*pos >= len) return 0;
    const char *p = text + *pos, *nl = memchr(p, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - p) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n && p[n - 1] == '\r') n--;
    if (n >= cap) return rn_fail("%s:%d: line longer than %zu characters", name, lineno, cap - 1);
    memcpy(buf, p, n);
    buf[n] = 0;
    if (memchr(buf, 0, n)) return rn_fail("%s:%d: NUL byte in a text line", name, lineno);
    return 1;
}

/* ---- image headers ---- */

static int probe_png(FILE *f, const char *path, int *w, int *h) {
    unsigned char b[16]; /* after the signature: chunk length, "IHDR", width, height (big-endian) */
    if (fread(b, 1, 16, f) != 16 || memcmp(b + 4, "IHDR", 4) != 0)
        return rn_fail("%s: truncated or malformed PNG header", path);
    *w = (int)((unsigned)b[8] << 24 | (unsigned)b[9] << 16 | (unsigned)b[10] << 8 | b[11]);
    *h = (int)((unsigned)b[12] << 24 | (unsigned)b[13] << 16 | (unsigned)b[14] << 8 | b[15]);
    if (*w <= 0 || *h <= 0) return rn_fail("%s: PNG header gives size %dx%d", path, *w, *h);
    return 0;
}

/* Walks JPEG marker segments to the first SOFn (C0..CF except DHT C4, JPG C8, DAC CC). */
static int probe_jpeg(FILE *f, const char *path, int *w, int *h) {
    if (fseek(f, 2, SEEK_SET) != 0) return rn_fail("%s: cannot seek", path);
    for (int guard = 0; guard < 10000; guard++) {
        int c = fgetc(f);
        if (c != 0xFF) break;
        int m;
        while ((m = fgetc(f)) == 0xFF) {}
        if (m == EOF) break;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue; /* markers without a length */
        unsigned char b[7];
        if (fread(b, 1, 2, f) != 2) break;
        int len = b[0] << 8 | b[1];
        if (len < 2) break;
        bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (sof) {
            if (fread(b + 2, 1, 5, f) != 5) break;
            *h = b[3] << 8 | b[4];
            *w = b[5] << 8 | b[6];
            if (*w <= 0 || *h <= 0) return rn_fail("%s: JPEG header gives size %dx%d", path, *w, *h);
            return 0;
        }
        if (fseek(f, len - 2, SEEK_CUR) != 0) break;
    }
    return rn_fail("%s: no frame header (SOF) found in JPEG", path);
}

int image_probe(const char *path, int *w, int *h) {
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail("%s: cannot open: %s", path, strerror(errno));
    unsigned char sig[8] = {0};
    size_t got = fread(sig, 1, 8, f);
    int rc;
    if (got == 8 && memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0) {
        rc = probe_png(f, path, w, h);
    } else if (got >= 2 && sig[0] == 0xFF && sig[1] == 0xD8) {
        rc = probe_jpeg(f, path, w, h);
    } else {
        rc = rn_fail("%s: neither PNG nor JPEG", path);
    }
    fclose(f);
    return rc;
}
