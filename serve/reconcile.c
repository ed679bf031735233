/* reconcile.c: `rune serve-reconcile` — the edge CSV's sent frames joined with the cloud CSVs' rows, counted by where each one went. */
#include "serve/reconcile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static const char *const KIND_NAME[REC_NKIND] = {"processed", "stale",    "bad_payload", "unprocessed",
                                                 "refused",   "summarised", "unconfirmed", "unaccounted"};
#define CLOUD_NSTATUS 5 /* the cloud's own statuses: KIND_NAME[0 .. CLOUD_NSTATUS) */
#define SUMMARY_SUFFIX "_summary"

const char *rec_kind_name(int kind) { return kind >= 0 && kind < REC_NKIND ? KIND_NAME[kind] : "unknown"; }

/* ---------------- a CSV read by header names ---------------- */

#define CSV_MAX_COLS 128

typedef struct Csv {
    FILE *f;
    const char *path;
    long lineno;
    char *head, *line;   /* the header's text (names point into it); the current row's text */
    size_t head_cap, line_cap;
    char *name[CSV_MAX_COLS];
    char *fld[CSV_MAX_COLS];
    int ncols;
} Csv;

/* Splits s at commas in place (the trailing newline removed) into out[cap]; the field count, or cap + 1
 * when there are more. */
static int split(char *s, char **out, int cap) {
    s[strcspn(s, "\r\n")] = 0;
    int n = 0;
    for (char *p = s;; p++) {
        if (n == cap) return cap + 1;
        out[n++] = p;
        p = strchr(p, ',');
        if (!p) return n;
        *p = 0;
    }
}

static void csv_close(Csv *c) {
    if (c->f) fclose(c->f);
    free(c->head);
    free(c->line);
    memset(c, 0, sizeof *c);
}

static int csv_open(Csv *c, const char *path) {
    memset(c, 0, sizeof *c);
    c->path = path;
    if (!(c->f = fopen(path, "r"))) return rn_fail("%s: %s", path, strerror(errno));
    if (getline(&c->head, &c->head_cap, c->f) < 0) return rn_fail("%s: empty (no header line)", path);
    c->lineno = 1;
    c->ncols = split(c->head, c->name, CSV_MAX_COLS);
    if (c->ncols > CSV_MAX_COLS) return rn_fail("%s: header has more than %d columns", path, CSV_MAX_COLS);
    return 0;
}

/* The column named `name`, or -1 with rn_errmsg(). */
static int csv_col(const Csv *c, const char *name) {
    for (int i = 0; i < c->ncols; i++)
        if (!strcmp(c->name[i], name)) return i;
    return rn_fail("%s: the header has no column \"%s\" (is this the right CSV?)", c->path, name);
}

/* The next row into c->fld: 1, 0 at the end, -1 with rn_errmsg() when its field count is not the header's. */
static int csv_next(Csv *c) {
    for (;;) {
        if (getline(&c->line, &c->line_cap, c->f) < 0) return 0;
        c->lineno++;
        if (c->line[strspn(c->line, "\r\n")] == 0) continue; /* an empty line */
        int n = split(c->line, c->fld, CSV_MAX_COLS);
        if (n != c->ncols)
            return rn_fail("%s:%ld: %d fields, the header has %d (a malformed or cut row)", c->path, c->lineno, n, c->ncols);
        return 1;
    }
}

static int parse_fid(const Csv *c, const char *s, uint64_t *fid) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || *s == '-' || *s == '+')
        return rn_fail("%s:%ld: frame_id \"%s\" is not a frame number", c->path, c->lineno, s);
    *fid = v;
    return 0;
}

static int parse_probe(const Csv *c, const char *s, bool *probe) {
    if (strcmp(s, "0") && strcmp(s, "1")) return rn_fail("%s:%ld: probe \"%s\" is not 0 or 1", c->path, c->lineno, s);
    *probe = s[0] == '1';
    return 0;
}

