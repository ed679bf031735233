/* bench_json.c: parse speed of jansson and cJSON on one COCO annotation file (scripts/bench_json.sh).
 *   bench_json jansson|cjson FILE [REPEATS]
 * Times, best of REPEATS: parse into a tree, the walk rune's COCO reader makes over it (every
 * annotation's image_id, category_id and bbox), and freeing the tree; then the peak RSS. One library
 * per process so that the RSS is that library's alone. */
#include <cjson/cJSON.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = malloc((size_t)n + 1);
    if (!t || fread(t, 1, (size_t)n, f) != (size_t)n) exit(1);
    fclose(f);
    t[n] = 0;
    *len = (size_t)n;
    return t;
}

/* The walk: sums what the COCO reader looks up, so the compiler cannot drop it. */
static double walk_jansson(const json_t *root) {
    double sum = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(root, "annotations"), i, a) {
        sum += json_number_value(json_object_get(a, "image_id")) + json_number_value(json_object_get(a, "category_id"));
        json_t *bb = json_object_get(a, "bbox");
        for (size_t k = 0; k < 4; k++) sum += json_number_value(json_array_get(bb, k));
    }
    return sum;
}

static double walk_cjson(const cJSON *root) {
    double sum = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(root, "annotations")) {
        sum += cJSON_GetObjectItemCaseSensitive(a, "image_id")->valuedouble +
               cJSON_GetObjectItemCaseSensitive(a, "category_id")->valuedouble;
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(a, "bbox")) sum += v->valuedouble;
    }
    return sum;
}

/* One round: t[0] parse, t[1] walk, t[2] free. Returns the walk's sum (the same for both libraries). */
static double round_once(int jansson, const char *text, size_t len, double t[3]) {
    double t0 = now(), sum;
    if (jansson) {
        json_error_t e;
        json_t *root = json_loadb(text, len, 0, &e);
        if (!root) fprintf(stderr, "jansson: %d:%d: %s\n", e.line, e.column, e.text), exit(1);
        double t1 = now();
        sum = walk_jansson(root);
        double t2 = now();
        json_decref(root);
        t[0] = t1 - t0, t[1] = t2 - t1, t[2] = now() - t2;
    } else {
        cJSON *root = cJSON_ParseWithLength(text, len);
        if (!root) fprintf(stderr, "cjson: error at byte %td\n", cJSON_GetErrorPtr() - text), exit(1);
        double t1 = now();
        sum = walk_cjson(root);
        double t2 = now();
        cJSON_Delete(root);
        t[0] = t1 - t0, t[1] = t2 - t1, t[2] = now() - t2;
    }
    return sum;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "jansson") && strcmp(argv[1], "cjson")))
        return fprintf(stderr, "usage: bench_json jansson|cjson FILE [REPEATS]\n"), 2;
    int jansson = !strcmp(argv[1], "jansson"), reps = argc > 3 ? atoi(argv[3]) : 3;
    size_t len;
    char *text = slurp(argv[2], &len);
    if (!text) return fprintf(stderr, "bench_json: cannot read %s\n", argv[2]), 1;
    double best[3] = {1e30, 1e30, 1e30}, sum = 0;
    for (int r = 0; r < reps; r++) {
        double t[3];
        sum = round_once(jansson, text, len, t);
        for (int k = 0; k < 3; k++) best[k] = t[k] < best[k] ? t[k] : best[k];
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%-8s %6.1f MB  parse %6.3f s (%5.0f MB/s)  walk %6.3f s  free %6.3f s  peak RSS %5ld MB  (check %.6g)\n",
           argv[1], len / 1e6, best[0], len / 1e6 / best[0], best[1], best[2], ru.ru_maxrss / 1024, sum);
    free(text);
    return 0;
}
