/* test_util.c: util/ — splitmix64 against its published reference values, the qsort comparator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test.h"
#include "util/logline.h"
#include "util/rng.h"
#include "util/sort.h"

/* The reference outputs of Vigna's splitmix64.c seeded with 0 (as Java's SplittableRandom gives). */
TEST(splitmix64_reference_stream) {
    uint64_t s = 0;
    const uint64_t want[3] = {0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL, 0x06c45d188009454fULL};
    for (int i = 0; i < 3; i++) {
        uint64_t got = splitmix64_next(&s);
        EXPECT(got == want[i], "draw %d: %#llx, want %#llx", i, (unsigned long long)got, (unsigned long long)want[i]);
    }
    EXPECT(s == 3 * SPLITMIX64_GAMMA, "the state advances by the increment");
    EXPECT(splitmix64_hash(0) == want[0] && splitmix64_hash(SPLITMIX64_GAMMA) == want[1], "hash = a draw from that state");
    EXPECT(splitmix64_mix(SPLITMIX64_GAMMA) == want[0], "mix is the output function");
}

TEST(cmp_double_sorts_ascending) {
    double v[5] = {3, -1, 2.5, -1, 0};
    qsort(v, 5, sizeof *v, cmp_double);
    EXPECT(v[0] == -1 && v[1] == -1 && v[2] == 0 && v[3] == 2.5 && v[4] == 3, "%g %g %g %g %g", v[0], v[1], v[2], v[3], v[4]);
}

/* logline: "YYYY-MM-DDTHH:MM:SS.mmmZ " + the text, one line even when cut. */
TEST(logline_stamps_and_keeps_one_line) {
    FILE *f = tmpfile();
    EXPECT(f != NULL, "tmpfile");
    if (!f) return;
    logline(f, "serve-cloud: edge %s joined\n", "robot1");
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    logline(f, "%s\n", big);
    rewind(f);
    char line[8192];
    EXPECT(fgets(line, sizeof line, f) != NULL, "first line");
    int y, mo, d, h, mi, s, ms, n = 0;
    int fields = sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %n", &y, &mo, &d, &h, &mi, &s, &ms, &n);
    EXPECT(fields == 7 && n == 25, "stamp: %s", line);
    EXPECT(y >= 2024 && mo >= 1 && mo <= 12 && strcmp(line + n, "serve-cloud: edge robot1 joined\n") == 0, "line: %s", line);
    EXPECT(fgets(line, sizeof line, f) != NULL && line[strlen(line) - 1] == '\n' && strlen(line) < sizeof big,
           "a cut line still ends the line (%zu chars)", strlen(line));
    EXPECT(fgets(line, sizeof line, f) == NULL, "two lines, no more");
    fclose(f);
}
