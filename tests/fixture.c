/* fixture.c: HDF5 fixture reader for tests. */
#include "tests/fixture.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>

#include "tests/test.h"

struct Fixture {
    hid_t file;
    char path[512];
};

Fixture *fx_open(const char *rel) {
    const char *p = test_fixture_path(rel);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t h = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h < 0) {
        test_fail_at(__FILE__, __LINE__, "cannot open fixture %s", p);
        return NULL;
    }
    Fixture *f = calloc(1, sizeof *f);
    f->file = h;
    snprintf(f->path, sizeof f->path, "%s", p);
    return f;
}

void fx_close(Fixture *f) {
    if (!f) return;
    H5Fclose(f->file);
    free(f);
}

static double *read_all(Fixture *f, const char *name, size_t *n, int *rank, hsize_t dims[8]) {
    hid_t d = H5Dopen2(f->file, name, H5P_DEFAULT);
    if (d < 0) {
        test_fail_at(__FILE__, __LINE__, "fixture %s has no dataset %s", f->path, name);
        return NULL;
    }
    hid_t s = H5Dget_space(d);
    *rank = H5Sget_simple_extent_ndims(s);
    H5Sget_simple_extent_dims(s, dims, NULL);
    size_t cnt = 1;
    for (int i = 0; i < *rank; i++) cnt *= dims[i];
    double *buf = arena_alloc(engine_arena(), (cnt ? cnt : 1) * sizeof(double));
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Sclose(s);
    H5Dclose(d);
    *n = cnt;
    return buf;
}

double *fx_array(Fixture *f, const char *name, size_t *n) {
    int rank;
    hsize_t dims[8];
    return f ? read_all(f, name, n, &rank, dims) : NULL;
}

Tensor *fx_tensor(Fixture *f, const char *name) {
    if (!f) return NULL;
    int rank;
    hsize_t dims[8];
    size_t n;
    double *buf = read_all(f, name, &n, &rank, dims);
    if (!buf) return NULL;
    int sh[4] = {1, 1, 1, 1};
    if (rank > 4) {
        test_fail_at(__FILE__, __LINE__, "%s: rank %d > 4", name, rank);
        return NULL;
    }
    for (int i = 0; i < rank; i++) sh[i] = (int)dims[i];
    Tensor *t = tensor_new(sh[0], sh[1], sh[2], sh[3]);
    for (size_t i = 0; i < n; i++) t->data[i] = (real_t)buf[i];
    return t;
}

double fx_scalar(Fixture *f, const char *name) {
    size_t n = 0;
    double *a = fx_array(f, name, &n);
    return a && n ? a[0] : NAN;
}

double fx_expect(Fixture *f, const char *name, const real_t *got, size_t n, double atol, double rtol) {
    size_t m = 0;
    double *ref = fx_array(f, name, &m);
    if (!ref) return INFINITY;
    if (m != n) {
        test_fail_at(__FILE__, __LINE__, "%s: %zu elements, reference has %zu", name, n, m);
        return INFINITY;
    }
    double worst = 0, excess = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]);
        double over = e - (atol + rtol * fabs(ref[i]));
        if (e > worst) worst = e;
        if (over > excess || isnan(e)) excess = isnan(e) ? INFINITY : over, at = i;
    }
    if (excess > 0)
        test_fail_at(__FILE__, __LINE__, "%s: element %zu = %.8g, reference %.8g (max abs err %.3g, atol %.1g rtol %.1g)",
                     name, at, (double)got[at], ref[at], worst, atol, rtol);
    else
        printf("    %s: max abs err vs PyTorch %.2e\n", name, worst);
    return worst;
}
