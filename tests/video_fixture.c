/* video_fixture.c: encodes the sample frames into a video file with libavcodec/libavformat for the video-source tests. */
#include "tests/video_fixture.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "tests/test.h"
#include "util/err.h"

int video_fixture_samples(Image frames[VIDEO_FIXTURE_SAMPLES]) {
    Dataset ds;
    if (dataset_open("frames", "data/samples/camvid", NULL, &ds) < 0 || ds.n != VIDEO_FIXTURE_SAMPLES) {
        test_fail_at(__FILE__, __LINE__, "the sample frames: %s", rn_errmsg());
        return 0;
    }
    for (int i = 0; i < ds.n; i++)
        if (dataset_load_frame(&ds, i, &frames[i]) < 0) test_fail_at(__FILE__, __LINE__, "%s", rn_errmsg());
    dataset_free(&ds);
    return VIDEO_FIXTURE_SAMPLES;
}

typedef struct Writer {
    AVFormatContext *oc;
    AVCodecContext *c;
    AVStream *st;
    AVFrame *f;
    AVPacket *pkt;
    struct SwsContext *sws;
} Writer;

static int fail_av(const char *what, int rc) {
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(rc, buf, sizeof buf);
    return rn_fail("video fixture: %s: %s", what, buf);
}

/* The encoder: FFV1 on 8-bit RGB (bgr0) is lossless; MPEG-4 intra-only so every frame stands alone;
 * libx264 as a phone or camera writes it, B-frames included (decode order differs from display order). */
static int open_encoder(Writer *w, const char *codec, int width, int height, int fps) {
    const AVCodec *enc = avcodec_find_encoder_by_name(codec);
    if (!enc) return rn_fail("video fixture: no encoder %s in this libavcodec", codec);
    w->c = avcodec_alloc_context3(enc);
    w->c->width = width, w->c->height = height;
    w->c->time_base = (AVRational){1, fps};
    w->c->framerate = (AVRational){fps, 1};
    bool ffv1 = !strcmp(codec, "ffv1");
    w->c->pix_fmt = ffv1 ? AV_PIX_FMT_BGR0 : AV_PIX_FMT_YUV420P;
    if (!strcmp(codec, "mpeg4")) {
        w->c->gop_size = 1, w->c->max_b_frames = 0;
        w->c->flags |= AV_CODEC_FLAG_QSCALE;
        w->c->global_quality = FF_QP2LAMBDA * 2;
    } else if (!strcmp(codec, "libx264")) {
        w->c->gop_size = 4, w->c->max_b_frames = 2;
        av_opt_set(w->c->priv_data, "preset", "veryfast", 0);
        av_opt_set(w->c->priv_data, "crf", "18", 0);
        av_opt_set(w->c->priv_data, "x264-params", "b-adapt=0:scenecut=0", 0); /* B-frames always, not when x264 sees fit */
    }
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER) w->c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int rc = avcodec_open2(w->c, enc, NULL);
    if (rc < 0) return fail_av("opening the encoder", rc);
    w->st = avformat_new_stream(w->oc, NULL);
    w->st->time_base = w->c->time_base;
    w->st->avg_frame_rate = w->c->framerate;
    return avcodec_parameters_from_context(w->st->codecpar, w->c) < 0 ? rn_fail("video fixture: codec parameters") : 0;
}

/* Every packet the encoder has ready goes to the file. */
static int drain(Writer *w) {
    for (;;) {
        int rc = avcodec_receive_packet(w->c, w->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
        if (rc < 0) return fail_av("encoding", rc);
        av_packet_rescale_ts(w->pkt, w->c->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        rc = av_interleaved_write_frame(w->oc, w->pkt);
        if (rc < 0) return fail_av("writing", rc);
    }
}

static int put_frame(Writer *w, const Image *im, int64_t pts) {
    if (av_frame_make_writable(w->f) < 0) return rn_fail("video fixture: frame buffer");
    const uint8_t *src[4] = {im->px};
    int stride[4] = {3 * im->w};
    sws_scale(w->sws, src, stride, 0, im->h, w->f->data, w->f->linesize);
    w->f->pts = pts;
    int rc = avcodec_send_frame(w->c, w->f);
    if (rc < 0) return fail_av("sending a frame", rc);
    return drain(w);
}

static int open_writer(Writer *w, const char *path, const char *codec, const Image *im, int fps) {
    int rc = avformat_alloc_output_context2(&w->oc, NULL, NULL, path);
    if (rc < 0) return fail_av(path, rc);
    TRY(open_encoder(w, codec, im->w, im->h, fps));
    rc = avio_open(&w->oc->pb, path, AVIO_FLAG_WRITE);
    if (rc < 0) return fail_av(path, rc);
    rc = avformat_write_header(w->oc, NULL);
    if (rc < 0) return fail_av("writing the header", rc);
    w->f = av_frame_alloc();
    w->f->format = w->c->pix_fmt, w->f->width = im->w, w->f->height = im->h;
    if (av_frame_get_buffer(w->f, 0) < 0) return rn_fail("video fixture: frame buffer");
    w->pkt = av_packet_alloc();
    w->sws = sws_getContext(im->w, im->h, AV_PIX_FMT_RGB24, im->w, im->h, w->c->pix_fmt, SWS_BICUBIC | SWS_ACCURATE_RND, NULL,
                            NULL, NULL);
    return w->sws ? 0 : rn_fail("video fixture: no RGB -> %s conversion", codec);
}

static void close_writer(Writer *w) {
    if (w->oc && w->oc->pb) avio_closep(&w->oc->pb);
    avformat_free_context(w->oc);
    avcodec_free_context(&w->c);
    av_frame_free(&w->f);
    av_packet_free(&w->pkt);
    sws_freeContext(w->sws);
}

int video_fixture_write(const char *path, const char *codec, const Image *frames, int nsrc, int n, int fps) {
    av_log_set_level(AV_LOG_ERROR); /* libx264's statistics are not the test's output */
    Writer w = {0};
    int rc = open_writer(&w, path, codec, &frames[0], fps);
    for (int k = 0; k < n && rc == 0; k++) rc = put_frame(&w, &frames[k % nsrc], k);
    if (rc == 0) {
        avcodec_send_frame(w.c, NULL); /* flush the encoder */
        rc = drain(&w);
    }
    if (rc == 0 && av_write_trailer(w.oc) < 0) rc = rn_fail("video fixture: writing the trailer");
    close_writer(&w);
    return rc;
}

int video_fixture_truncate(const char *path, long keep) { return truncate(path, keep) == 0 ? 0 : rn_fail("%s: truncate", path); }

long video_fixture_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}
