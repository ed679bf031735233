/* sort.c: qsort comparators shared across rune. */
#include "util/sort.h"

int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
