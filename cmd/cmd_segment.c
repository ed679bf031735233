/* cmd_segment.c: `rune segment` — segment one image with ESPNet or SwiftNet weights; a class-coloured overlay and the raw class map. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "cmd/device_flag.h"
#include "profile/segment_image.h"
#include "util/args.h"
#include "util/err.h"

int cmd_segment(int argc, char **argv) {
    SegmentImageOpts o = {.alpha = 0.5};
    const char *device = "cpu";
    ArgSpec specs[] = {
        {"model", ARG_STR, &o.model, "M", "weights: published ESPNet .pth, upstream SwiftNet .pth/.pt, or a rune .h5"},
        {"arch", ARG_STR, &o.arch, "A", "espnet or swiftnet (default: told from the tensor names / checkpoint)"},
        {"classes", ARG_INT, &o.classes, "N", "classes to predict (default: the model's outputs; ESPNet 12 -> 11, 20 -> 19, "
                                              "dropping its void channel)"},
        {"norm", ARG_STR, &o.norm, "NAME", "input normalisation: camvid or cityscapes (ESPNet default: from its class "
                                           "count; SwiftNet: the checkpoint's img_mean/img_std)"},
        {"labels", ARG_STR, &o.labels, "MAP.png", "also write the raw class map: 8-bit gray PNG, one class id per pixel"},
        {"alpha", ARG_FLOAT, &o.alpha, "A", "overlay opacity of the class colours (1 = colours only)"},
        DEVICE_ARG(device),
        {0},
    };
    ArgCmd cmd = {"segment", "--model M [options] IN.png OUT.png",
                  "Segments IN (PNG or JPEG, RGB) with a frozen ESPNet or SwiftNet and writes OUT: the image\n"
                  "blended with class colours (CamVid palette for 11 classes, Cityscapes palette for 19,\n"
                  "generated colours otherwise). Prints the share of the frame each class covers.",
                  specs, 2, 2};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    if (!o.model) args_usage_error(&cmd, "--model is required");
    if (o.alpha < 0 || o.alpha > 1) args_usage_error(&cmd, "--alpha wants 0..1, got %g", o.alpha);
    o.in = pos[0], o.out = pos[1];
    if (device_flag(&cmd, device, &o.device) < 0) return free(pos), 1;
    int rc = segment_image_run(&o);
    if (rc < 0) fprintf(stderr, "rune segment: %s\n", rn_errmsg());
    free(pos);
    return rc < 0 ? 1 : 0;
}
