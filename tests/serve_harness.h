/* serve_harness.h: what the online-loop tests share — spawning rune processes, a scripted edge on the wire, CSV counts. */
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include "data/dataset.h"
#include "serve/transport.h"

/* Starts $RUNE_BIN ARGS... (NULL-terminated) in the background with stdout/stderr to log; returns its pid.
 * SKIPs the test when RUNE_BIN is unset. */
pid_t spawn_rune(const char *log, char *const *args);
/* Waits for pid at most `seconds`, then kills it; returns its exit status (-1 when killed/abnormal). */
int wait_bounded(pid_t pid, double seconds);
/* The first of this test's loopback ports (a window of 1000 below the ephemeral ports that no test
 * running beside it shares: RUNE_TEST_PORT_BASE from the runner; each file adds its offset + k < 1000). */
int test_port(void);
/* The next FEEDBACK for frame id (or any, id = UINT64_MAX) within timeout seconds; 1 got, 0 none. */
int wait_feedback(Transport *t, uint64_t id, double timeout, WireFeedback *fb);
/* A scripted edge: a DEALER with id connected to endpoint (waits up to 20 s for the link). */
Transport *edge_connect(const char *endpoint, const char *id);
/* HELLO for a 480x360 edge at fps starting at s4q30. */
/* One HELLO: 0 sent, 1 not sent now (no connection or the queue full), -1 an error. */
int try_hello(Transport *t, const char *id, double fps);
/* One HELLO that must go out. */
void send_hello(Transport *t, const char *id, double fps);
/* One frame of the sample sequence, degraded with cfg, on a simulated link of link_bps. */
void send_frame(Transport *t, const char *id, const Dataset *ds, uint64_t fid, WireConfig cfg, double link_bps);
/* Rows of a CSV (header excluded) whose column `col` equals `val` (NULL: every row); -1 when unreadable. */
int csv_count(const char *path, int col, const char *val);
