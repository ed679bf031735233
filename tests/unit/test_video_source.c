/* test_video_source.c: data/video_source on videos made here from the sample frames (FFV1 pixel-exact, MPEG-4 resized), a folder, and files it must refuse. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/resize.h"
#include "data/video_source.h"
#include "tests/test.h"
#include "tests/video_fixture.h"
#include "util/err.h"

#define FPS 10
#define NFRAMES 8 /* the 4 samples twice: more frames than samples, so a dropped or repeated frame shows */

static const char *g_dir;

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    if (!g_dir) g_dir = test_temp_dir("video");
    snprintf(p, 512, "%s/%s", g_dir, name);
    return p;
}

/* NAME in the scratch folder holding NFRAMES sample frames encoded with CODEC at FPS. */
static const char *make_video(const char *name, const char *codec, Image *frames) {
    const char *path = tmp_path(name);
    if (video_fixture_write(path, codec, frames, VIDEO_FIXTURE_SAMPLES, NFRAMES, FPS) < 0) SKIP(rn_errmsg());
    return path;
}

static VideoSourceOpts opts(int w, int h) { return (VideoSourceOpts){.w = w, .h = h, .fps = 30}; }

static void free_samples(Image *frames) {
    for (int i = 0; i < VIDEO_FIXTURE_SAMPLES; i++) image_free(&frames[i]);
}

/* Peak signal-to-noise ratio of b against a (same size), in dB. */
static double psnr(const Image *a, const Image *b) {
    double se = 0;
    size_t n = (size_t)a->w * a->h * a->c;
    for (size_t i = 0; i < n; i++) se += ((double)a->px[i] - b->px[i]) * ((double)a->px[i] - b->px[i]);
    return se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 / (se / (double)n));
}

/* Lossless FFV1 in Matroska: every frame back in order, same size, same pixels, at its encoded time. */
TEST(video_source_ffv1_frame_exact) {
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) return;
    const char *path = make_video("clip.mkv", "ffv1", fr);
    VideoSourceOpts o = opts(0, 0);
    VideoSource *v = video_source_open(path, &o);
    EXPECT(v, "%s", rn_errmsg());
    if (!v) return;
    int w, h;
    video_source_size(v, &w, &h);
    EXPECT(w == 480 && h == 360, "size %dx%d", w, h);
    EXPECT_NEAR(video_source_fps(v), FPS, 1e-9);
    EXPECT(!video_source_is_dataset(v));
    VideoFrameInfo fi;
    int n = 0, rc;
    while ((rc = video_source_next(v, &fi)) == 1) {
        EXPECT(fi.index == n, "frame %d has index %d", n, fi.index);
        EXPECT_NEAR(fi.t, (double)n / FPS, 1e-6);
        Image im;
        EXPECT(video_source_pixels(v, &im) == 0, "%s", rn_errmsg());
        const Image *ref = &fr[n % VIDEO_FIXTURE_SAMPLES];
        EXPECT(im.w == ref->w && im.h == ref->h && im.c == 3, "frame %d: %dx%dx%d", n, im.w, im.h, im.c);
        if (im.w == ref->w && im.h == ref->h)
            EXPECT(!memcmp(im.px, ref->px, (size_t)im.w * im.h * 3), "frame %d: pixels differ (PSNR %.1f dB)", n, psnr(ref, &im));
        image_free(&im);
        n++;
    }
    EXPECT(rc == 0, "end of stream, not an error: %s", rn_errmsg());
    EXPECT(n == NFRAMES, "%d frames read, %d written", n, NFRAMES);
    EXPECT(video_source_next(v, &fi) == 0, "the end stays the end");
    EXPECT(video_source_bad_packets(v) == 0);
    bool exact;
    EXPECT(video_source_frames(v, &exact) == NFRAMES, "Matroska states its duration: %ld frames estimated",
           video_source_frames(v, &exact));
    video_source_close(v);
    free_samples(fr);
}

