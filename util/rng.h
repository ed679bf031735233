/* rng.h: rune's random numbers — splitmix64 (seedable, stateless per draw, the same stream on every machine), the xorshift64 stream of the model initialisers, and draws from either. */
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

/* xorshift64 (Marsaglia 13/7/17): the stream layers_default_init and swiftnet_init_weights have
 * always drawn from; kept so that a seed gives the same initial weights as before. */
uint64_t xorshift64_next(uint64_t *state);

/* A 64-bit draw as a double in [0, 1): its top 53 bits. */
double rng_unit(uint64_t bits);
