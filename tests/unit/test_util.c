/* test_util.c: util/ — splitmix64 against its published reference values, the qsort comparator. */
#include <stdint.h>
#include <stdlib.h>

#include "tests/test.h"
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
