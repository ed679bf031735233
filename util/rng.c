/* rng.c: splitmix64 (Steele, Lea and Flood, 2014; Vigna's reference constants). */
#include "util/rng.h"

uint64_t splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t splitmix64_next(uint64_t *state) { return splitmix64_mix(*state += SPLITMIX64_GAMMA); }

uint64_t splitmix64_hash(uint64_t x) { return splitmix64_mix(x + SPLITMIX64_GAMMA); }
