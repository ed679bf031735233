/* sort.h: qsort comparators shared across rune. */
#pragma once

/* Ascending doubles for qsort (NaNs compare equal to everything: keep them out of the array). */
int cmp_double(const void *a, const void *b);