/* MPEG-4 part 2 in AVI (which states its frame count) resized on the way out: every frame, at the
 * size asked for, close to the bicubic resize of its own sample frame and not to the next one's. */
TEST(video_source_mpeg4_resized) {
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) return;
    const char *path = make_video("clip.avi", "mpeg4", fr);
    VideoSourceOpts o = opts(240, 180);
    VideoSource *v = video_source_open(path, &o);
    EXPECT(v, "%s", rn_errmsg());
    if (!v) return;
    int w, h;
    video_source_size(v, &w, &h);
    EXPECT(w == 240 && h == 180, "size %dx%d", w, h);
    bool exact;
    EXPECT(video_source_frames(v, &exact) == NFRAMES && exact, "AVI's header says %d frames", NFRAMES);
    Image small[VIDEO_FIXTURE_SAMPLES];
    for (int i = 0; i < VIDEO_FIXTURE_SAMPLES; i++) small[i] = resize_bicubic(&fr[i], 240, 180);
    VideoFrameInfo fi;
    int n = 0;
    while (video_source_next(v, &fi) == 1) {
        Image im;
        EXPECT(video_source_pixels(v, &im) == 0, "%s", rn_errmsg());
        EXPECT(im.w == 240 && im.h == 180, "frame %d: %dx%d", n, im.w, im.h);
        if (im.w == 240 && im.h == 180) {
            double own = psnr(&small[n % VIDEO_FIXTURE_SAMPLES], &im), other = psnr(&small[(n + 1) % VIDEO_FIXTURE_SAMPLES], &im);
            EXPECT(own > 30 && other < own - 5, "frame %d: PSNR %.1f dB to its own frame, %.1f to the next", n, own, other);
        }
        image_free(&im);
        n++;
    }
    EXPECT(n == NFRAMES, "%d frames read, %d written", n, NFRAMES);
    for (int i = 0; i < VIDEO_FIXTURE_SAMPLES; i++) image_free(&small[i]);
    video_source_close(v);
    free_samples(fr);
}

/* H.264 with B-frames in MP4, as a phone or dashcam writes it: the decoder outputs frames in display
 * order, not the order they are stored in; every frame comes back once, in order, at its time. */
TEST(video_source_h264_bframes_in_display_order) {
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) return;
    const char *path = make_video("clip.mp4", "libx264", fr);
    VideoSourceOpts o = opts(0, 0);
    VideoSource *v = video_source_open(path, &o);
    EXPECT(v, "%s", rn_errmsg());
    if (!v) return;
    bool exact;
    EXPECT(video_source_frames(v, &exact) == NFRAMES && exact, "MP4 states %d frames", NFRAMES);
    VideoFrameInfo fi;
    int n = 0;
    while (video_source_next(v, &fi) == 1) {
        EXPECT(fi.index == n, "index %d at frame %d", fi.index, n);
        EXPECT_NEAR(fi.t, (double)n / FPS, 1e-6);
        Image im;
        EXPECT(video_source_pixels(v, &im) == 0, "%s", rn_errmsg());
        if (im.w == 480 && im.h == 360) {
            double own = psnr(&fr[n % VIDEO_FIXTURE_SAMPLES], &im), other = psnr(&fr[(n + 1) % VIDEO_FIXTURE_SAMPLES], &im);
            EXPECT(own > 30 && other < own - 5, "frame %d: PSNR %.1f dB to its own frame, %.1f to the next", n, own, other);
        } else EXPECT(0, "frame %d: %dx%d", n, im.w, im.h);
        image_free(&im);
        n++;
    }
    EXPECT(n == NFRAMES, "%d frames read, %d written", n, NFRAMES);
    video_source_close(v);
    free_samples(fr);
}

/* --loop: after the end the source starts over at frame 0, its times going on one interval after
 * the last frame (a pass of 8 frames at 10 fps lasts 0.8 s). */
