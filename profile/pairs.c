/* pairs.c: parsing "a-b,c-d" lists of method pairs for the bootstrap differences. */
#include "profile/pairs.h"

#include <stdio.h>
#include <string.h>

int parse_pairs(const char *spec, const char *dflt, char *buf, size_t n, const char *pairs[][2]) {
    snprintf(buf, n, "%s", spec ? spec : dflt);
    int np = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && np < MAX_PAIRS; tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        if (!dash || dash == tok || !dash[1]) continue;
        *dash = 0;
        pairs[np][0] = tok, pairs[np][1] = dash + 1;
        np++;
    }
    return np;
}
