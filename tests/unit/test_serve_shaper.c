/* test_serve_shaper.c: serve/shaper — byte budgets per interval against hand-computed schedules and traces, queueing, deadlines. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/shaper.h"
#include "tests/test.h"
#include "util/err.h"

/* The paper's schedule: 10 Mbps from 0 s, 5 from 5 s, 2 from 12 s, 10 from 19 s (1 Mbps = 125000 B/s). */
TEST(shaper_schedule_budget_per_interval) {
    Shaper s;
    EXPECT(shaper_init_schedule(&s, "0:10,5:5,12:2,19:10", 1) == 0, "%s", rn_errmsg());
    EXPECT(s.nsteps == 4, "%d steps", s.nsteps);
    EXPECT_NEAR(shaper_capacity(&s, 0, 1), 1250000, 1e-6);
    EXPECT_NEAR(shaper_capacity(&s, 4, 6), 1250000 + 625000, 1e-6);
    EXPECT_NEAR(shaper_capacity(&s, 11.5, 12.5), 312500 + 125000, 1e-6);
    EXPECT_NEAR(shaper_capacity(&s, 0, 20), 5 * 1250000 + 7 * 625000 + 7 * 250000 + 1 * 1250000, 1e-3);
    EXPECT_NEAR(shaper_capacity(&s, 25, 26), 1250000, 1e-6);
    EXPECT_NEAR(shaper_capacity(&s, 3, 3), 0, 0);
    /* every whole second of 0..25: the step's rate x 1 s */
    const double want[] = {10, 10, 10, 10, 10, 5, 5, 5, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 2, 10, 10, 10, 10, 10, 10};
    for (int t = 0; t < 25; t++) {
        EXPECT_NEAR(shaper_capacity(&s, t, t + 1), want[t] * 125000, 1e-6);
        EXPECT_NEAR(shaper_mbps_at(&s, t + 0.5), want[t], 0);
    }
    Shaper h;
    EXPECT(shaper_init_schedule(&h, "0:10,5:5,12:2,19:10", 0.25) == 0, "scaled");
    EXPECT_NEAR(shaper_capacity(&h, 4, 6), (1250000 + 625000) * 0.25, 1e-6);
    EXPECT_NEAR(shaper_mbps_at(&h, 13), 0.5, 1e-12);
}

TEST(shaper_schedule_queue_and_deadline) {
    Shaper s;
    EXPECT(shaper_init_schedule(&s, "0:10,5:5,12:2,19:10", 1) == 0, "%s", rn_errmsg());
    s.deadline = 0.5;
    ShaperSlot a;
    /* 250000 B ready at 4.9: 0.1 s at 10 Mbps (125000 B), the rest at 5 Mbps (0.2 s) -> 5.2 */
    EXPECT(shaper_offer(&s, 4.9, 4.9, 250000, &a) == 1, "accepted");
    EXPECT_NEAR(a.start, 4.9, 1e-12);
    EXPECT_NEAR(a.finish, 5.2, 1e-9);
    /* 62500 B ready at 5.0 waits until 5.2, leaves at 5.3 */
    EXPECT(shaper_offer(&s, 5.0, 4.95, 62500, &a) == 1, "accepted");
    EXPECT_NEAR(a.start, 5.2, 1e-9);
    EXPECT_NEAR(a.finish, 5.3, 1e-9);
    EXPECT_NEAR(shaper_backlog(&s, 5.1), 0.2, 1e-9);
    /* 1 MB ready at 5.0 would leave at 5.3 + 1.6 = 6.9 > 5.0 + 0.5: refused, the link untouched */
    EXPECT_NEAR(shaper_peek_finish(&s, 5.0, 1000000), 6.9, 1e-9);
    EXPECT(shaper_offer(&s, 5.0, 5.0, 1000000, &a) == 0, "refused");
    EXPECT_NEAR(s.link_free, 5.3, 1e-9);
    EXPECT(s.accepted == 2 && s.refused == 1 && s.accepted_bytes == 312500 && s.refused_bytes == 1000000, "counters");
    /* a rate of 0 forever: never leaves */
    Shaper z;
    EXPECT(shaper_init_schedule(&z, "0:1,1:0", 1) == 0, "%s", rn_errmsg());
    EXPECT(isinf(shaper_peek_finish(&z, 0.5, 125000)), "never");
    EXPECT(shaper_offer(&z, 0.5, 0.5, 125000, &a) == 0, "refused without a deadline too");
    EXPECT(shaper_offer(&z, 0.5, 0.5, 62500, &a) == 1 && fabs(a.finish - 1.0) < 1e-9, "half a second of 1 Mbps fits");
    shaper_reset(&s);
    EXPECT(s.link_free == 0 && s.accepted == 0, "reset");
}

TEST(shaper_schedule_bad_specs) {
    Shaper s;
    const char *bad[] = {"", "10", "0:", "1:10", "0:10,0:5", "0:10,5:-1", "0:10,", "0:10;5:5", "0:x", "0:10,3:5,2:1",
                         "0:4E303" /* finite, but its byte budget overflowed to infinity (fuzz_shaper) */, "0:10,1e9:5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        EXPECT(shaper_init_schedule(&s, bad[i], 1) < 0, "\"%s\" accepted", bad[i]);
        printf("    \"%s\": %s\n", bad[i], rn_errmsg());
    }
    EXPECT(shaper_init_schedule(&s, "0:10", 0) < 0, "scale 0");
    EXPECT(shaper_init_schedule(&s, "0:2.5", 1) == 0 && s.step_mbps[0] == 2.5, "fractional Mbps");
}

