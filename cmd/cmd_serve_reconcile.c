/* cmd_serve_reconcile.c: `rune serve-reconcile` — every frame the edge sent, found in the cloud's CSVs or marked unconfirmed by the edge. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "serve/reconcile.h"
#include "util/args.h"
#include "util/err.h"

#define EXIT_UNACCOUNTED 1
#define EXIT_BAD_INPUT 2

int cmd_serve_reconcile(int argc, char **argv) {
    const char *json = NULL;
    ArgSpec specs[] = {
        {"json", ARG_STR, &json, "FILE", "the counts (and the first unaccounted frame ids) also as JSON here"},
        {0},
    };
    ArgCmd cmd = {"serve-reconcile", "[options] EDGE.csv CLOUD.csv [CLOUD2.csv ...]",
                  "Joins an edge's per-frame CSV (rune serve-edge --csv) with the cloud's (rune serve-cloud\n"
                  "--csv; several when the cloud was restarted) by edge, frame_id and probe, and counts each\n"
                  "frame the edge sent by where it went: processed, stale, bad_payload, unprocessed, refused\n"
                  "(its own cloud row), summarised (a cloud <status>_summary row covers it), unconfirmed (in no\n"
                  "cloud CSV, and the edge marked it unconfirmed: it may have been lost in flight) or\n"
                  "UNACCOUNTED (neither side says what became of it). Exit 0 when nothing is unaccounted, 1\n"
                  "when something is (the first frame ids are listed), 2 for a usage error or a malformed CSV.",
                  specs, 2, -1};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    RecResult r;
    int rc = reconcile_files(pos[0], (const char *const *)pos + 1, npos - 1, &r);
    free(pos);
    if (rc < 0) {
        fprintf(stderr, "rune serve-reconcile: %s\n", rn_errmsg());
        return EXIT_BAD_INPUT;
    }
    reconcile_print(&r, stdout);
    if (json && reconcile_json(&r, json) < 0) {
        fprintf(stderr, "rune serve-reconcile: %s\n", rn_errmsg());
        reconcile_free(&r);
        return EXIT_BAD_INPUT;
    }
    rc = r.unaccounted ? EXIT_UNACCOUNTED : 0;
    reconcile_free(&r);
    return rc;
}
