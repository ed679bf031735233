/* reconcile.h: `rune serve-reconcile` — joins an edge's per-frame CSV with the cloud's, so every frame sent is accounted for.
 *
 * Rows are joined by (edge, frame_id, probe); columns are found by their header names (edge CSV:
 * EDGE_CSV_HEADER in serve/edge.c; cloud CSV: CLOUD_CSV_HEADER in serve/cloud.h). A frame the edge
 * sent (status sent) is accounted for when
 *   - a cloud CSV has its row: processed, stale, bad_payload, unprocessed or refused;
 *   - else a summary row of its edge covers it: status "<status>_summary" stands for `reason` frames
 *     (a count) with frame ids <= its frame_id, whatever their probe flag (rows past the cloud's
 *     per-second CSV budget);
 *   - else the edge marked it "unconfirmed" (a second row of that frame): it may have been lost in flight.
 * Anything else is UNACCOUNTED: sent, and neither the cloud nor the edge says what became of it.
 * Several cloud CSVs (a cloud restarted on the same port) are read as one. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "serve/wire.h"

/* Where a sent frame was found (the table's columns, in order). */
typedef enum {
    REC_PROCESSED,
    REC_STALE,
    REC_BAD_PAYLOAD,
    REC_UNPROCESSED,
    REC_REFUSED,
    REC_SUMMARY,      /* covered by a cloud summary row */
    REC_UNCONFIRMED,  /* not in the cloud CSVs; the edge said it may be lost in flight */
    REC_UNACCOUNTED,
    REC_NKIND
} RecKind;

#define REC_LIST_MAX 10 /* unaccounted frames listed per edge */

typedef struct RecFrame {
    uint64_t fid;
    bool probe;
} RecFrame;

typedef struct RecEdge {
    char id[WIRE_ID_MAX + 1];
    long long sent;                /* frames and probes the edge CSV says were sent */
    long long n[REC_NKIND];        /* sent frames by where they were found (they add up to sent) */
    long long unconfirmed_found;   /* marked unconfirmed by the edge, yet in the cloud's CSV (arrived after all) */
    long long cloud_only;          /* cloud rows of this edge that match no sent frame */
    RecFrame unaccounted[REC_LIST_MAX]; /* the first few, by frame id */
    int nlisted;
} RecEdge;

typedef struct RecResult {
    RecEdge *edges;       /* in the order they first appear in the edge CSV */
    int nedges;
    long long other_rows; /* cloud rows of edges the edge CSV does not name */
    long long unaccounted;
} RecResult;

/* Reads the edge CSV and ncloud cloud CSVs and reconciles them into *out (reconcile_free it).
 * 0, or -1 with rn_errmsg() naming the file and line (unreadable, a header without a needed column,
 * a row with the wrong field count, an unknown status, a bad frame id / probe flag / summary count,
 * a frame sent twice, an unconfirmed row without its sent row). */
int reconcile_files(const char *edge_csv, const char *const *cloud_csv, int ncloud, RecResult *out);
void reconcile_free(RecResult *r);
/* The table (one line per edge, Markdown) and the first unaccounted frame ids. */
void reconcile_print(const RecResult *r, FILE *f);
/* The same as JSON into path; 0 or -1 with rn_errmsg(). */
int reconcile_json(const RecResult *r, const char *path);
/* The header name of a RecKind's column ("processed", ..., "unaccounted"). */
const char *rec_kind_name(int kind);
