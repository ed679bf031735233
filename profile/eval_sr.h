/* eval_sr.h: `rune eval-sr`'s engine — Y-channel PSNR/SSIM of a CARN checkpoint over an HR/LR pair folder, as SR papers report them. */
#pragma once

/* Super-resolves every LR image of the pair folder `data` (data/dataset.h: ds_srpairs) by `scale`
 * with the checkpoint `model` in LR tiles of `tile` pixels (0 = whole images), prints one line per
 * image and the means to stdout, and writes them as CSV to csv_path when not NULL. 0, or -1 with
 * rn_errmsg(). */
int eval_sr_run(const char *model, const char *data, int scale, int tile, const char *csv_path);
