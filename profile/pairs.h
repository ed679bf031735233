/* pairs.h: "a-b,c-d" lists of method pairs, the comparisons that eval and eval-det-asr bootstrap. */
#pragma once
#include <stddef.h>

#define MAX_PAIRS 16

/* Splits spec (dflt when spec is NULL) into at most MAX_PAIRS (a, b) name pairs; the names point
 * into buf (n bytes, overwritten). Tokens without a name on both sides of the '-' are skipped.
 * Returns how many pairs. */
int parse_pairs(const char *spec, const char *dflt, char *buf, size_t n, const char *pairs[][2]);