static int check_id(const Csv *c, const char *id) {
    if (!wire_id_valid(id)) return rn_fail("%s:%ld: edge \"%s\" is not an edge id", c->path, c->lineno, id);
    return 0;
}

/* ---------------- per-edge frames ---------------- */

typedef struct Sent {
    uint64_t fid;
    bool probe;
    bool unconfirmed; /* the edge wrote an "unconfirmed" row for it */
    int kind;         /* RecKind where it was found; -1 not (yet) */
} Sent;

typedef struct Summary {
    uint64_t fid;     /* the last frame it covers */
    long long left;   /* frames it still stands for */
} Summary;

typedef struct Rows {
    Sent *sent;
    int nsent, cap_sent;
    RecFrame *unconf;  /* "unconfirmed" rows, applied once every sent row is read */
    int nunconf, cap_unconf;
    Summary *sum;
    int nsum, cap_sum;
} Rows;

typedef struct Work {
    RecResult *r;
    Rows *rows;  /* [r->nedges] */
    int cap;
} Work;

#define GROW(arr, n, cap)                                                      \
    do {                                                                       \
        if ((n) == (cap)) {                                                    \
            (cap) = (cap) ? 2 * (cap) : 64;                                    \
            (arr) = xrealloc((arr), (size_t)(cap) * sizeof *(arr));            \
        }                                                                      \
    } while (0)

static int edge_index(const Work *w, const char *id) {
    for (int i = 0; i < w->r->nedges; i++)
        if (!strcmp(w->r->edges[i].id, id)) return i;
    return -1;
}

static int edge_add(Work *w, const char *id) {
    int i = edge_index(w, id);
    if (i >= 0) return i;
    RecResult *r = w->r;
    if (r->nedges == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 4;
        r->edges = xrealloc(r->edges, (size_t)w->cap * sizeof *r->edges);
        w->rows = xrealloc(w->rows, (size_t)w->cap * sizeof *w->rows);
    }
    memset(&r->edges[r->nedges], 0, sizeof r->edges[0]);
    memset(&w->rows[r->nedges], 0, sizeof w->rows[0]);
    snprintf(r->edges[r->nedges].id, sizeof r->edges[0].id, "%s", id);
    return r->nedges++;
}

static int cmp_sent(const void *a, const void *b) {
    const Sent *x = a, *y = b;
    if (x->fid != y->fid) return x->fid < y->fid ? -1 : 1;
    return (int)x->probe - (int)y->probe;
}

static int cmp_sum(const void *a, const void *b) {
    const Summary *x = a, *y = b;
    return x->fid < y->fid ? -1 : x->fid > y->fid;
}

static Sent *find_sent(const Rows *rw, uint64_t fid, bool probe) {
    Sent key = {.fid = fid, .probe = probe};
    if (!rw->nsent) return NULL;
    return bsearch(&key, rw->sent, (size_t)rw->nsent, sizeof *rw->sent, cmp_sent);
}

/* ---------------- the edge CSV ---------------- */

typedef struct EdgeCols {
    int edge, fid, status, probe;
} EdgeCols;

static int edge_row(Work *w, const Csv *c, const EdgeCols *k) {
    const char *st = c->fld[k->status];
    bool sent = !strcmp(st, "sent"), unconf = !strcmp(st, "unconfirmed");
    if (!sent && !unconf && strcmp(st, "dropped") && strcmp(st, "skipped"))
        return rn_fail("%s:%ld: status \"%s\" is not sent, dropped, skipped or unconfirmed", c->path, c->lineno, st);
    TRY(check_id(c, c->fld[k->edge]));
    RecFrame f = {0};
    TRY(parse_fid(c, c->fld[k->fid], &f.fid));
    TRY(parse_probe(c, c->fld[k->probe], &f.probe));
    int e = edge_add(w, c->fld[k->edge]); /* an edge that sent nothing is still in the table */
    Rows *rw = &w->rows[e];                /* (after edge_add: it may move the array) */
    if (!sent && !unconf) return 0;
    if (unconf) {
        GROW(rw->unconf, rw->nunconf, rw->cap_unconf);
        rw->unconf[rw->nunconf++] = f;
        return 0;
    }
    GROW(rw->sent, rw->nsent, rw->cap_sent);
    rw->sent[rw->nsent++] = (Sent){.fid = f.fid, .probe = f.probe, .kind = -1};
    return 0;
}

