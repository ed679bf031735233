/* test_det_ap_fixture.c: det_metrics against pycocotools' and darknet's-formula numbers on a committed synthetic fixture (scripts/coco_check.py fixture). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "profile/det_metrics.h"
#include "tests/test.h"

typedef struct {
    Dataset ds;
    DetBox **dets; /* [image] */
    int *ndets;    /* [image] */
    json_t *expect;
} Fixture;

static int index_of_image(const Dataset *ds, long id) {
    for (int i = 0; i < ds->n; i++)
        if (ds->samples[i].id == id) return i;
    return -1;
}

static int index_of_class(const Dataset *ds, long id) {
    for (int c = 0; c < ds->nclasses; c++)
        if (ds->class_ids[c] == id) return c;
    return -1;
}

/* One results-file entry into f->dets of its image; false when it names no image or class. */
static bool add_det(Fixture *f, const json_t *d) {
    int i = index_of_image(&f->ds, (long)json_integer_value(json_object_get(d, "image_id")));
    int c = index_of_class(&f->ds, (long)json_integer_value(json_object_get(d, "category_id")));
    const json_t *bb = json_object_get(d, "bbox");
    if (i < 0 || c < 0 || json_array_size(bb) != 4) return false;
    double v[4];
    for (int k = 0; k < 4; k++) v[k] = json_number_value(json_array_get(bb, (size_t)k));
    f->dets[i] = realloc(f->dets[i], (size_t)(f->ndets[i] + 1) * sizeof **f->dets);
    f->dets[i][f->ndets[i]++] = (DetBox){c, (float)v[0], (float)v[1], (float)(v[0] + v[2]), (float)(v[1] + v[3]),
                                         (float)json_number_value(json_object_get(d, "score"))};
    return true;
}

static bool load(Fixture *f) {
    memset(f, 0, sizeof *f);
    if (ds_coco(test_fixture_path("det_coco/gt.json"), "tests/fixtures/det_coco", &f->ds) < 0) return false;
    json_error_t err;
    json_t *dets = json_load_file(test_fixture_path("det_coco/dets.json"), 0, &err);
    f->expect = json_load_file(test_fixture_path("det_coco/expected.json"), 0, &err);
    if (!dets || !f->expect || !f->ds.class_ids) return json_decref(dets), false;
    f->dets = calloc((size_t)f->ds.n, sizeof *f->dets);
    f->ndets = calloc((size_t)f->ds.n, sizeof *f->ndets);
    bool ok = true;
    for (size_t k = 0; ok && k < json_array_size(dets); k++) ok = add_det(f, json_array_get(dets, k));
    json_decref(dets);
    return ok;
}

static void unload(Fixture *f) {
    for (int i = 0; f->dets && i < f->ds.n; i++) free(f->dets[i]);
    free(f->dets), free(f->ndets);
    json_decref(f->expect);
    dataset_free(&f->ds);
}

static double expected(const Fixture *f, const char *key) { return json_number_value(json_object_get(f->expect, key)); }

/* Mean AP over classes with ground truth (COCO), or over every class (darknet), of the fixture. */
static double fixture_map(const Fixture *f, double iou, DetApDef def) {
    DetEval e;
    det_eval_init_def(&e, f->ds.nclasses, iou, def);
    for (int i = 0; i < f->ds.n; i++) det_eval_add(&e, f->dets[i], f->ndets[i], f->ds.samples[i].boxes, f->ds.samples[i].nboxes);
    bool every[16] = {true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true};
    double m = def.kind == DET_AP_COCO ? det_eval_map(&e, NULL) : det_eval_map_darknet(&e, every);
    det_eval_free(&e);
    return m;
}

/* load(), failing the test (and freeing what was read) when the fixture cannot be loaded. */
static bool load_checked(Fixture *f) {
    bool ok = load(f);
    EXPECT(ok, "cannot load tests/fixtures/det_coco");
    if (!ok) unload(f);
    return ok;
}

/* pycocotools' COCOeval (bbox, maxDets 100) at each of its ten IoUs, and its AP / AP50 / AP75. */
TEST(det_ap_matches_pycocotools_on_fixture) {
    Fixture f;
    if (!load_checked(&f)) return;
    EXPECT(f.ds.nclasses <= 16, "%d classes", f.ds.nclasses);
    const json_t *thrs = json_object_get(f.expect, "coco_iou_thrs"), *per = json_object_get(f.expect, "coco_map_per_iou");
    EXPECT(json_array_size(thrs) == DET_COCO_NIOU && json_array_size(per) == DET_COCO_NIOU, "ten IoUs");
    double sum = 0;
    DetApDef coco = {DET_AP_COCO, 101, 100};
    for (int k = 0; k < DET_COCO_NIOU && k < (int)json_array_size(per); k++) {
        EXPECT_NEAR(det_coco_iou(k), json_number_value(json_array_get(thrs, (size_t)k)), 1e-12);
        double m = fixture_map(&f, det_coco_iou(k), coco);
        EXPECT_NEAR(m, json_number_value(json_array_get(per, (size_t)k)), 1e-9);
        sum += m;
    }
    EXPECT_NEAR(sum / DET_COCO_NIOU, expected(&f, "coco_ap"), 1e-9);
    EXPECT_NEAR(fixture_map(&f, 0.5, coco), expected(&f, "coco_ap50"), 1e-9);
    EXPECT_NEAR(fixture_map(&f, 0.75, coco), expected(&f, "coco_ap75"), 1e-9);
    /* the fixture holds an image and class past the cap: without it the number moves */
    double uncapped = fixture_map(&f, 0.5, (DetApDef){DET_AP_COCO, 101, 0});
    EXPECT(fabs(uncapped - expected(&f, "coco_ap50")) > 1e-4, "the 100-detection cap is not exercised (%.6f)", uncapped);
    unload(&f);
}

/* darknet's validate_detector_map formula (scripts/coco_check.py's re-implementation) at -points 0, 11, 101. */
TEST(det_ap_matches_darknet_formula_on_fixture) {
    Fixture f;
    if (!load_checked(&f)) return;
    const int points[3] = {0, 11, 101};
    const char *keys[3] = {"darknet_map_points0", "darknet_map_points11", "darknet_map_points101"};
    for (int k = 0; k < 3; k++)
        EXPECT_NEAR(fixture_map(&f, 0.5, (DetApDef){DET_AP_DARKNET, points[k], 0}), expected(&f, keys[k]), 1e-9);
    unload(&f);
}
