/* test_ops_misc.c: batch norm, activations, mul/scale and shape ops against PyTorch (scripts/fixtures/gen_misc.py). */
#include <stdio.h>
#include <omp.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "tests/fixture.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "util/err.h"

/* float32 against PyTorch's float32: a few ulps of rounding, never more */
#define ATOL 1e-6
#define RTOL 1e-5

/* Dataset "<prefix>_<name>" as a tensor that wants a gradient. */
static Tensor *input(Fixture *f, const char *prefix, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "%s_%s", prefix, name);
    Tensor *t = fx_tensor(f, key);
    if (t) t->requires_grad = true;
    return t;
}

/* Compares t's data (or gradient) with "<prefix>_<name>". */
static void expect(Fixture *f, const char *prefix, const char *name, const real_t *got, const Tensor *t) {
    char key[64];
    snprintf(key, sizeof key, "%s_%s", prefix, name);
    if (!got) {
        test_fail_at(__FILE__, __LINE__, "%s: no gradient computed", key);
        return;
    }
    fx_expect(f, key, got, tensor_numel(t), ATOL, RTOL);
}

/* Runs backward from y with the fixture's seed and checks y. */
static void backward_and_check_y(Fixture *f, const char *prefix, Tensor *y) {
    char key[64];
    snprintf(key, sizeof key, "%s_seed", prefix);
    Tensor *seed = fx_tensor(f, key);
    if (!seed) return;
    expect(f, prefix, "y", y->data, y);
    tape_backward_seed(y, seed->data);
}

static void check_batch_norm(Fixture *f, const char *p, bool training) {
    Tensor *x = input(f, p, "x"), *g = input(f, p, "g"), *b = input(f, p, "b");
    Tensor *rm = input(f, p, "rmean0"), *rv = input(f, p, "rvar0");
    if (!x || !g || !b || !rm || !rv) return;
    rm->requires_grad = rv->requires_grad = false;
    Tensor *y = op_batch_norm(x, g, b, rm, rv, training, 0.1f, 1e-5f);
    backward_and_check_y(f, p, y);
    expect(f, p, "dx", x->grad, x);
    expect(f, p, "dg", g->grad, g);
    expect(f, p, "db", b->grad, b);
    expect(f, p, "rmean1", rm->data, rm); /* equal to rmean0 in inference */
    expect(f, p, "rvar1", rv->data, rv);
    EXPECT(rm->grad == NULL && rv->grad == NULL, "running stats get no gradient");
}

TEST(torch_batch_norm_training) {
    Fixture *f = fx_open("misc.h5");
    check_batch_norm(f, "bnt", true);
    fx_close(f);
}

TEST(torch_batch_norm_inference) {
    Fixture *f = fx_open("misc.h5");
    check_batch_norm(f, "bne", false);
    fx_close(f);
}

TEST(torch_leaky_relu_sigmoid_scale) {
    Fixture *f = fx_open("misc.h5");
    if (!f) return;
    Tensor *x = input(f, "leaky", "x");
    backward_and_check_y(f, "leaky", op_leaky_relu(x, 0.1f));
    expect(f, "leaky", "dx", x->grad, x);
    x = input(f, "sigmoid", "x");
    backward_and_check_y(f, "sigmoid", op_sigmoid(x));
    expect(f, "sigmoid", "dx", x->grad, x);
    x = input(f, "scale", "x");
    backward_and_check_y(f, "scale", op_scale(x, -2.5f));
    expect(f, "scale", "dx", x->grad, x);
    fx_close(f);
}

TEST(torch_prelu) {
    Fixture *f = fx_open("misc.h5");
    if (!f) return;
    const char *prefixes[2] = {"preluc", "prelus"}; /* per-channel [C], shared [1] */
    for (int i = 0; i < 2; i++) {
        Tensor *x = input(f, prefixes[i], "x"), *w = input(f, prefixes[i], "w");
        backward_and_check_y(f, prefixes[i], op_prelu(x, w));
        expect(f, prefixes[i], "dx", x->grad, x);
        expect(f, prefixes[i], "dw", w->grad, w);
    }
    fx_close(f);
}

