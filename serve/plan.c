/* plan.c: `rune serve-cloud --plan` — per link rate, the target and every controller's picks and detectors, from the profile alone. */
#include "serve/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serve/control.h"
#include "serve/detect.h"
#include "util/err.h"

static void cfg_str(int scale, int quality, char *buf, size_t n) {
    if (scale > 0) snprintf(buf, n, "x%dq%d", scale, quality);
    else snprintf(buf, n, "-");
}

static void det_str(const ProfileDoc *d, int signal, int scale, int quality, double thr, char *buf, size_t n) {
    ServeDetector r = serve_detector(d, signal, scale, quality, thr);
    if (!r.found) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.6g/%+d@x%dq%d", r.threshold, r.direction, r.scale, r.quality);
}

static void plan_row(const ProfileDoc *d, int signal, double mbps, double edge_fps, double thr, FILE *out) {
    ServePolicy p = {.doc = d, .edge_fps = edge_fps, .headroom = 0.9};
    int t = serve_target_for(&p, mbps * 1e6);
    ServeKnobs st = serve_pick_knobs(&p, t, false), tl = serve_pick_knobs(&p, t, true);
    int sh = cac_share_entry(d, t);
    char s1[32], s2[32], s3[32], s4[32], d1[64], d2[64];
    cfg_str(st.scale, st.quality, s1, sizeof s1), cfg_str(tl.scale, tl.quality, s2, sizeof s2);
    const ProfileShare *e = sh >= 0 ? &d->share[sh] : NULL;
    cfg_str(e ? e->flag_scale : 0, e ? e->flag_quality : 0, s3, sizeof s3);
    cfg_str(e ? e->other_scale : 0, e ? e->other_quality : 0, s4, sizeof s4);
    det_str(d, signal, st.scale, st.quality, thr, d1, sizeof d1), det_str(d, signal, tl.scale, tl.quality, thr, d2, sizeof d2);
    bool tail_differs = tl.scale != st.scale || tl.quality != st.quality;
    bool share_differs = e && (strcmp(s3, s1) || strcmp(s4, s1));
    fprintf(out, "%.6g,%d,%.6g,%s,%s,%s,%s,%.3g,%s,%s,%s,%d,%d\n", mbps, t, t >= 0 ? d->target[t].mbps : NAN, s1, s2, s3, s4,
            e ? e->k : NAN, signal_name((SignalId)signal), d1, d2, tail_differs, share_differs);
}

int serve_plan(const ProfileDoc *d, const char *mbps_list, double edge_fps, double thr_override, FILE *out) {
    int signal;
    TRY(serve_signal_of(d, &signal));
    char *buf = xstrdup(mbps_list ? mbps_list : ""), *save = NULL;
    int n = 0, rc = 0;
    fprintf(out, "%s\n", PLAN_HEADER);
    for (char *tok = strtok_r(buf, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save), n++) {
        char *end;
        double mbps = strtod(tok, &end);
        if (end == tok || *end || !(mbps > 0)) rc = rn_fail("--plan %s: want link rates in Mbps > 0, comma-separated", tok);
        else plan_row(d, signal, mbps, edge_fps, thr_override, out);
    }
    free(buf);
    if (rc == 0 && n == 0) rc = rn_fail("--plan: no link rate given");
    return rc;
}