TEST(video_source_rewind_continues_the_clock) {
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) return;
    const char *path = make_video("clip.mkv", "ffv1", fr);
    VideoSourceOpts o = opts(0, 0);
    VideoSource *v = video_source_open(path, &o);
    EXPECT(v, "%s", rn_errmsg());
    if (!v) return;
    VideoFrameInfo fi;
    for (int pass = 0; pass < 2; pass++) {
        int n = 0;
        while (video_source_next(v, &fi) == 1) {
            EXPECT(fi.index == n, "pass %d: index %d at frame %d", pass, fi.index, n);
            EXPECT_NEAR(fi.t, pass * 0.8 + (double)n / FPS, 1e-6);
            n++;
        }
        EXPECT(n == NFRAMES, "pass %d: %d frames", pass, n);
        EXPECT(video_source_rewind(v) == 0, "%s", rn_errmsg());
    }
    video_source_close(v);
    free_samples(fr);
}

/* A folder (the PNG-frames path): samples by index, frame k at k / fps, pixels as the dataset loads
 * them, and resized when a size is asked. */
TEST(video_source_folder) {
    VideoSourceOpts o = opts(0, 0);
    o.fps = 4;
    VideoSource *v = video_source_open("data/samples/camvid", &o);
    EXPECT(v, "%s", rn_errmsg());
    if (!v) return;
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) return;
    EXPECT(video_source_is_dataset(v));
    bool exact;
    EXPECT(video_source_frames(v, &exact) == VIDEO_FIXTURE_SAMPLES && exact);
    VideoFrameInfo fi;
    int n = 0;
    while (video_source_next(v, &fi) == 1) {
        EXPECT(fi.index == n, "index %d at frame %d", fi.index, n);
        EXPECT_NEAR(fi.t, n / 4.0, 1e-12);
        Image im;
        EXPECT(video_source_pixels(v, &im) == 0, "%s", rn_errmsg());
        EXPECT(im.w == fr[n].w && im.h == fr[n].h && !memcmp(im.px, fr[n].px, (size_t)im.w * im.h * 3), "frame %d", n);
        image_free(&im);
        n++;
    }
    EXPECT(n == VIDEO_FIXTURE_SAMPLES, "%d frames", n);
    char name[64];
    video_source_frame_name(v, 1, name, sizeof name);
    EXPECT(!strcmp(name, "Seq05VD_f00030.png"), "frame 1 is named %s", name);
    video_source_close(v);

    o.w = 120, o.h = 90;
    v = video_source_open("data/samples/camvid", &o);
    EXPECT(v && video_source_next(v, &fi) == 1, "%s", rn_errmsg());
    Image im = {0}, ref = resize_bicubic(&fr[0], 120, 90);
    EXPECT(v && video_source_pixels(v, &im) == 0 && im.w == 120 && im.h == 90 && !memcmp(im.px, ref.px, (size_t)120 * 90 * 3),
           "resized with the project's bicubic");
    image_free(&im), image_free(&ref);
    video_source_close(v);
    free_samples(fr);
}

/* ---------------- what must be refused: an error naming the file, never a crash ---------------- */

/* Frames until the source ends; -1 when it ended with an error. */
static int read_all(VideoSource *v, int *n) {
    VideoFrameInfo fi;
    int rc;
    *n = 0;
    while ((rc = video_source_next(v, &fi)) == 1) {
        Image im;
        if (video_source_pixels(v, &im) < 0) return -1;
        image_free(&im);
        (*n)++;
    }
    return rc;
}

/* Opens path and reads it to the end: true when it was refused (at open or at the cut) with a
 * message holding `why` and the file's name. */
static bool refused(const char *path, const char *why) {
    VideoSourceOpts o = opts(0, 0);
    VideoSource *v = video_source_open(path, &o);
    int n = 0, rc = v ? read_all(v, &n) : -1;
    video_source_close(v);
    const char *msg = rn_errmsg();
    bool ok = rc < 0 && strstr(msg, path) && strstr(msg, why);
    if (!ok) test_fail_at(__FILE__, __LINE__, "%s: %d frames, rc %d, message \"%s\" (wanted \"%s\")", path, n, rc, msg, why);
    return ok;
}

