/* demo_online.h: the online part of `rune demo` — serve-cloud and serve-edge as two real processes on loopback. */
#pragma once

typedef struct OnlineDemo {
    const char *dir;     /* where the logs, CSVs and summary go (made if missing) */
    const char *profile; /* profile.json of the run */
    const char *task;    /* frozen segmenter */
    const char *data;    /* the frames (CamVid layout, labels for the accuracy columns) */
    const char *sr_x2, *sr_x4; /* SR models per scale */
} OnlineDemo;

/* Starts this binary as serve-cloud (CAC) and serve-edge (8 frames at 1 fps, the uplink dropping
 * from 0.2 to 0.1 Mbps at 4 s), waits for both, then prints the cloud's per-frame timeline and its
 * summary. -1 with rn_fail naming both exit codes and logs when either process fails. */
int online_demo_run(const OnlineDemo *o);
