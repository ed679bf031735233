/* test_dataset_open.c: the one door to the datasets — dataset_open on every kind with the real ../shared data (a made-up Cityscapes tree), and its errors. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "tests/test.h"
#include "util/err.h"

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool msg_has(const char *s) { return strstr(rn_errmsg(), s) != NULL; }

TEST(dataset_open_camvid_and_its_split) {
    const char *root = test_shared_path("data/camvid");
    Dataset ds;
    EXPECT(dataset_open("camvid", root, "val", &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 101 && ds.nclasses == 11 && !strcmp(ds.name, "camvid/val"), "%s: %d frames", ds.name, ds.n);
    EXPECT(ds.samples[0].label != NULL, "labelled");
    dataset_free(&ds);
    EXPECT(dataset_open("camvid", root, NULL, &ds) < 0 && msg_has("give a split"), "%s", rn_errmsg());
    EXPECT(dataset_open("camvid", root, "nosuch", &ds) < 0 && msg_has("nosuch.txt"), "%s", rn_errmsg());
}

TEST(dataset_open_cityscapes) {
    const char *dir = test_temp_dir("cs");
    const char *sub[] = {"leftImg8bit", "leftImg8bit/val", "leftImg8bit/val/ulm", "gtFine", "gtFine/val", "gtFine/val/ulm"};
    char p[512];
    for (int i = 0; i < 6; i++) snprintf(p, sizeof p, "%s/%s", dir, sub[i]), mkdir(p, 0755);
    Image im = image_alloc(4, 2, 3), lab = image_alloc(4, 2, 1);
    memset(im.px, 90, 24), memset(lab.px, 7, 8); /* label id 7 = road = train id 0 */
    snprintf(p, sizeof p, "%s/leftImg8bit/val/ulm/ulm_000001_000019_leftImg8bit.png", dir);
    EXPECT(png_write(p, &im) == 0, "%s", rn_errmsg());
    snprintf(p, sizeof p, "%s/gtFine/val/ulm/ulm_000001_000019_gtFine_labelIds.png", dir);
    EXPECT(png_write(p, &lab) == 0, "%s", rn_errmsg());
    image_free(&im), image_free(&lab);
    Dataset ds;
    EXPECT(dataset_open("cityscapes", dir, "val", &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 1 && ds.nclasses == 19, "%d frames, %d classes", ds.n, ds.nclasses);
    EXPECT(ds.n == 1 && dataset_load_label(&ds, 0, NULL, &lab) == 0 && lab.px[0] == 0, "%s", rn_errmsg());
    if (lab.px) image_free(&lab);
    dataset_free(&ds);
}

TEST(dataset_open_frames_takes_a_camvid_list_or_a_folder) {
    Dataset ds;
    /* the embedded samples ship test.txt alone: asked for train, the door takes test */
    EXPECT(dataset_open("frames", "data/samples/camvid", "train", &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 4 && !strcmp(ds.name, "camvid/test") && ds.samples[0].label, "%s: %d", ds.name, ds.n);
    dataset_free(&ds);
    EXPECT(dataset_open("frames", "data/samples/camvid/test", NULL, &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 4 && !ds.samples[0].label && !strcmp(ds.samples[0].seq, "test"), "%d frames", ds.n);
    EXPECT(!strcmp(base(ds.samples[3].frame), "Seq05VD_f00090.png"), "%s", ds.samples[3].frame);
    dataset_free(&ds);
}

TEST(dataset_open_yolo_all_and_the_coco128_split) {
    const char *root = test_shared_path("data/coco128");
    Dataset all, sorted, tr, ev;
    EXPECT(dataset_open("yolo", root, NULL, &all) == 0, "%s", rn_errmsg());
    EXPECT(dataset_open("yolo", root, "all", &sorted) == 0, "%s", rn_errmsg());
    EXPECT(dataset_open("yolo", root, "train", &tr) == 0 && dataset_open("yolo", root, "eval", &ev) == 0, "%s",
           rn_errmsg());
    EXPECT(all.n == 128 && sorted.n == 128 && tr.n == DET_TRAIN_IMAGES && ev.n == 128 - DET_TRAIN_IMAGES, "%d %d %d %d",
           all.n, sorted.n, tr.n, ev.n);
    EXPECT(all.nclasses == 80 && !strcmp(all.class_names[0], "person"), "names from config.yaml: %d", all.nclasses);
    EXPECT(!strcmp(tr.samples[0].frame, sorted.samples[0].frame) &&
               !strcmp(ev.samples[0].frame, sorted.samples[DET_TRAIN_IMAGES].frame),
           "train then eval, by name");
    EXPECT(dataset_nboxes(&all) == dataset_nboxes(&tr) + dataset_nboxes(&ev), "boxes go with their images");
    dataset_free(&all), dataset_free(&sorted), dataset_free(&tr), dataset_free(&ev);
    EXPECT(dataset_open("yolo", root, "test", &ev) < 0 && msg_has("train, eval or all"), "%s", rn_errmsg());
}

TEST(dataset_open_coco_finds_its_json) {
    const char *root = test_shared_path("data/coco-mini");
    Dataset ds;
    EXPECT(dataset_open("coco", root, NULL, &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 4 && ds.nclasses > 0 && dataset_nboxes(&ds) > 0, "%d images, %d classes", ds.n, ds.nclasses);
    dataset_free(&ds);
    char ann[600];
    snprintf(ann, sizeof ann, "%s/ann_file.json", root);
    EXPECT(dataset_open_ann("coco", root, "", ann, &ds) == 0 && ds.n == 4, "%s", rn_errmsg());
    dataset_free(&ds);
    EXPECT(dataset_open("coco", root, "train", &ds) < 0 && msg_has("no split"), "%s", rn_errmsg());
    EXPECT(dataset_open_ann("coco", root, NULL, "nosuch.json", &ds) < 0 && msg_has("nosuch.json"), "%s", rn_errmsg());
}

TEST(dataset_open_visdrone_finds_annotations_val) {
    const char *root = test_shared_path("data/visdrone");
    Dataset ds;
    EXPECT(dataset_open("visdrone", root, NULL, &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 3 && ds.nclasses == 10 && ds.samples[0].frame, "%d images", ds.n);
    dataset_free(&ds);
    /* a named annotation folder that is not there is an error naming it, not a silent fallback */
    EXPECT(dataset_open_ann("visdrone", root, NULL, "no-such-dir", &ds) < 0 && msg_has("no-such-dir"), "%s", rn_errmsg());
}

TEST(dataset_open_refuses_what_it_cannot_open) {
    Dataset ds;
    EXPECT(dataset_open("pascal", "x", "val", &ds) < 0 && msg_has("'pascal'") && msg_has("visdrone"), "%s", rn_errmsg());
    EXPECT(dataset_open_ann("camvid", "x", "val", "a.json", &ds) < 0 && msg_has("coco and visdrone"), "%s", rn_errmsg());
    EXPECT(dataset_open(NULL, "x", NULL, &ds) < 0, "no kind");
}
