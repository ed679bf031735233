/* rng.c: splitmix64 (Steele, Lea and Flood, 2014; Vigna's reference constants) and xorshift64 (Marsaglia, 2003). */
#include "util/rng.h"

uint64_t splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t splitmix64_next(uint64_t *state) { return splitmix64_mix(*state += SPLITMIX64_GAMMA); }

uint64_t splitmix64_hash(uint64_t x) { return splitmix64_mix(x + SPLITMIX64_GAMMA); }

uint64_t xorshift64_next(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return *state = x;
}

double rng_unit(uint64_t bits) { return (bits >> 11) * (1.0 / 9007199254740992.0); }
