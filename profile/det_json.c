/* det_json.c: the detections of one image as JSON, written by hand (to move onto the JSON library with the other writers). */
#include "profile/det_json.h"

#include <stdio.h>

#include "util/err.h"

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if ((unsigned char)*s >= 0x20) fputc(*s, f);
    }
    fputc('"', f);
}

int det_json_write(const char *path, const char *in, const Image *im, const DnDet *d, int n, char **names, int nn) {
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("%s: cannot write", path);
    fprintf(f, "{\"image\": ");
    json_string(f, in);
    fprintf(f, ", \"width\": %d, \"height\": %d, \"detections\": [", im->w, im->h);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s\n  {\"class\": %d, \"name\": ", i ? "," : "", d[i].cls);
        json_string(f, d[i].cls < nn ? names[d[i].cls] : "");
        fprintf(f, ", \"score\": %.5f, \"box\": [%.1f, %.1f, %.1f, %.1f]}", d[i].score, clamp01(d[i].x0) * im->w,
                clamp01(d[i].y0) * im->h, clamp01(d[i].x1) * im->w, clamp01(d[i].y1) * im->h);
    }
    fprintf(f, "\n]}\n");
    return fclose(f) == 0 ? 0 : rn_fail("%s: write error", path);
}