TEST(torch_mul) {
    Fixture *f = fx_open("misc.h5");
    if (!f) return;
    const char *prefixes[3] = {"mulsame", "mulchan", "mulscal"};
    for (int i = 0; i < 3; i++) {
        Tensor *a = input(f, prefixes[i], "a"), *b = input(f, prefixes[i], "b");
        backward_and_check_y(f, prefixes[i], op_mul(a, b));
        expect(f, prefixes[i], "da", a->grad, a);
        expect(f, prefixes[i], "db", b->grad, b);
    }
    fx_close(f);
}

TEST(torch_concat_slice) {
    Fixture *f = fx_open("misc.h5");
    if (!f) return;
    Tensor *xs[3] = {input(f, "concat", "x0"), input(f, "concat", "x1"), input(f, "concat", "x2")};
    backward_and_check_y(f, "concat", op_concat(xs, 3));
    expect(f, "concat", "dx0", xs[0]->grad, xs[0]);
    expect(f, "concat", "dx1", xs[1]->grad, xs[1]);
    expect(f, "concat", "dx2", xs[2]->grad, xs[2]);
    Tensor *x = input(f, "slice", "x");
    backward_and_check_y(f, "slice", op_slice_channels(x, 2, 3));
    expect(f, "slice", "dx", x->grad, x);
    fx_close(f);
}

TEST(torch_pixel_shuffle) {
    Fixture *f = fx_open("misc.h5");
    if (!f) return;
    Tensor *x = input(f, "shuffle2", "x");
    Tensor *y = op_pixel_shuffle(x, 2);
    EXPECT(TC(y) == 2 && TH(y) == 6 && TW(y) == 8, "r=2 output shape");
    backward_and_check_y(f, "shuffle2", y);
    expect(f, "shuffle2", "dx", x->grad, x);
    x = input(f, "shuffle3", "x");
    y = op_pixel_shuffle(x, 3);
    EXPECT(TC(y) == 2 && TH(y) == 6 && TW(y) == 9, "r=3 output shape");
    backward_and_check_y(f, "shuffle3", y);
    expect(f, "shuffle3", "dx", x->grad, x);
    fx_close(f);
}

/* Rows wider than the 16-lane vector path of r = 2 (the fixtures' rows are 3-4 wide, its scalar
 * tail), and r = 3 beside it: forward and backward against the definition
 * out[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w], exactly (it only moves values). */
TEST(pixel_shuffle_wide_rows_match_definition) {
    for (int r = 2; r <= 3; r++) {
        int N = 2, C = 3, H = 5, W = 37, OH = H * r, OW = W * r;
        Tensor *x = grad_input(N, C * r * r, H, W, 70 + (unsigned)r);
        Tensor *y = op_pixel_shuffle(x, r), *dy = tensor_like(y);
        fill_uniform(dy, 75 + (unsigned)r, -1, 1);
        tape_backward_seed(y, dy->data);
        int bad = 0;
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int h = 0; h < OH; h++)
                    for (int w = 0; w < OW; w++) {
                        size_t yi = (((size_t)n * C + c) * OH + h) * OW + w;
                        size_t xi = (((size_t)n * C * r * r + c * r * r + h % r * r + w % r) * H + h / r) * W + w / r;
                        bad += y->data[yi] != x->data[xi] || x->grad[xi] != dy->data[yi];
                    }
        EXPECT(bad == 0, "r = %d: %d elements differ from the definition", r, bad);
        engine_step_reset();
    }
}

TEST(op_table_names_every_op) {
    int n = 0, has_bn = 0, has_focal = 0;
    for (; n < OP_COUNT && op_names[n]; n++) {
        for (int j = 0; j < n; j++) EXPECT(strcmp(op_names[j], op_names[n]) != 0, "duplicate %s", op_names[n]);
        has_bn |= strcmp(op_names[n], "batch_norm") == 0;
        has_focal |= strcmp(op_names[n], "focal_loss") == 0;
    }
    EXPECT(n == OP_COUNT, "%d names, %d ids", n, (int)OP_COUNT);
    EXPECT(has_bn && has_focal, "batch_norm and focal_loss listed");
}