/* Sorts each edge's sent frames (a frame sent twice is an error) and marks the unconfirmed ones. */
static int edge_index_rows(Work *w, const char *path) {
    for (int e = 0; e < w->r->nedges; e++) {
        Rows *rw = &w->rows[e];
        w->r->edges[e].sent = rw->nsent;
        if (rw->nsent) qsort(rw->sent, (size_t)rw->nsent, sizeof *rw->sent, cmp_sent);
        for (int i = 1; i < rw->nsent; i++)
            if (!cmp_sent(&rw->sent[i - 1], &rw->sent[i]))
                return rn_fail("%s: edge %s sent frame %llu%s twice (two runs in one file?)", path, w->r->edges[e].id,
                               (unsigned long long)rw->sent[i].fid, rw->sent[i].probe ? " (probe)" : "");
        for (int i = 0; i < rw->nunconf; i++) {
            Sent *s = find_sent(rw, rw->unconf[i].fid, rw->unconf[i].probe);
            if (!s)
                return rn_fail("%s: edge %s marks frame %llu%s unconfirmed but has no sent row for it", path, w->r->edges[e].id,
                               (unsigned long long)rw->unconf[i].fid, rw->unconf[i].probe ? " (probe)" : "");
            s->unconfirmed = true;
        }
    }
    return 0;
}

static int read_edge(Work *w, const char *path) {
    Csv c;
    int rc = csv_open(&c, path);
    EdgeCols k = {0};
    if (rc == 0 && ((k.edge = csv_col(&c, "edge")) < 0 || (k.fid = csv_col(&c, "frame_id")) < 0 ||
                    (k.status = csv_col(&c, "status")) < 0 || (k.probe = csv_col(&c, "probe")) < 0))
        rc = -1;
    int got = 0;
    while (rc == 0 && (got = csv_next(&c)) == 1) rc = edge_row(w, &c, &k);
    if (got < 0) rc = -1;
    csv_close(&c);
    if (rc < 0) return -1;
    return edge_index_rows(w, path);
}

/* ---------------- the cloud CSVs ---------------- */

typedef struct CloudCols {
    int edge, fid, status, probe, reason;
} CloudCols;

/* The cloud status's RecKind (0 .. CLOUD_NSTATUS), or -1. */
static int cloud_kind(const char *st, size_t len) {
    for (int i = 0; i < CLOUD_NSTATUS; i++)
        if (strlen(KIND_NAME[i]) == len && !strncmp(st, KIND_NAME[i], len)) return i;
    return -1;
}

/* A "<status>_summary" row: its frame id and how many frames it stands for (the reason column). */
static int summary_row(const Csv *c, const CloudCols *k, Rows *rw) {
    Summary s = {0};
    TRY(parse_fid(c, c->fld[k->fid], &s.fid));
    const char *n = c->fld[k->reason];
    char *end;
    errno = 0;
    s.left = strtoll(n, &end, 10);
    if (!*n || *end || errno || s.left <= 0)
        return rn_fail("%s:%ld: summary row's reason \"%s\" is not a count of frames", c->path, c->lineno, n);
    if (rw) {
        GROW(rw->sum, rw->nsum, rw->cap_sum);
        rw->sum[rw->nsum++] = s;
    }
    return 0;
}

