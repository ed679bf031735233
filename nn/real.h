/* real.h: the engine's scalar type — float32 normally, double for the gradient-check build. */
#pragma once

/* The engine is compiled twice: as float32 for rune itself and as double (-DRUNE_DOUBLE) so that
 * finite-difference gradient checks can use tight tolerances. Code in nn/ says real_t, never float,
 * for tensor data; files on disk are always float32. */
#ifdef RUNE_DOUBLE
typedef double real_t;
#define REAL_EPS 1e-12
#else
typedef float real_t;
#define REAL_EPS 1e-6f
#endif
