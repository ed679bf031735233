/* test_dataset.c: dataset readers on the real ../shared data, malformed annotations (COCO JSON, YOLO, VisDrone). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "tests/test.h"
#include "util/err.h"

/* ---- temp files ---- */

static const char *g_tmp; /* the current test's scratch folder */

static const char *tmp_dir(void) { return g_tmp = test_temp_dir("ds"); }

static char *tmp_path(const char *rel) {
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 512, "%s/%s", g_tmp, rel);
    return p;
}

static void write_file(const char *rel, const char *text) {
    FILE *f = fopen(tmp_path(rel), "wb");
    if (!f) SKIP("cannot write a temp file");
    fputs(text, f);
    fclose(f);
}

static void write_png(const char *rel, int w, int h, int c, int seed) {
    Image im = image_alloc(w, h, c);
    for (int k = 0; k < w * h * c; k++) im.px[k] = (uint8_t)((k * 7 + seed) % 251);
    EXPECT(png_write(tmp_path(rel), &im) == 0, "%s", rn_errmsg());
    image_free(&im);
}

static bool msg_has(const char *needle) {
    bool ok = strstr(rn_errmsg(), needle) != NULL;
    if (!ok) fprintf(stderr, "    message was: %s\n", rn_errmsg());
    return ok;
}

