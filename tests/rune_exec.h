/* rune_exec.h: running the built rune binary ($RUNE_BIN, set by make test) from tests. */
#pragma once
#include <stddef.h>

/* Runs "$RUNE_BIN ARGS" with stdout+stderr captured into out[n] (may be NULL); returns the exit
 * status (or -1 if it did not exit normally). SKIPs the test when RUNE_BIN is unset. */
int rune_exec(const char *args, char *out, size_t n);