/* A tiny hand-made trace: packets at 0, 0, 3, 5, 10 ms, repeating every 10 ms. */
TEST(shaper_trace_budget_and_packets) {
    const uint32_t ms[] = {0, 0, 3, 5, 10};
    Shaper s;
    EXPECT(shaper_init_trace_ms(&s, ms, 5, 1) == 0, "%s", rn_errmsg());
    EXPECT_NEAR(shaper_capacity(&s, 0, 0.010), 4 * 1500, 0);   /* 0, 0, 3, 5 */
    EXPECT_NEAR(shaper_capacity(&s, 0, 0.011), 7 * 1500, 0);   /* + 10 (first loop's last) + 10, 10 (second loop) */
    EXPECT_NEAR(shaper_capacity(&s, 0.004, 0.016), 6 * 1500, 0); /* 5, 10, 10, 10, 13, 15 */
    ShaperSlot a;
    EXPECT(shaper_offer(&s, 0, 0, 3000, &a) == 1 && a.finish == 0, "two packets at 0 ms: finish %g", a.finish);
    EXPECT(shaper_offer(&s, 0.001, 0, 1501, &a) == 1, "two packets");
    EXPECT_NEAR(a.start, 0.003, 1e-12);
    EXPECT_NEAR(a.finish, 0.005, 1e-12);
    EXPECT(shaper_offer(&s, 0, 0, 1, &a) == 1, "one byte = one packet");
    EXPECT_NEAR(a.finish, 0.010, 1e-12);
    EXPECT(shaper_offer(&s, 0.0105, 0.0105, 4500, &a) == 1, "three packets from 11 ms: 13, 15, 20");
    EXPECT_NEAR(a.start, 0.013, 1e-12);
    EXPECT_NEAR(a.finish, 0.020, 1e-12);
    EXPECT_NEAR(shaper_backlog(&s, 0.012), 0.008, 1e-12);
    s.deadline = 0.005;
    EXPECT(shaper_offer(&s, 0.0105, 0.0105, 1500, &a) == 0, "next packet at 20 ms (the third loop's 0) > 15.5 ms");
    shaper_free(&s);
    const uint32_t bad1[] = {5, 3}, bad2[] = {0, 0};
    EXPECT(shaper_init_trace_ms(&s, bad1, 2, 1) < 0, "decreasing");
    EXPECT(shaper_init_trace_ms(&s, bad2, 2, 1) < 0, "period 0");
}

/* A short real Mahimahi uplink: the budget over one period is lines x 1500 B, and a file with junk is refused. */
TEST(shaper_trace_file) {
    const char *dir = test_temp_dir("trace");
    char path[256];
    snprintf(path, sizeof path, "%s/t.up", dir);
    FILE *f = fopen(path, "w");
    /* 1000 ms of a 1.2 Mbps link: one packet every 10 ms (100 x 1500 B x 8 = 1.2 Mbit) */
    for (int m = 10; m <= 1000; m += 10) fprintf(f, "%d\n", m);
    fclose(f);
    Shaper s;
    EXPECT(shaper_init_trace(&s, path, 1) == 0, "%s", rn_errmsg());
    EXPECT(s.ntrace == 100 && s.period_ms == 1000, "%zu lines, period %u", s.ntrace, s.period_ms);
    EXPECT_NEAR(shaper_capacity(&s, 0, 1.0005), 100 * 1500, 0);
    EXPECT_NEAR(shaper_capacity(&s, 0, 10.0005), 1000 * 1500, 0);
    EXPECT_NEAR(shaper_mbps_at(&s, 5), 1.2, 1e-9);
    shaper_free(&s);
    f = fopen(path, "w");
    fputs("0\n12\nabc\n", f);
    fclose(f);
    EXPECT(shaper_init_trace(&s, path, 1) < 0, "junk line");
    printf("    junk: %s\n", rn_errmsg());
    EXPECT(shaper_init_trace(&s, "/nonexistent/x.up", 1) < 0, "missing file");
    /* the shared traces, when present: capacity over one period = lines x 1500 */
    const char *real = test_shared_path("data/traces/mahimahi/Verizon-LTE-short.up");
    EXPECT(shaper_init_trace(&s, real, 1) == 0, "%s", rn_errmsg());
    double period = s.period_ms / 1000.0;
    double lines = 0;
    for (size_t i = 0; i < s.ntrace; i++) lines += s.trace_ms[i] < s.period_ms;
    EXPECT_NEAR(shaper_capacity(&s, 0, period - 1e-4), lines * 1500, 0);
    printf("    Verizon-LTE-short.up: %zu packets over %.1f s = %.2f Mbps mean\n", s.ntrace, period,
           s.ntrace * 1500 * 8 / 1e6 / period);
    shaper_free(&s);
}