static const char *base(const char *p) {
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* ---- CamVid ---- */

TEST(camvid_counts_and_time_order) {
    const char *root = test_shared_path("data/camvid");
    Dataset tr, te;
    EXPECT(ds_camvid(root, "train", &tr) == 0, "%s", rn_errmsg());
    EXPECT(ds_camvid(root, "test", &te) == 0, "%s", rn_errmsg());
    EXPECT(tr.n == 367 && te.n == 233, "train %d test %d", tr.n, te.n);
    EXPECT(tr.nclasses == 11 && strcmp(tr.class_names[0], "Sky") == 0 && strcmp(tr.class_names[10], "Bicyclist") == 0);
    EXPECT(strcmp(base(tr.samples[0].frame), "0001TP_006690.png") == 0, "%s", tr.samples[0].frame);
    EXPECT(strcmp(base(tr.samples[tr.n - 1].frame), "0016E5_08640.png") == 0, "%s", tr.samples[tr.n - 1].frame);
    EXPECT(strcmp(base(te.samples[0].frame), "0001TP_008550.png") == 0, "%s", te.samples[0].frame);
    EXPECT(strcmp(base(te.samples[te.n - 1].label), "Seq05VD_f05100.png") == 0, "%s", te.samples[te.n - 1].label);
    int cnt, first = dataset_sequence(&te, "Seq05VD", &cnt);
    EXPECT(cnt == 171 && first == 62, "Seq05VD at %d, %d frames", first, cnt);
    for (int i = first + 1; i < first + cnt; i++) /* one frame a second = every 30th video frame */
        EXPECT(te.samples[i].index == te.samples[i - 1].index + 30, "frame %d: %d after %d", i, te.samples[i].index,
               te.samples[i - 1].index);
    EXPECT(dataset_sequence(&tr, "Seq05VD", &cnt) == -1 && cnt == 0);
    dataset_free(&tr);
    dataset_free(&te);
}

TEST(camvid_void_becomes_ignore) {
    const char *root = test_shared_path("data/camvid");
    Dataset ds;
    EXPECT(ds_camvid(root, "train", &ds) == 0, "%s", rn_errmsg());
    Image fr, lab, raw;
    EXPECT(dataset_load_frame(&ds, 0, &fr) == 0, "%s", rn_errmsg());
    EXPECT(dataset_load_label(&ds, 0, &fr, &lab) == 0, "%s", rn_errmsg());
    EXPECT(png_read(ds.samples[0].label, &raw, 0) == 0, "%s", rn_errmsg());
    EXPECT(fr.w == 480 && fr.h == 360 && fr.c == 3 && lab.w == 480 && lab.h == 360 && lab.c == 1);
    int nvoid = 0, bad = 0;
    for (int k = 0; k < lab.w * lab.h; k++) {
        nvoid += raw.px[k] == 11;
        bad += raw.px[k] == 11 ? lab.px[k] != 255 : lab.px[k] != raw.px[k];
    }
    EXPECT(nvoid > 0 && bad == 0, "%d void pixels, %d mapped wrong", nvoid, bad);
    Image lab2; /* without the decoded frame: the size check reads the frame's header */
    EXPECT(dataset_load_label(&ds, 0, NULL, &lab2) == 0 && memcmp(lab2.px, lab.px, (size_t)480 * 360) == 0);
    image_free(&fr), image_free(&lab), image_free(&lab2), image_free(&raw);
    dataset_free(&ds);
}

TEST(camvid_label_size_mismatch_names_both_files) {
    tmp_dir();
    mkdir(tmp_path("train"), 0755), mkdir(tmp_path("trainannot"), 0755);
    write_file("train.txt", "/SegNet/CamVid/train/A_00030.png /SegNet/CamVid/trainannot/A_00030.png\n\n"
                            "train/A_00000.png trainannot/A_00000.png\n");
    write_png("train/A_00000.png", 6, 4, 3, 1), write_png("trainannot/A_00000.png", 6, 4, 1, 2);
    write_png("train/A_00030.png", 6, 4, 3, 1), write_png("trainannot/A_00030.png", 5, 4, 1, 2);
    Dataset ds;
    EXPECT(ds_camvid(g_tmp, "train", &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 2 && ds.samples[0].index == 0 && ds.samples[1].index == 30, "time order");
    Image lab;
    EXPECT(dataset_load_label(&ds, 0, NULL, &lab) == 0, "%s", rn_errmsg());
    image_free(&lab);
    EXPECT(dataset_load_label(&ds, 1, NULL, &lab) == -1);
    EXPECT(msg_has("trainannot/A_00030.png") && msg_has("train/A_00030.png") && msg_has("5x4") && msg_has("6x4"));
    dataset_free(&ds);
    write_file("val.txt", "train/A_00000.png\n");
    EXPECT(ds_camvid(g_tmp, "val", &ds) == -1 && msg_has("val.txt:1:"));
}

/* ---- Cityscapes (a made-up tree: no Cityscapes data is shared) ---- */

TEST(cityscapes_train_ids) {
    tmp_dir();
    const char *dirs[] = {"leftImg8bit", "leftImg8bit/val", "leftImg8bit/val/bonn", "gtFine", "gtFine/val", "gtFine/val/bonn"};
    for (int i = 0; i < 6; i++) mkdir(tmp_path(dirs[i]), 0755);
    write_png("leftImg8bit/val/bonn/bonn_000001_000019_leftImg8bit.png", 4, 2, 3, 0);
    write_png("leftImg8bit/val/bonn/bonn_000001_000004_leftImg8bit.png", 4, 2, 3, 0);
    Image lab = image_alloc(4, 2, 1);
    const uint8_t ids[8] = {0, 7, 8, 26, 33, 34, 255, 9}; /* unlabeled road sidewalk car bicycle plate - parking */
    memcpy(lab.px, ids, 8);
    EXPECT(png_write(tmp_path("gtFine/val/bonn/bonn_000001_000019_gtFine_labelIds.png"), &lab) == 0);
    EXPECT(png_write(tmp_path("gtFine/val/bonn/bonn_000001_000004_gtFine_labelIds.png"), &lab) == 0);
    image_free(&lab);
    Dataset ds;
    EXPECT(ds_cityscapes(g_tmp, "val", &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 2 && ds.nclasses == 19 && strcmp(ds.samples[0].seq, "bonn_000001") == 0);
    EXPECT(ds.samples[0].index == 4 && ds.samples[1].index == 19);
    EXPECT(dataset_load_label(&ds, 1, NULL, &lab) == 0, "%s", rn_errmsg());
    const uint8_t want[8] = {255, 0, 1, 13, 18, 255, 255, 255};
    EXPECT(memcmp(lab.px, want, 8) == 0, "%d %d %d %d %d %d %d %d", lab.px[0], lab.px[1], lab.px[2], lab.px[3],
           lab.px[4], lab.px[5], lab.px[6], lab.px[7]);
    image_free(&lab);
    dataset_free(&ds);
    remove(tmp_path("gtFine/val/bonn/bonn_000001_000004_gtFine_labelIds.png"));
    EXPECT(ds_cityscapes(g_tmp, "val", &ds) == -1 && msg_has("bonn_000001_000004_gtFine_labelIds.png"));
}

/* ---- COCO ---- */

TEST(coco_mini_boxes) {
    const char *dir = test_shared_path("data/coco-mini");
    char json[600];
    snprintf(json, sizeof json, "%s/ann_file.json", dir);
    Dataset ds;
    EXPECT(ds_coco(json, dir, &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 4 && dataset_nboxes(&ds) == 57 && ds.nclasses == 80, "%d images %d boxes", ds.n, dataset_nboxes(&ds));
    EXPECT(strcmp(ds.class_names[0], "person") == 0 && strcmp(ds.class_names[79], "toothbrush") == 0);
    EXPECT(strcmp(base(ds.samples[0].frame), "000000397133.jpg") == 0 && ds.samples[0].w == 640 && ds.samples[0].h == 427);
    const int per[4] = {19, 14, 7, 17};
    for (int i = 0; i < 4; i++) EXPECT(ds.samples[i].nboxes == per[i], "image %d: %d boxes", i, ds.samples[i].nboxes);
    Box b = ds.samples[1].boxes[0]; /* 37777: bbox [102.49, 118.47, 7.9, 17.31], category 64 = class 58 */
    EXPECT(b.cls == 58 && !b.ignore && strcmp(ds.class_names[58], "potted plant") == 0, "cls %d", b.cls);
    EXPECT_NEAR(b.x0, 102.49, 1e-4);
    EXPECT_NEAR(b.y1, 118.47 + 17.31, 1e-4);
    int crowd = 0;
    for (int k = 0; k < ds.samples[3].nboxes; k++)
        if (ds.samples[3].boxes[k].ignore) {
            crowd++;
            EXPECT(ds.samples[3].boxes[k].cls == 0 && ds.samples[3].boxes[k].x1 == 639);
        }
    EXPECT(crowd == 1, "%d crowd boxes", crowd);
    int w, h; /* the JSON's size agrees with the file's header */
    EXPECT(image_probe(ds.samples[0].frame, &w, &h) == 0 && w == 640 && h == 427, "%dx%d", w, h);
    dataset_free(&ds);
}

static const char COCO_OK_HEAD[] = "{\"categories\": [{\"id\": 5, \"name\": \"b\"}, {\"id\": 2, \"name\": \"a\"}],\n"
                                   " \"images\": [{\"id\": 1, \"file_name\": \"x.jpg\", \"width\": 10, \"height\": 8}],\n"
                                   " \"annotations\": [\n";

static int coco_str(const char *anns, Dataset *ds) {
    char buf[2048];
    snprintf(buf, sizeof buf, "%s%s]}", COCO_OK_HEAD, anns);
    return coco_parse(buf, strlen(buf), "t.json", "img", ds);
}

TEST(coco_malformed_names_the_element) {
    Dataset ds;
    EXPECT(coco_str("  {\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2, 3, 4], \"iscrowd\": 1}\n", &ds) == 0,
           "%s", rn_errmsg());
    EXPECT(ds.n == 1 && ds.nclasses == 2 && strcmp(ds.class_names[0], "a") == 0 && strcmp(ds.samples[0].frame, "img/x.jpg") == 0);
    EXPECT(ds.samples[0].nboxes == 1 && ds.samples[0].boxes[0].cls == 1 && ds.samples[0].boxes[0].ignore);
    EXPECT(ds.samples[0].boxes[0].x1 == 4 && ds.samples[0].boxes[0].y1 == 6);
    dataset_free(&ds);
    EXPECT(coco_str("{\"image_id\": 1.0, \"category_id\": 5, \"bbox\": [1, 2, 3, 4]}", &ds) == 0, "1.0 is an integer: %s",
           rn_errmsg());
    dataset_free(&ds);
    EXPECT(coco_str("{\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2, 3, 4]},\n"
                    "{\"image_id\": 9, \"category_id\": 5, \"bbox\": [1, 2, 3, 4]}", &ds) == -1);
    EXPECT(msg_has("t.json: annotations[1]: ") && msg_has("unknown image id 9"), "%s", rn_errmsg());
    EXPECT(coco_str("{\"image_id\": 1, \"category_id\": 3, \"bbox\": [1, 2, 3, 4]}", &ds) == -1 &&
           msg_has("annotations[0]: ") && msg_has("unknown category id 3"), "%s", rn_errmsg());
    EXPECT(coco_str("{\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2, 3]}", &ds) == -1 && msg_has("annotations[0]: ") &&
           msg_has("[x, y, w, h]"), "%s", rn_errmsg());
    EXPECT(coco_str("{\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2, \"3\", 4]}", &ds) == -1 &&
           msg_has("bbox element 2 is not a number"), "%s", rn_errmsg());
    EXPECT(coco_str("{\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2, -3, 4]}", &ds) == -1 && msg_has("negative"));
    EXPECT(coco_str("{\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2e110, 3, 4]}", &ds) == -1 &&
           msg_has("out of range"), "a double beyond float range (a fuzzing find): %s", rn_errmsg());
    EXPECT(coco_str("{\"image_id\": 1.5, \"category_id\": 5, \"bbox\": [1, 2, 3, 4]}", &ds) == -1 &&
           msg_has("annotations[0]: needs an integer \"image_id\""), "%s", rn_errmsg());
    EXPECT(coco_str("{\"image_id\": \"1\", \"category_id\": 5, \"bbox\": [1, 2, 3, 4]}", &ds) == -1 &&
           msg_has("integer \"image_id\""), "%s", rn_errmsg());
    EXPECT(coco_str("{\"category_id\": 5, \"bbox\": [1, 2, 3, 4]}", &ds) == -1 && msg_has("integer \"image_id\""));
    EXPECT(coco_str("7", &ds) == -1 && msg_has("t.json: annotations[0]: annotation is not an object"), "%s", rn_errmsg());
    const char *no_anns = "{\"categories\": [], \"images\": []}";
    EXPECT(coco_parse(no_anns, strlen(no_anns), "t.json", ".", &ds) == -1 && msg_has("\"annotations\" array missing"));
    const char *top = "[1, 2]";
    EXPECT(coco_parse(top, strlen(top), "t.json", ".", &ds) == -1 && msg_has("t.json: top level is not an object"));
    const char *cats = "{\"categories\": [{\"id\": 2, \"name\": \"a\"}, {\"id\": 2, \"name\": \"b\"}], \"images\": [], "
                       "\"annotations\": []}";
    EXPECT(coco_parse(cats, strlen(cats), "t.json", ".", &ds) == -1 && msg_has("duplicate category id 2"), "%s", rn_errmsg());
    const char *noname = "{\"categories\": [{\"id\": 2}], \"images\": [], \"annotations\": []}";
    EXPECT(coco_parse(noname, strlen(noname), "t.json", ".", &ds) == -1 && msg_has("categories[0]: category 2 has no"),
           "%s", rn_errmsg());
    const char *img = "{\"categories\": [], \"images\": [{\"id\": 3, \"file_name\": \"\"}], \"annotations\": []}";
    EXPECT(coco_parse(img, strlen(img), "t.json", ".", &ds) == -1 && msg_has("images[0]: image has no \"file_name\""),
           "%s", rn_errmsg());
}

/* Malformed JSON fails in the parser (jansson, strict RFC 8259) with "NAME:LINE:COLUMN: malformed JSON: ...". */
TEST(coco_malformed_json_names_line_and_column) {
    Dataset ds;
    EXPECT(coco_str("{\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2, 3, 4],}", &ds) == -1 &&
           msg_has("t.json:4:") && msg_has("malformed JSON"), "%s", rn_errmsg());
    const char *multi = "{\n\n  \"a\": [1,\n   2 3]}";
    EXPECT(coco_parse(multi, strlen(multi), "m.json", ".", &ds) == -1 && msg_has("m.json:4:6: malformed JSON: "),
           "%s", rn_errmsg());
    const char *bad[] = {"", "{", "[1,]", "{\"a\" 1}", "01", "[1.]", "-", "[.5]", "[1e]", "[\"\\x\"]", "[\"a\nb\"]",
                         "[1] 2", "tru", "[\"\\ud800\"]", "[\"\\udc00x\"]", "{1: 2}", "[\"abc", "nul", "[1e999]",
                         "[\"\\u0000\"]"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        EXPECT(coco_parse(bad[k], strlen(bad[k]), "bad.json", ".", &ds) == -1 && msg_has("bad.json:") &&
               msg_has("malformed JSON"), "case %zu: %s: %s", k, bad[k], rn_errmsg());
    enum { DEEP = 100000 }; /* nesting is bounded: hostile input cannot overflow the stack */
    char *deep = malloc(DEEP);
    memset(deep, '[', DEEP);
    EXPECT(coco_parse(deep, DEEP, "deep.json", ".", &ds) == -1 && msg_has("deep.json:1:") && msg_has("depth"),
           "%s", rn_errmsg());
    free(deep);
}

/* ---- YOLO ---- */

TEST(coco128_yolo) {
    const char *root = test_shared_path("data/coco128");
    char img[600], lab[600], names[600];
    snprintf(img, sizeof img, "%s/images", root), snprintf(lab, sizeof lab, "%s/labels", root);
    snprintf(names, sizeof names, "%s/config.yaml", root);
    Dataset ds;
    EXPECT(ds_yolo(img, lab, names, &ds) == 0, "%s", rn_errmsg());
    /* 128 images; 2 of them have no label file (background images) and 2 label files have no image */
    EXPECT(ds.n == 128 && dataset_nboxes(&ds) == 929, "%d images %d boxes", ds.n, dataset_nboxes(&ds));
    EXPECT(ds.nclasses == 80 && strcmp(ds.class_names[0], "person") == 0 && strcmp(ds.class_names[9], "traffic light") == 0 &&
           strcmp(ds.class_names[79], "toothbrush") == 0);
    const Sample *s = &ds.samples[0]; /* 000000000009.jpg, 640x480: "45 0.479492 0.688771 0.955609 0.5955" */
    EXPECT(strcmp(base(s->frame), "000000000009.jpg") == 0 && s->w == 640 && s->h == 480, "%dx%d", s->w, s->h);
    EXPECT(s->boxes[0].cls == 45);
    EXPECT_NEAR(s->boxes[0].x0, (0.479492 - 0.955609 / 2) * 640, 1e-3);
    EXPECT_NEAR(s->boxes[0].y1, (0.688771 + 0.5955 / 2) * 480, 1e-3);
    Image im;
    EXPECT(dataset_load_frame(&ds, 0, &im) == 0 && im.w == s->w && im.h == s->h, "%s", rn_errmsg());
    image_free(&im);
    dataset_free(&ds);
    EXPECT(ds_yolo(img, lab, NULL, &ds) == 0 && ds.nclasses <= 80 && ds.nclasses > 70, "%d", ds.nclasses);
    dataset_free(&ds);
}

TEST(yolo_malformed_lines) {
    Box *b;
    int n;
    const char *ok = "1 0.5 0.5 0.2 0.4\r\n\n  0 0.05 0.5 0.2 1\n";
    EXPECT(yolo_parse(ok, strlen(ok), "a.txt", 100, 50, 2, &b, &n) == 0 && n == 2, "%s", rn_errmsg());
    EXPECT(b[0].cls == 1 && b[0].x0 == 40 && b[0].x1 == 60 && b[0].y0 == 15 && b[0].y1 == 35);
    EXPECT(b[1].x0 == 0 && b[1].y0 == 0 && b[1].y1 == 50, "clipped to the image: %g %g", b[1].x0, b[1].y1);
    free(b);
    struct { const char *text, *msg; } bad[] = {
        {"0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n", "a.txt:2:"},
        {"\n\n-1 0.5 0.5 0.2 0.2", "a.txt:3:"},
        {"2 0.5 0.5 0.2 0.2", "out of range"},
        {"0 0.5 0.5 0.2 1.5", "not normalised"},
        {"0 0.5 0.5 0.2 nan", "a.txt:1:"},
        {"0 0.5 0.5 0.2 0.2x", "not a number"},
        {"0.5 0.5 0.5 0.2 0.2", "a.txt:1:"},
        {"0 0.5 0.5 0.2 0.2 0.1", "more"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        EXPECT(yolo_parse(bad[k].text, strlen(bad[k].text), "a.txt", 100, 50, 2, &b, &n) == -1 && b == NULL && n == 0,
               "case %zu", k);
        EXPECT(msg_has(bad[k].msg), "case %zu", k);
    }
}

TEST(yolo_malformed_file_names_path) {
    tmp_dir();
    mkdir(tmp_path("images"), 0755), mkdir(tmp_path("labels"), 0755);
    write_png("images/a.png", 8, 6, 3, 0), write_png("images/b.png", 8, 6, 3, 0);
    write_file("labels/a.txt", "0 0.5 0.5 1 1\n");
    write_file("labels/b.txt", "0 0.5 0.5 1 1\n0 0.5 0.5\n");
    write_file("names.txt", "cat\n\ndog\n");
    Dataset ds;
    EXPECT(ds_yolo(tmp_path("images"), tmp_path("labels"), tmp_path("names.txt"), &ds) == -1);
    EXPECT(msg_has("labels/b.txt:2:"));
    write_file("labels/b.txt", "1 0.5 0.5 1 1\n");
    EXPECT(ds_yolo(tmp_path("images"), tmp_path("labels"), tmp_path("names.txt"), &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 2 && ds.nclasses == 2 && strcmp(ds.class_names[1], "dog") == 0);
    EXPECT(ds.samples[0].w == 8 && ds.samples[0].boxes[0].x1 == 8 && ds.samples[0].boxes[0].y1 == 6);
    dataset_free(&ds);
}

/* ---- VisDrone ---- */

TEST(visdrone_ignored_regions) {
    const char *root = test_shared_path("data/visdrone");
    char img[600], ann[600];
    snprintf(img, sizeof img, "%s/images", root), snprintf(ann, sizeof ann, "%s/annotations-val", root);
    Dataset ds;
    EXPECT(ds_visdrone(img, ann, &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 3 && ds.nclasses == 10 && strcmp(ds.class_names[9], "motor") == 0, "%d images", ds.n);
    const int nb[3] = {128, 137, 104}, nign[3] = {1, 1, 6}; /* counted with awk on the files */
    for (int i = 0; i < ds.n && i < 3; i++) {
        int ig = 0;
        for (int k = 0; k < ds.samples[i].nboxes; k++) {
            const Box *b = &ds.samples[i].boxes[k];
            ig += b->ignore;
            EXPECT(b->ignore ? b->cls == -1 : (b->cls >= 0 && b->cls < 10));
        }
        EXPECT(ds.samples[i].nboxes == nb[i] && ig == nign[i], "image %d: %d boxes, %d ignored", i, ds.samples[i].nboxes, ig);
    }
    /* the renamed image visdrone_0000315_01601_d_0000509.jpg found 0000315_01601_d_0000509.txt */
    EXPECT(strstr(ds.samples[2].frame, "visdrone_0000315") != NULL);
    const Box b0 = ds.samples[0].boxes[0]; /* 871,572,54,92,1,4,0,0: car = class 3 */
    EXPECT(b0.cls == 3 && b0.x0 == 871 && b0.y0 == 572 && b0.x1 == 925 && b0.y1 == 664);
    Image im;
    EXPECT(dataset_load_frame(&ds, 2, &im) == 0 && im.w == 1360 && im.h == 765, "%s", rn_errmsg());
    image_free(&im);
    dataset_free(&ds);
    EXPECT(ds_visdrone(NULL, ann, &ds) == 0, "%s", rn_errmsg());
    int ig = 0, other = 0;
    for (int i = 0; i < ds.n; i++)
        for (int k = 0; k < ds.samples[i].nboxes; k++) ig += ds.samples[i].boxes[k].ignore;
    (void)other;
    EXPECT(ds.n == 548 && dataset_nboxes(&ds) == 40169 && ig == 1410, "%d files %d boxes %d ignored", ds.n,
           dataset_nboxes(&ds), ig);
    dataset_free(&ds);
}

TEST(visdrone_malformed_lines) {
    Box *b;
    int n;
    const char *ok = "1,2,3,4,1,1,0,0\n5,6,7,8,0,0,0,0,\n\n9,9,1,1,0,11,0,0\n";
    EXPECT(visdrone_parse(ok, strlen(ok), "v.txt", &b, &n) == 0 && n == 3, "%s", rn_errmsg());
    EXPECT(b[0].cls == 0 && !b[0].ignore && b[0].x1 == 4 && b[0].y1 == 6);
    EXPECT(b[1].ignore && b[1].cls == -1 && b[2].ignore && b[2].cls == -1);
    free(b);
    struct { const char *text, *msg; } bad[] = {
        {"1,2,3,4,1,1,0,0\n1,2,3,4,1,1,0\n", "v.txt:2:"},
        {"1,2,3,4,1,12,0,0", "category 12"},
        {"1,2,-3,4,1,1,0,0", "v.txt:1:"},
        {"1,2,3,4,1,1,0,0,0", "more than 8"},
        {"1,2,3.5,4,1,1,0,0", "field 3"},
        {"1;2;3;4;1;1;0;0", "v.txt:1:"},
        {"\n\n1,2,3,4,1,1,0,", "v.txt:3:"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        EXPECT(visdrone_parse(bad[k].text, strlen(bad[k].text), "v.txt", &b, &n) == -1 && b == NULL, "case %zu", k);
        EXPECT(msg_has(bad[k].msg), "case %zu", k);
    }
}

/* ---- SR pairs and frame folders ---- */

TEST(srbench_pairs) {
    const char *set5 = test_shared_path("data/sr-bench/Set5");
    for (int s = 2; s <= 4; s++) {
        Dataset ds;
        EXPECT(ds_srpairs(set5, s, &ds) == 0, "%s", rn_errmsg());
        EXPECT(ds.n == 5 && ds.scale == s, "x%d: %d pairs", s, ds.n);
        for (int i = 0; i < ds.n; i++) {
            Image hr, lr;
            EXPECT(dataset_load_frame(&ds, i, &hr) == 0, "%s", rn_errmsg());
            EXPECT(dataset_load_lr(&ds, i, &hr, &lr) == 0, "%s", rn_errmsg());
            EXPECT(hr.w == s * lr.w && hr.h == s * lr.h && lr.c == 3);
            image_free(&hr), image_free(&lr);
        }
        dataset_free(&ds);
    }
    char set14[600];
    snprintf(set14, sizeof set14, "%s/../Set14", set5);
    Dataset ds;
    EXPECT(ds_srpairs(set14, 4, &ds) == 0 && ds.n == 14, "%s", rn_errmsg());
    Image lr; /* img_003 is grayscale: loaded as RGB */
    EXPECT(dataset_load_lr(&ds, 2, NULL, &lr) == 0 && lr.c == 3, "%s", rn_errmsg());
    image_free(&lr);
    dataset_free(&ds);
    EXPECT(ds_srpairs(set14, 3, &ds) == -1, "Set14 has no x3 pairs");
}

TEST(srpairs_folders_and_size_check) {
    tmp_dir();
    mkdir(tmp_path("HR"), 0755), mkdir(tmp_path("LR"), 0755);
    write_png("HR/a.png", 8, 6, 3, 0), write_png("LR/a.png", 4, 3, 3, 0);
    write_png("HR/b.png", 8, 6, 3, 0), write_png("LR/b.png", 4, 2, 3, 0);
    Dataset ds;
    EXPECT(ds_srpairs(g_tmp, 2, &ds) == 0 && ds.n == 2, "%s", rn_errmsg());
    Image lr;
    EXPECT(dataset_load_lr(&ds, 0, NULL, &lr) == 0, "%s", rn_errmsg());
    image_free(&lr);
    EXPECT(dataset_load_lr(&ds, 1, NULL, &lr) == -1 && msg_has("LR/b.png") && msg_has("HR/b.png") && msg_has("x2"));
    dataset_free(&ds);
}

TEST(frames_folder_natural_order) {
    tmp_dir();
    mkdir(tmp_path("drive"), 0755);
    write_png("drive/f_10.png", 2, 2, 3, 0), write_png("drive/f_2.png", 2, 2, 3, 0), write_png("drive/f_1.png", 2, 2, 3, 0);
    write_file("drive/notes.txt", "not a frame");
    Dataset ds;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/", tmp_path("drive"));
    EXPECT(ds_frames(dir, &ds) == 0, "%s", rn_errmsg());
    EXPECT(ds.n == 3 && strcmp(ds.samples[0].seq, "drive") == 0);
    EXPECT(strcmp(base(ds.samples[0].frame), "f_1.png") == 0 && strcmp(base(ds.samples[1].frame), "f_2.png") == 0 &&
           strcmp(base(ds.samples[2].frame), "f_10.png") == 0);
    dataset_free(&ds);
    EXPECT(ds_frames(tmp_path("nothing"), &ds) == -1 && msg_has("nothing"));
}
