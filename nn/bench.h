/* bench.h: engine micro-benchmarks that `rune bench` prints (times and GFLOP/s at the shapes that matter). */
#pragma once

/* Times op_conv2d forward + backward at CARN-M training shapes (batch 16, 64 channels, group-4
 * 3x3 and 1x1 convs; dx, dw and db) and ResNet-18 shapes at 480x360 (batch 1, frozen weights:
 * dx only, as when ASR trains through the task model). One line per shape: the shape, the median
 * of `reps` runs in ms (forward, backward, both), and GFLOP/s of the total. The same shapes are in
 * scripts/bench_conv.py for PyTorch. */
void bench_conv_shapes(int reps);