/* A node records its OpId and reports the table's name; darknet's pooling has its own id. */
TEST(op_table_nodes_report_their_names) {
    engine_step_reset();
    Tensor *x = tensor_new(1, 2, 5, 5), *w = tensor_new(3, 2, 3, 3);
    fill_uniform(x, 1, -1, 1), fill_uniform(w, 2, -1, 1);
    x->requires_grad = true;
    Tensor *y = op_conv2d(x, w, NULL, conv_args(1, 1, 1, 1));
    EXPECT(tape_size() == 1 && tape_node(0)->op == OP_CONV2D, "conv2d node");
    EXPECT(strcmp(op_name(tape_node(0)->op), "conv2d") == 0, "conv2d node reports %s", op_name(tape_node(0)->op));
    op_max_pool2d_at(y, 2, 2, 0, 2, 2, OP_DARKNET_MAXPOOL);
    EXPECT(tape_size() == 2 && strcmp(op_name(tape_node(1)->op), "darknet_maxpool") == 0, "darknet_maxpool node");
    op_max_pool2d(y, 2, 2, 0);
    EXPECT(tape_size() == 3 && strcmp(op_name(tape_node(2)->op), "max_pool2d") == 0, "max_pool2d node");
    EXPECT(strcmp(op_name(OP_COUNT), "?") == 0, "an id out of range prints as ?");
}

/* Forward + backward of the reducing ops (batch norm, prelu, broadcast mul) on fixed inputs;
 * returns a concatenation of the output and every gradient. */
static real_t *reducing_ops_run(size_t *len) {
    Tensor *x = tensor_new(4, 8, 16, 16), *g = tensor_new(1, 8, 1, 1), *w = tensor_new(1, 1, 1, 1);
    Tensor *rm = tensor_zeros(1, 8, 1, 1), *rv = tensor_new(1, 8, 1, 1);
    fill_uniform(x, 1, -1, 2), fill_uniform(g, 2, 0.5, 1.5), fill_uniform(w, 3, 0.1, 0.3);
    tensor_fill(rv, 1);
    x->requires_grad = g->requires_grad = w->requires_grad = true;
    Tensor *y = op_mul(op_prelu(op_batch_norm(x, g, NULL, rm, rv, true, 0.1f, 1e-5f), w), g);
    Tensor *seed = tensor_like(y);
    fill_uniform(seed, 4, -1, 1);
    tape_backward_seed(y, seed->data);
    size_t ny = tensor_numel(y);
    *len = ny + tensor_numel(x) + 8 + 1;
    real_t *all = arena_alloc(engine_arena(), *len * sizeof(real_t));
    memcpy(all, y->data, ny * sizeof(real_t));
    memcpy(all + ny, x->grad, tensor_numel(x) * sizeof(real_t));
    memcpy(all + ny + tensor_numel(x), g->grad, 8 * sizeof(real_t));
    all[*len - 1] = w->grad[0];
    return all;
}

TEST(reducing_ops_same_bits_any_thread_count) {
    size_t n1, n2;
    omp_set_num_threads(1);
    real_t *one = reducing_ops_run(&n1);
    tape_clear();
    omp_set_num_threads(2);
    real_t *two = reducing_ops_run(&n2);
    EXPECT(n1 == n2 && memcmp(one, two, n1 * sizeof(real_t)) == 0, "1 and 2 threads give identical results");
}

/* --device parsing and readiness: the host always runs; an unknown name or a missing backend/GPU
 * is a clear error, never a crash. */
TEST(device_parse_and_ready) {
    Device d = DEV_CUDA;
    EXPECT(device_parse("cpu", &d) == 0 && d == DEV_CPU, "cpu");
    EXPECT(device_ready(DEV_CPU) == 0, "%s", rn_errmsg());
    EXPECT(device_parse("tpu", &d) < 0 && strstr(rn_errmsg(), "unknown device"), "%s", rn_errmsg());
    EXPECT(device_parse("cuda", &d) == 0 && d == DEV_CUDA, "cuda");
    if (!ops_backend_cuda()) {
        EXPECT(device_ready(DEV_CUDA) < 0 && strstr(rn_errmsg(), "make CUDA=1"), "%s", rn_errmsg());
    } else if (device_ready(DEV_CUDA) < 0) {
        EXPECT(strstr(rn_errmsg(), "device cuda") != NULL, "%s", rn_errmsg());
    }
}
