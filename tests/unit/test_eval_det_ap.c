/* test_eval_det_ap.c: `rune eval-det --ap coco|darknet --json` end to end on coco-mini, pinned to pycocotools' and darknet's-formula numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "tests/rune_exec.h"
#include "tests/test.h"
#include "util/err.h"

/* The number after `key` in text, or -1. */
static double number_after(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : -1;
}

/* Yolo-Fastest 1.1 on the 4 coco-mini images. The references were measured by scripts/coco_check.sh
 * (pycocotools 2.0.11 COCOeval bbox on rune's --json detections; darknet's map formula in python on
 * the same detections): AP 7.37, AP50 19.62, AP75 1.56; darknet mAP@0.5 5.09. */
TEST(eval_det_coco_mini_matches_pycocotools) {
    char cfg[1024], w[1024], mini[1024], args[8192], out[16384];
    snprintf(cfg, sizeof cfg, "%s", test_shared_path("weights/darknet/yolo-fastest-1.1.cfg"));
    snprintf(w, sizeof w, "%s", test_shared_path("weights/darknet/yolo-fastest-1.1.weights"));
    snprintf(mini, sizeof mini, "%s", test_shared_path("data/coco-mini"));
    const char *dir = test_temp_dir("evaldet");
    char json[1100];
    snprintf(json, sizeof json, "%s/dets.json", dir);
    snprintf(args, sizeof args, "eval-det --model %s --weights %s --data %s --format coco --ap coco --json %s", cfg, w, mini, json);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    EXPECT_NEAR(number_after(out, "COCO AP@[.50:.95] = "), 7.37, 0.1);
    EXPECT_NEAR(number_after(out, "AP@.50 = "), 19.62, 0.1);
    EXPECT_NEAR(number_after(out, "AP@.75 = "), 1.56, 0.1);
    char *text;
    size_t len;
    EXPECT(read_text_file(json, &text, &len) == 0, "%s", rn_errmsg());
    if (text) { /* COCO's own ids: images by their JSON id, classes by category id (person = 1) */
        EXPECT(strstr(text, "\"image_id\": 397133, \"category_id\": 1,") && !strstr(text, "\"image_id\": 0,"), "%.300s", text);
        free(text);
    }
    snprintf(args, sizeof args, "eval-det --model %s --weights %s --data %s --format coco --ap darknet", cfg, w, mini);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    EXPECT(strstr(out, "over 80 model classes"), "%s", out);
    EXPECT_NEAR(number_after(out, "mAP@0.50 = "), 5.09, 0.1);
}

TEST(eval_det_refuses_bad_ap_flags) {
    char out[4096];
    EXPECT(rune_exec("eval-det --model m.cfg --data d --ap voc", out, sizeof out) == 2 && strstr(out, "--ap: coco or darknet"),
           "%s", out);
    EXPECT(rune_exec("eval-det --model m.cfg --data d --points 11", out, sizeof out) == 2 && strstr(out, "COCO's AP always"),
           "%s", out);
    EXPECT(rune_exec("eval-det --model m.cfg --data d --ap darknet --points 1", out, sizeof out) == 2, "%s", out);
    EXPECT(rune_exec("eval-det --model m.cfg --data d --max-dets -5", out, sizeof out) == 2, "%s", out);
}
