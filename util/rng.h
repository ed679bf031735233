/* rng.h: splitmix64, the one random-number generator of rune — seedable, stateless per draw, the same stream on every machine. */
#pragma once
#include <stdint.h>

/* Weyl increment of splitmix64 (2^64 / golden ratio). */
#define SPLITMIX64_GAMMA 0x9e3779b97f4a7c15ULL

/* The output function: a bijective avalanche of z. */
uint64_t splitmix64_mix(uint64_t z);
/* The stream: advances *state by the increment and returns its mix. */
uint64_t splitmix64_next(uint64_t *state);
/* One draw from state x without keeping a state: splitmix64_next on a copy of x. Used as a hash
 * where a stream must be a pure function of (seed, position), so that resuming is exact. */
uint64_t splitmix64_hash(uint64_t x);