static int cloud_row(Work *w, const Csv *c, const CloudCols *k) {
    const char *st = c->fld[k->status], *id = c->fld[k->edge];
    size_t len = strlen(st), slen = strlen(SUMMARY_SUFFIX);
    bool summary = len > slen && !strcmp(st + len - slen, SUMMARY_SUFFIX);
    int kind = cloud_kind(st, summary ? len - slen : len);
    if (kind < 0)
        return rn_fail("%s:%ld: status \"%s\" is not processed, stale, bad_payload, unprocessed, refused or <one of them>%s",
                       c->path, c->lineno, st, SUMMARY_SUFFIX);
    TRY(check_id(c, id));
    int e = edge_index(w, id);
    if (e < 0) w->r->other_rows++;
    if (summary) return summary_row(c, k, e >= 0 ? &w->rows[e] : NULL);
    uint64_t fid = 0;
    bool probe = false;
    TRY(parse_fid(c, c->fld[k->fid], &fid));
    TRY(parse_probe(c, c->fld[k->probe], &probe));
    if (e < 0) return 0;
    Sent *s = find_sent(&w->rows[e], fid, probe);
    if (!s) w->r->edges[e].cloud_only++;
    else if (s->kind < 0) s->kind = kind; /* a second row of one frame: the first says where it went */
    return 0;
}

static int read_cloud(Work *w, const char *path) {
    Csv c;
    int rc = csv_open(&c, path);
    CloudCols k = {0};
    if (rc == 0 && ((k.edge = csv_col(&c, "edge")) < 0 || (k.fid = csv_col(&c, "frame_id")) < 0 ||
                    (k.status = csv_col(&c, "status")) < 0 || (k.probe = csv_col(&c, "probe")) < 0 ||
                    (k.reason = csv_col(&c, "reason")) < 0))
        rc = -1;
    int got = 0;
    while (rc == 0 && (got = csv_next(&c)) == 1) rc = cloud_row(w, &c, &k);
    if (got < 0) rc = -1;
    csv_close(&c);
    return rc;
}

/* ---------------- the join ---------------- */

/* Frames not found by their own row, taken by summary rows: each frame (ascending) by the first
 * summary with room that covers it (frame ids <= the summary's). The frames the edge did not mark
 * go first, so a summary's count is spent on frames that nothing else accounts for. */
static void cover_by_summaries(Rows *rw, bool unconfirmed) {
    int j = 0;
    for (int i = 0; i < rw->nsent && j < rw->nsum; i++) {
        Sent *s = &rw->sent[i];
        if (s->kind >= 0 || s->unconfirmed != unconfirmed) continue;
        while (j < rw->nsum && (rw->sum[j].fid < s->fid || rw->sum[j].left == 0)) j++;
        if (j == rw->nsum) break;
        rw->sum[j].left--;
        s->kind = REC_SUMMARY;
    }
}

static void tally(RecResult *r, RecEdge *e, Rows *rw) {
    if (rw->nsum) qsort(rw->sum, (size_t)rw->nsum, sizeof *rw->sum, cmp_sum); /* (qsort of NULL, 0 is undefined) */
    cover_by_summaries(rw, false);
    cover_by_summaries(rw, true);
    for (int i = 0; i < rw->nsent; i++) {
        Sent *s = &rw->sent[i];
        int kind = s->kind >= 0 ? s->kind : s->unconfirmed ? REC_UNCONFIRMED : REC_UNACCOUNTED;
        e->n[kind]++;
        if (s->kind >= 0 && s->unconfirmed) e->unconfirmed_found++;
        if (kind == REC_UNACCOUNTED && e->nlisted < REC_LIST_MAX)
            e->unaccounted[e->nlisted++] = (RecFrame){.fid = s->fid, .probe = s->probe};
    }
    r->unaccounted += e->n[REC_UNACCOUNTED];
}

static void rows_free(Rows *rw) {
    free(rw->sent);
    free(rw->unconf);
    free(rw->sum);
}