/* A file cut short (Matroska: libavformat only logs the damage; AVI: the last packet flagged corrupt)
 * is an error, never a shorter video; a file cut inside its header fails at open. */
TEST(video_source_truncated_refused) {
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) return;
    const char *names[] = {"clip.mkv", "clip.avi"}, *codecs[] = {"ffv1", "mpeg4"};
    for (int i = 0; i < 2; i++) {
        const char *path = make_video(names[i], codecs[i], fr);
        long size = video_fixture_size(path);
        EXPECT(video_fixture_truncate(path, size * 6 / 10) == 0, "%s", rn_errmsg());
        refused(path, "truncated or damaged");
        EXPECT(video_fixture_truncate(path, 300) == 0, "%s", rn_errmsg());
        refused(path, path);
    }
    free_samples(fr);
}

/* Bytes that are no video at all, and a valid header followed by garbage. */
TEST(video_source_garbage_refused) {
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) return;
    const char *path = make_video("clip.mkv", "ffv1", fr);
    long size = video_fixture_size(path);
    FILE *f = fopen(path, "r+b");
    EXPECT(f && fseek(f, 2048, SEEK_SET) == 0, "cannot rewrite %s", path);
    if (!f) return;
    unsigned x = 12345;
    for (long i = 2048; i < size; i++) fputc((int)((x = x * 1103515245u + 12345u) >> 24), f);
    fclose(f);
    refused(path, path);
    const char *junk = tmp_path("junk.mp4");
    f = fopen(junk, "wb");
    EXPECT(f, "cannot write %s", junk);
    if (!f) return;
    for (int i = 0; i < 100000; i++) fputc((int)((x = x * 1103515245u + 12345u) >> 24), f);
    fclose(f);
    refused(junk, "cannot open");
    free_samples(fr);
}

TEST(video_source_missing_file) {
    refused("no/such/clip.mkv", "no such file");
    VideoSourceOpts o = opts(0, 0);
    EXPECT(!video_source_open("", &o), "an empty source");
}

/* A 16-bit mono WAV: libavformat opens it, and it has no video stream. */
TEST(video_source_no_video_stream) {
    const char *path = tmp_path("tone.wav");
    FILE *f = fopen(path, "wb");
    EXPECT(f, "cannot write %s", path);
    if (!f) return;
    const int rate = 8000, n = 800;
    uint32_t u32[] = {36 + 2 * n, 16, 0x10001, rate, 2 * rate, 0x100002, 2 * n};
    fwrite("RIFF", 1, 4, f), fwrite(&u32[0], 4, 1, f), fwrite("WAVEfmt ", 1, 8, f);
    fwrite(&u32[1], 4, 5, f), fwrite("data", 1, 4, f), fwrite(&u32[6], 4, 1, f);
    for (int i = 0; i < n; i++) {
        int16_t s = (int16_t)(8000 * sin(i * 0.3));
        fwrite(&s, 2, 1, f);
    }
    fclose(f);
    refused(path, "no video stream");
}

/* A size with one side, a rate out of range: refused before anything is opened (a folder or a video). */
TEST(video_source_bad_options) {
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) return;
    const char *srcs[] = {"data/samples/camvid", make_video("clip.mkv", "ffv1", fr)};
    for (int i = 0; i < 2; i++) {
        VideoSourceOpts o = opts(320, 0);
        EXPECT(!video_source_open(srcs[i], &o) && strstr(rn_errmsg(), "320x0"), "%s: %s", srcs[i], rn_errmsg());
        o = opts(0, 0);
        o.fps = 0;
        EXPECT(!video_source_open(srcs[i], &o) && strstr(rn_errmsg(), "frame rate"), "%s: %s", srcs[i], rn_errmsg());
    }
    free_samples(fr);
}
