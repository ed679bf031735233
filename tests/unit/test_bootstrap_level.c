/* test_bootstrap_level.c: the paired bootstrap's 95 % interval has the width of a 95 % interval — checked against the normal approximation, computed here independently. */
#include <math.h>
#include <stdlib.h>

#include "profile/bootstrap.h"
#include "tests/test.h"
#include "util/rng.h"

#define N 400
#define REPS 20000

/* The mean of v and the bootstrap's plug-in standard error of that mean: sqrt(mean((v - m)^2) / n). */
static void mean_se(const double *v, int n, double *m, double *se) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *m = s / n;
    for (int i = 0; i < n; i++) ss += (v[i] - *m) * (v[i] - *m);
    *se = sqrt(ss / n / n);
}

/* The interval's ends against mean -/+ 1.959964 se. Error budget, in units of se: the Monte Carlo
 * error of a 2.5 % quantile of REPS draws is sqrt(0.025 * 0.975 / REPS) / phi(1.96) = 0.019 (one sd);
 * the normal approximation of a mean of 400 uniform-like values (no skew) is off by well under 0.02.
 * 0.1 se is 5 Monte Carlo sds. A 90 % interval's ends sit 0.31 se inside (1.645), a 99 % one's 0.62
 * outside (2.576): either fails. */
static void check_level(const BootCI *ci, double m, double se, const char *what) {
    const double z = 1.959963985;
    EXPECT(fabs(ci->diff - m) <= 1e-12, "%s: point estimate %.12g, mean %.12g", what, ci->diff, m);
    EXPECT(fabs(ci->lo - (m - z * se)) <= 0.1 * se && fabs(ci->hi - (m + z * se)) <= 0.1 * se,
           "%s: [%.5f, %.5f], a 95 %% normal interval [%.5f, %.5f] (se %.5f)", what, ci->lo, ci->hi, m - z * se, m + z * se,
           se);
    printf("    %s: interval [%.5f, %.5f], normal 95 %% [%.5f, %.5f]: half-width ratio %.4f\n", what, ci->lo, ci->hi,
           m - z * se, m + z * se, (ci->hi - ci->lo) / (2 * z * se));
}

TEST(bootstrap_mean_diff_is_a_95_percent_interval) {
    double a[N], b[N], d[N], m, se;
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) a[i] = rng_unit(splitmix64_next(&s)), b[i] = 0.3 * rng_unit(splitmix64_next(&s));
    for (int i = 0; i < N; i++) d[i] = a[i] - b[i];
    mean_se(d, N, &m, &se);
    BootCI ci;
    bootstrap_mean_diff(a, b, N, REPS, 7, &ci);
    EXPECT(ci.reps == REPS, "replicates %d", ci.reps);
    check_level(&ci, m, se, "mean difference");
}

/* Frames whose class-0 IoU, summed over any multiset of them, is the mean of per-frame values: each
 * frame has 100 pixels of class 0 in the truth, t_f of them predicted 0 (method a) or 50 (method b),
 * and nothing else predicted 0, so IoU_0 = sum t / (100 n): the interval is a mean's again. */
TEST(bootstrap_miou_diff_is_a_95_percent_interval) {
    static long long ca[N * 4], cb[N * 4];
    double v[N], m, se;
    uint64_t s = 999;
    for (int f = 0; f < N; f++) {
        long long t = (long long)(rng_unit(splitmix64_next(&s)) * 101);
        ca[f * 4 + 0] = t, ca[f * 4 + 1] = 100 - t; /* truth 0: predicted 0 / 1 */
        ca[f * 4 + 3] = 50;                         /* truth 1 predicted 1 (class 1 is not scored) */
        cb[f * 4 + 0] = 50, cb[f * 4 + 1] = 50, cb[f * 4 + 3] = 50;
        v[f] = t / 100.0 - 0.5;
    }
    mean_se(v, N, &m, &se);
    int cls[1] = {0};
    BootCI ci;
    bootstrap_miou_diff(ca, cb, N, 2, cls, 1, REPS, 7, &ci);
    EXPECT(ci.reps == REPS, "replicates %d", ci.reps);
    check_level(&ci, m, se, "mIoU difference");
}
