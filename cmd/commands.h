/* commands.h: every subcommand's entry point, int cmd_x(int argc, char **argv) with argv[0] = "x".
 * Strong symbols: a command in the list without its cmd_x() fails at link time, not at run time. */
#pragma once

#define RUNE_VERSION "0.1.0"

#define RUNE_COMMANDS(X)                                                                       \
    X(train_sr, "train-sr", "train a super-resolution model (CARN / CARN-M) on HR frames")       \
    X(finetune_asr, "finetune-asr", "fine-tune an SR model into analytics-aware SR (Eq. 3)")   \
    X(mask_stats, "mask-stats", "share of each class's pixels inside Eq. 3's detail mask, per --small") \
    X(profile, "profile", "sweep scale/quality knobs; Pareto configurations for tail and normal frames") \
    X(eval, "eval", "the paper's tables: tail-class and frame-wise accuracy per method and scale") \
    X(serve_cloud, "serve-cloud", "cloud side of the online loop: SR + task model + CAC")       \
    X(serve_edge, "serve-edge", "edge side of the online loop: degrade and send frames")         \
    X(serve_reconcile, "serve-reconcile", "join an edge's and the cloud's CSVs: every sent frame accounted for") \
    X(import, "import", "convert published weights (PyTorch .pth, darknet) to a rune checkpoint") \
    X(upscale, "upscale", "super-resolve one image with an SR checkpoint")                       \
    X(segment, "segment", "segment one image with a segmentation checkpoint")                    \
    X(detect, "detect", "detect objects in one image")                                           \
    X(degrade, "degrade", "downscale + JPEG one frame as the edge would; bytes and PSNR")        \
    X(eval_sr, "eval-sr", "PSNR/SSIM of an SR model over an HR/LR pair folder")                 \
    X(eval_seg, "eval-seg", "per-class IoU of a segmenter over a labelled dataset")             \
    X(eval_det, "eval-det", "per-class AP of a detector over a labelled dataset")               \
    X(eval_det_asr, "eval-det-asr", "Table 6: detection mAP / tail mAP / PSNR per method and scale") \
    X(train_task, "train-task", "train a task model (SwiftNet) on a labelled dataset")          \
    X(demo, "demo", "the main job on the embedded sample frames (README's first command)")      \
    X(bench, "bench", "time the engine's ops and a CARN-M training step; GFLOP/s")

#define RUNE_DECLARE(fn, name, help) int cmd_##fn(int argc, char **argv);
RUNE_COMMANDS(RUNE_DECLARE)
#undef RUNE_DECLARE