int reconcile_files(const char *edge_csv, const char *const *cloud_csv, int ncloud, RecResult *out) {
    memset(out, 0, sizeof *out);
    Work w = {.r = out};
    int rc = read_edge(&w, edge_csv);
    for (int i = 0; i < ncloud && rc == 0; i++) rc = read_cloud(&w, cloud_csv[i]);
    for (int e = 0; e < out->nedges; e++) {
        if (rc == 0) tally(out, &out->edges[e], &w.rows[e]);
        rows_free(&w.rows[e]);
    }
    free(w.rows);
    if (rc < 0) reconcile_free(out);
    return rc;
}

void reconcile_free(RecResult *r) {
    free(r->edges);
    memset(r, 0, sizeof *r);
}

/* ---------------- output ---------------- */

static void print_list(const RecEdge *e, FILE *f) {
    fprintf(f, "edge %s: %lld UNACCOUNTED (sent, in no cloud CSV, not marked unconfirmed by the edge): frame", e->id,
            e->n[REC_UNACCOUNTED]);
    for (int i = 0; i < e->nlisted; i++)
        fprintf(f, "%s %llu%s", i ? "," : "", (unsigned long long)e->unaccounted[i].fid, e->unaccounted[i].probe ? " (probe)" : "");
    fprintf(f, "%s\n", e->n[REC_UNACCOUNTED] > e->nlisted ? ", ..." : "");
}

void reconcile_print(const RecResult *r, FILE *f) {
    fprintf(f, "| edge | sent |");
    for (int k = 0; k < REC_NKIND; k++) fprintf(f, " %s |", k == REC_UNACCOUNTED ? "UNACCOUNTED" : KIND_NAME[k]);
    fprintf(f, " unconfirmed yet in the cloud | cloud rows without a sent frame |\n|---|---|");
    for (int k = 0; k < REC_NKIND + 2; k++) fprintf(f, "---|");
    fputc('\n', f);
    for (int i = 0; i < r->nedges; i++) {
        const RecEdge *e = &r->edges[i];
        fprintf(f, "| %s | %lld |", e->id, e->sent);
        for (int k = 0; k < REC_NKIND; k++) fprintf(f, " %lld |", e->n[k]);
        fprintf(f, " %lld | %lld |\n", e->unconfirmed_found, e->cloud_only);
    }
    if (r->other_rows) fprintf(f, "\n%lld cloud rows of edges the edge CSV does not name (ignored)\n", r->other_rows);
    fputc('\n', f);
    for (int i = 0; i < r->nedges; i++)
        if (r->edges[i].n[REC_UNACCOUNTED]) print_list(&r->edges[i], f);
    if (!r->unaccounted) fprintf(f, "every sent frame is accounted for\n");
}

static void json_edge(const RecEdge *e, FILE *f) {
    fprintf(f, "    {\"edge\": \"%s\", \"sent\": %lld", e->id, e->sent); /* ids are wire ids: nothing to escape */
    for (int k = 0; k < REC_NKIND; k++) fprintf(f, ", \"%s\": %lld", KIND_NAME[k], e->n[k]);
    fprintf(f, ", \"unconfirmed_found\": %lld, \"cloud_only\": %lld, \"first_unaccounted\": [", e->unconfirmed_found, e->cloud_only);
    for (int i = 0; i < e->nlisted; i++)
        fprintf(f, "%s{\"frame_id\": %llu, \"probe\": %d}", i ? ", " : "", (unsigned long long)e->unaccounted[i].fid,
                e->unaccounted[i].probe ? 1 : 0);
    fprintf(f, "]}");
}

int reconcile_json(const RecResult *r, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("%s: %s", path, strerror(errno));
    fprintf(f, "{\n  \"unaccounted\": %lld,\n  \"other_rows\": %lld,\n  \"edges\": [\n", r->unaccounted, r->other_rows);
    for (int i = 0; i < r->nedges; i++) {
        json_edge(&r->edges[i], f);
        fprintf(f, "%s\n", i + 1 < r->nedges ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (fclose(f) != 0) return rn_fail("%s: write failed", path);
    return 0;
}
