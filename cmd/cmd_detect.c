/* cmd_detect.c: `rune detect` — darknet YOLO boxes on one image: a text list, optional JSON, boxes drawn into OUT. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "cmd/device_flag.h"
#include "nn/models/darknet.h"
#include "profile/detect_image.h"
#include "util/args.h"
#include "util/err.h"

static int print_layers(const char *model, int size) {
    DnCfg c;
    if (dn_cfg_load(model, &c) < 0) {
        fprintf(stderr, "rune detect: %s\n", rn_errmsg());
        return 1;
    }
    int rc = size > 0 ? dn_cfg_set_input(&c, size, size) : 0;
    if (rc < 0) fprintf(stderr, "rune detect: %s\n", rn_errmsg());
    else dn_cfg_print(&c, stdout);
    dn_cfg_free(&c);
    return rc < 0 ? 1 : 0;
}

int cmd_detect(int argc, char **argv) {
    const char *model = NULL, *weights = NULL, *names = NULL, *json = NULL;
    double thresh = 0.25, nms = 0.45;
    bool letterbox = false, resize = false, layers = false;
    int size = 0;
    const char *device = "cpu";
    ArgSpec specs[] = {
        {"model", ARG_STR, &model, "M.cfg|M.h5", "darknet cfg (with --weights) or a checkpoint from rune import"},
        {"weights", ARG_STR, &weights, "M.weights", "darknet weights for a .cfg model"},
        {"names", ARG_STR, &names, "FILE", "class names, one a line (default: coco.names beside the cfg, if any)"},
        {"thresh", ARG_FLOAT, &thresh, "T", "keep boxes with objectness * class probability > T (darknet's default .25)"},
        {"nms", ARG_FLOAT, &nms, "T", "per-class NMS threshold (darknet's .45; the cfg's nms_kind picks IoU or DIoU)"},
        {"json", ARG_STR, &json, "FILE", "also write the detections as JSON (pixel boxes x0, y0, x1, y1)"},
        {"letterbox", ARG_BOOL, &letterbox, NULL, "letterbox the input (default: as the cfg's [net] letter_box)"},
        {"resize", ARG_BOOL, &resize, NULL, "plain-resize the input (darknet's default without letter_box)"},
        {"layers", ARG_BOOL, &layers, NULL, "print the layer table (shapes, BFLOPs) of a .cfg and exit; no weights needed"},
        {"size", ARG_INT, &size, "S", "with --layers: the table for an S x S input instead of the cfg's"},
        DEVICE_ARG(device),
        {0},
    };
    ArgCmd cmd = {"detect", "--model M.cfg --weights M.weights [options] IN [OUT]",
                  "Runs a darknet YOLO detector (YOLOv3, -tiny, Yolo-Fastest) on IN and prints one line per box:\n"
                  "name, class id, score, x0 y0 x1 y1 in pixels. With OUT, the boxes are drawn into a copy of\n"
                  "the image written there (.png or .jpg). The input is scaled as darknet does it: a plain\n"
                  "corner-aligned bilinear resize to the net size (what Yolo-Fastest was evaluated with), or a\n"
                  "letterbox when the cfg says letter_box=1 or --letterbox is given.",
                  specs, 0, 2};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    if (!model) args_usage_error(&cmd, "--model is required");
    if (layers) {
        free(pos);
        return print_layers(model, size);
    }
    if (npos < 1) args_usage_error(&cmd, "needs IN (and optionally OUT)");
    if (letterbox && resize) args_usage_error(&cmd, "--letterbox and --resize exclude each other");
    if (thresh < 0 || thresh >= 1 || nms <= 0 || nms > 1) args_usage_error(&cmd, "--thresh in [0,1), --nms in (0,1]");
    DetectImageOpts o = {model, weights, names, (float)thresh, (float)nms, letterbox ? 1 : resize ? 0 : -1,
                         pos[0], npos > 1 ? pos[1] : NULL, json, DEV_CPU};
    if (device_flag(&cmd, device, &o.device) < 0) return free(pos), 1;
    int rc = detect_image_run(&o);
    if (rc < 0) fprintf(stderr, "rune detect: %s\n", rn_errmsg());
    free(pos);
    return rc < 0 ? 1 : 0;
}
