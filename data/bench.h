/* bench.h: data-layer benchmarks that `rune bench` (and scripts/bench_image.sh) can call. */
#pragma once

/* Times PNG decode (from memory), JPEG encode and decode (TurboJPEG, 4:2:0 at quality 95 as
 * tjbench is run, and at 70), MATLAB bicubic /4 and the whole degrade() step, on the frame at
 * `path` (NULL: the first embedded sample frame) and on a 2048x1024 upscale of it. Prints one
 * line per measurement (best and median of repeated runs, ms and Mpixel/s) to stdout. */
void bench_image(const char *path);
