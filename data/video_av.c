/* video_av.c: frames from a file, URL or V4L2 camera through libavformat/libavcodec, converted and resized to RGB by libswscale. */
#include "data/video_av.h"

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/err.h"
#include "util/progress.h"

struct VideoAv {
    char *spec, *name;            /* as given; its last path component (frame names) */
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream;
    AVRational tb;                /* the stream's time base */
    AVPacket *pkt;
    AVFrame *frame;               /* the current frame */
    bool primed;                  /* open decoded the first frame; next hands it out without decoding */
    bool flushed;                 /* the end of input was sent to the decoder */
    struct SwsContext *sws;
    int out_w, out_h;
    double fps, interval;
    int64_t ts0;                  /* the pass's first frame's timestamp (time base units) */
    bool have_ts0;
    double base;                  /* seconds added to this pass's times (passes before it, discontinuities) */
    double t_last;
    int index, frames_pass;       /* the current frame's number; frames decoded in this pass */
    long bad, bad_run;            /* refused packets: all, and in a row */
    double timeout, deadline;     /* a blocking call gives up past deadline (now_seconds) */
    volatile sig_atomic_t *stop;
    bool live;                    /* a camera or a stream that cannot seek: its end is no proof of damage */
    bool last_corrupt;            /* the last packet read was flagged corrupt (cut short) */
    char demux_err[160];          /* the demuxer's first error message (its log; "" = none) */
    VideoAv *next_open;           /* the registry of open readers (the log callback finds its reader there) */
};

/* ---- FFmpeg's log: errors of a reader's demuxer are kept as that reader's evidence of damage ---- */

static pthread_mutex_t g_open_lock = PTHREAD_MUTEX_INITIALIZER;
static VideoAv *g_open;           /* readers whose demuxer messages are watched */
static bool g_av_verbose;         /* RUNE_AV_LOG: FFmpeg's own lines on stderr too */

/* libavformat says a file "ended prematurely" (Matroska) or is a "partial file" (MP4) only in its log
 * and then reports a plain end of file; the reader keeps that line to refuse the file at its end. */
static void on_av_log(void *avcl, int level, const char *fmt, va_list vl) {
    if (g_av_verbose) {
        va_list c;
        va_copy(c, vl);
        av_log_default_callback(avcl, level, fmt, c);
        va_end(c);
    }
    if (level > AV_LOG_ERROR || !avcl) return;
    pthread_mutex_lock(&g_open_lock);
    for (VideoAv *a = g_open; a; a = a->next_open) {
        if (a->fmt != avcl || a->demux_err[0]) continue;
        vsnprintf(a->demux_err, sizeof a->demux_err, fmt, vl);
        a->demux_err[strcspn(a->demux_err, "\n")] = 0;
        break;
    }
    pthread_mutex_unlock(&g_open_lock);
}

static void watch(VideoAv *a, bool on) {
    pthread_mutex_lock(&g_open_lock);
    VideoAv **p = &g_open;
    while (*p && *p != a) p = &(*p)->next_open;
    if (on && !*p) a->next_open = g_open, g_open = a;
    if (!on && *p) *p = a->next_open;
    pthread_mutex_unlock(&g_open_lock);
}

/* libavformat calls this while it blocks (a camera or URL that sends nothing): 1 = give up. */
static int interrupted(void *p) {
    VideoAv *a = p;
    return (a->stop && *a->stop) || now_seconds() > a->deadline;
}

static void arm(VideoAv *a) { a->deadline = now_seconds() + a->timeout; }

static const char *av_err(int rc) {
    static __thread char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(rc, buf, sizeof buf);
    return buf;
}

/* An interrupted call returns AVERROR_EXIT: say which of the two reasons it was. */
static int fail_av(const VideoAv *a, const char *what, int rc) {
    if (rc == AVERROR_EXIT && a->stop && *a->stop) return rn_fail("%s: %s: stopped", a->spec, what);
    if (rc == AVERROR_EXIT) return rn_fail("%s: %s: nothing came for %g s", a->spec, what, a->timeout);
    if (a->demux_err[0]) return rn_fail("%s: %s: %s (libavformat: %s)", a->spec, what, av_err(rc), a->demux_err);
    return rn_fail("%s: %s: %s", a->spec, what, av_err(rc));
}

/* FFmpeg's own log lines carry no timestamp and repeat per bad packet; the reader reports errors
 * itself. RUNE_AV_LOG=1 shows them (diagnosing a camera or a stream). */
static void av_once(void) {
    g_av_verbose = getenv("RUNE_AV_LOG") && *getenv("RUNE_AV_LOG") && strcmp(getenv("RUNE_AV_LOG"), "0");
    av_log_set_level(g_av_verbose ? AV_LOG_INFO : AV_LOG_ERROR); /* errors still reach on_av_log */
    av_log_set_callback(on_av_log);
    avdevice_register_all();
    avformat_network_init();
}

static bool is_camera(const char *spec) { return !strncmp(spec, "/dev/video", 10); }

/* A plain path (not a URL, not a camera) that does not exist: said before libavformat's vaguer words. */
static int check_path(const char *spec) {
    struct stat st;
    if (strstr(spec, "://") || is_camera(spec)) return 0;
    if (stat(spec, &st) != 0) return rn_fail("%s: no such file", spec);
    if (!S_ISREG(st.st_mode)) return rn_fail("%s: not a regular file or a folder of frames", spec);
    return 0;
}

static int open_input(VideoAv *a) {
    const AVInputFormat *in = NULL;
    if (is_camera(a->spec)) {
        in = av_find_input_format("video4linux2");
        if (!in) return rn_fail("%s: this FFmpeg has no video4linux2 input (libavdevice)", a->spec);
    }
    a->fmt = avformat_alloc_context();
    if (!a->fmt) rn_die("out of memory");
    a->fmt->interrupt_callback = (AVIOInterruptCB){interrupted, a};
    watch(a, true);
    arm(a);
    int rc = avformat_open_input(&a->fmt, a->spec, in, NULL); /* frees fmt on failure */
    if (rc < 0) return fail_av(a, "cannot open", rc);
    arm(a);
    rc = avformat_find_stream_info(a->fmt, NULL);
    if (rc < 0) return fail_av(a, "cannot read the stream's parameters", rc);
    return 0;
}

static int open_decoder(VideoAv *a) {
    const AVCodec *codec = NULL;
    int s = av_find_best_stream(a->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (s == AVERROR_STREAM_NOT_FOUND) return rn_fail("%s: no video stream", a->spec);
    AVCodecParameters *par = a->fmt->streams[s < 0 ? 0 : s]->codecpar;
    if (s < 0 || !codec)
        return rn_fail("%s: no decoder for its video codec (%s)", a->spec, s < 0 ? av_err(s) : avcodec_get_name(par->codec_id));
    if ((long)par->width * par->height > IMAGE_MAX_PIXELS)
        return rn_fail("%s: %dx%d frames: more than %ld pixels", a->spec, par->width, par->height, (long)IMAGE_MAX_PIXELS);
    a->stream = s;
    a->tb = a->fmt->streams[s]->time_base;
    for (unsigned i = 0; i < a->fmt->nb_streams; i++) /* audio and subtitles are never read into memory */
        if ((int)i != s) a->fmt->streams[i]->discard = AVDISCARD_ALL;
    a->dec = avcodec_alloc_context3(codec);
    if (!a->dec || avcodec_parameters_to_context(a->dec, par) < 0) rn_die("out of memory");
    /* slice threads only: frame threads would hold back as many frames as threads (latency on a live source) */
    a->dec->thread_type = FF_THREAD_SLICE;
    int rc = avcodec_open2(a->dec, codec, NULL);
    if (rc < 0) return fail_av(a, "cannot open the decoder", rc);
    return 0;
}

/* The container's average rate, else its base rate, else the caller's. */
static void pick_rate(VideoAv *a, double fallback) {
    const AVStream *st = a->fmt->streams[a->stream];
    AVRational r = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
    double fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
    a->fps = fps > 0 && fps <= 1000 ? fps : (fallback > 0 ? fallback : 30);
    a->interval = 1 / a->fps;
}

/* The next packet of the video stream: 0, AVERROR_EOF at the end, or another error. */
static int read_packet(VideoAv *a) {
    for (;;) {
        arm(a);
        int rc = av_read_frame(a->fmt, a->pkt);
        if (rc < 0) return rc;
        if (a->pkt->stream_index == a->stream) {
            a->last_corrupt = a->pkt->flags & AV_PKT_FLAG_CORRUPT;
            return 0;
        }
        av_packet_unref(a->pkt);
    }
}

/* A packet the decoder refused: skipped and counted; too many in a row end the stream. */
static int refused_packet(VideoAv *a, int rc) {
    a->bad++;
    if (++a->bad_run < VIDEO_MAX_BAD) return 0;
    return rn_fail("%s: %d packets in a row undecodable (last: %s)", a->spec, VIDEO_MAX_BAD, av_err(rc));
}

/* The input ended. A file cut short (truncated, a recording that was killed) mostly ends like a
 * whole one: libavformat drops the partial packet (or flags it corrupt: decode refuses it) and logs
 * the damage. That is an error here, not an end: a caller counting frames must not take a broken
 * file for a short one. A live source's end proves nothing of the kind. */
static int input_ended(VideoAv *a, int rc) {
    if (rc != AVERROR_EOF) return fail_av(a, "reading", rc);
    if (a->fmt->pb && a->fmt->pb->error < 0) return fail_av(a, "reading", a->fmt->pb->error);
    if (!a->live && a->demux_err[0])
        return rn_fail("%s: truncated or damaged: \"%s\" (libavformat) after %d frames", a->spec, a->demux_err, a->frames_pass);
    avcodec_send_packet(a->dec, NULL); /* drain: frames still inside the decoder come out */
    a->flushed = true;
    return 0;
}

/* Decodes the next frame into a->frame: 1, 0 at the end, -1. */
static int decode(VideoAv *a) {
    for (;;) {
        int rc = avcodec_receive_frame(a->dec, a->frame);
        if (rc == 0) {
            a->bad_run = 0;
            return 1;
        }
        if (rc == AVERROR_EOF) return 0;
        if (rc != AVERROR(EAGAIN)) TRY(refused_packet(a, rc)); /* frame threads report a bad packet here */
        if (a->flushed) return 0;
        rc = read_packet(a);
        if (rc < 0) {
            TRY(input_ended(a, rc));
            continue;
        }
        if (!a->live && a->last_corrupt) { /* in a file, mostly a packet cut short: its pixels would be half a frame */
            av_packet_unref(a->pkt);
            return rn_fail("%s: truncated or damaged: a video packet is flagged corrupt, cut short (after %d frames)", a->spec,
                           a->frames_pass);
        }
        rc = avcodec_send_packet(a->dec, a->pkt);
        av_packet_unref(a->pkt);
        if (rc < 0 && rc != AVERROR(EAGAIN)) TRY(refused_packet(a, rc));
    }
}

/* The current frame's time from its timestamp. Timestamps that go backwards (a camera restarting, a
 * broken file) would make the caller's clock capture every later frame at once; they are re-based to
 * continue one interval after the frame before. A frame without a timestamp gets the same. */
static double frame_time(VideoAv *a) {
    int64_t ts = a->frame->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) return a->frames_pass ? a->t_last + a->interval : a->base;
    if (!a->have_ts0) {
        a->ts0 = ts, a->have_ts0 = true;
    }
    double t = a->base + (double)(ts - a->ts0) * av_q2d(a->tb);
    if (a->frames_pass && t < a->t_last) {
        a->base += a->t_last + a->interval - t;
        t = a->t_last + a->interval;
    }
    return t;
}

int video_av_next(VideoAv *a, VideoFrameInfo *info) {
    if (a->primed) a->primed = false;
    else {
        int rc = decode(a);
        if (rc <= 0) return rc;
    }
    double t = frame_time(a);
    a->t_last = t;
    a->index = a->frames_pass++;
    *info = (VideoFrameInfo){.index = a->index, .t = t};
    return 1;
}

/* Colours as the stream says: YUV->RGB coefficients of its colour space and its range (the
 * deprecated yuvj formats of MJPEG cameras mean full range), else swscale's default (BT.601). */
static void set_colorspace(VideoAv *a, const AVFrame *f) {
    bool full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P || f->format == AV_PIX_FMT_YUVJ422P ||
                f->format == AV_PIX_FMT_YUVJ444P;
    int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED || f->colorspace == AVCOL_SPC_RGB ? SWS_CS_DEFAULT : (int)f->colorspace;
    const int *coef = sws_getCoefficients(cs);
    sws_setColorspaceDetails(a->sws, coef, full, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
}

/* A stream may change size or format midway: the context follows the frame; the output size stays. */
static int make_sws(VideoAv *a, const AVFrame *f) {
    enum AVPixelFormat in = f->format;
    if (in == AV_PIX_FMT_YUVJ420P) in = AV_PIX_FMT_YUV420P; /* same layout; the range is set below */
    else if (in == AV_PIX_FMT_YUVJ422P) in = AV_PIX_FMT_YUV422P;
    else if (in == AV_PIX_FMT_YUVJ444P) in = AV_PIX_FMT_YUV444P;
    a->sws = sws_getCachedContext(a->sws, f->width, f->height, in, a->out_w, a->out_h, AV_PIX_FMT_RGB24,
                                  SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    if (!a->sws)
        return rn_fail("%s: frame %d: cannot convert %dx%d %s to RGB", a->spec, a->index, f->width, f->height,
                       av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "(unknown format)");
    set_colorspace(a, f);
    return 0;
}

int video_av_pixels(VideoAv *a, Image *out) {
    const AVFrame *f = a->frame;
    if ((long)f->width * f->height > IMAGE_MAX_PIXELS || f->width <= 0 || f->height <= 0)
        return rn_fail("%s: frame %d: %dx%d pixels", a->spec, a->index, f->width, f->height);
    TRY(make_sws(a, f));
    *out = image_alloc(a->out_w, a->out_h, 3);
    uint8_t *dst[4] = {out->px};
    int stride[4] = {3 * a->out_w};
    int rows = sws_scale(a->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
    if (rows != a->out_h) {
        image_free(out);
        return rn_fail("%s: frame %d: conversion to RGB failed", a->spec, a->index);
    }
    return 0;
}

/* Output size: the one asked for, else the decoder's. */
static int pick_size(VideoAv *a, const VideoSourceOpts *o) {
    a->out_w = o->w > 0 ? o->w : a->frame->width;
    a->out_h = o->h > 0 ? o->h : a->frame->height;
    if (a->out_w <= 0 || a->out_h <= 0 || (long)a->out_w * a->out_h > IMAGE_MAX_PIXELS)
        return rn_fail("%s: output size %dx%d", a->spec, a->out_w, a->out_h);
    return 0;
}

/* Decodes the first frame at open, so that a file with nothing decodable is refused before any
 * work and the output size is the real one (some containers state none). */
static int prime(VideoAv *a, const VideoSourceOpts *o) {
    int rc = decode(a);
    if (rc < 0) return -1;
    if (rc == 0) return rn_fail("%s: no decodable video frame", a->spec);
    a->primed = true;
    return pick_size(a, o);
}

/* Cameras and live streams cannot seek; a file can. */
static bool seekable(const VideoAv *a) {
    return !(a->fmt->iformat->flags & AVFMT_NOFILE) && a->fmt->pb && (a->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL);
}

VideoAv *video_av_open(const char *spec, const VideoSourceOpts *o) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, av_once);
    if (check_path(spec) < 0) return NULL;
    VideoAv *a = xcalloc(1, sizeof *a);
    a->spec = xstrdup(spec);
    const char *b = strrchr(spec, '/');
    a->name = xstrdup(b && b[1] ? b + 1 : spec);
    a->timeout = o->timeout_s > 0 ? o->timeout_s : VIDEO_TIMEOUT_S;
    a->stop = o->stop;
    a->pkt = av_packet_alloc();
    a->frame = av_frame_alloc();
    if (!a->pkt || !a->frame) rn_die("out of memory");
    if (open_input(a) < 0 || open_decoder(a) < 0) goto fail;
    a->live = !seekable(a);
    pick_rate(a, o->fps);
    if (prime(a, o) < 0) goto fail;
    return a;
fail:
    video_av_close(a);
    return NULL;
}

void video_av_close(VideoAv *a) {
    if (!a) return;
    watch(a, false);
    sws_freeContext(a->sws);
    avcodec_free_context(&a->dec);
    avformat_close_input(&a->fmt);
    av_packet_free(&a->pkt);
    av_frame_free(&a->frame);
    free(a->spec), free(a->name);
    free(a);
}

int video_av_rewind(VideoAv *a) {
    if (!seekable(a)) return rn_fail("%s: cannot start over (not a seekable file)", a->spec);
    const AVStream *st = a->fmt->streams[a->stream];
    arm(a);
    int rc = av_seek_frame(a->fmt, a->stream, st->start_time != AV_NOPTS_VALUE ? st->start_time : 0, AVSEEK_FLAG_BACKWARD);
    if (rc < 0) return fail_av(a, "seeking to the start", rc);
    avcodec_flush_buffers(a->dec);
    a->flushed = a->primed = a->have_ts0 = false;
    a->base = a->t_last + a->interval; /* the next pass starts one interval after this one's last frame */
    a->frames_pass = 0;
    return 0;
}

void video_av_size(const VideoAv *a, int *w, int *h) { *w = a->out_w, *h = a->out_h; }
double video_av_fps(const VideoAv *a) { return a->fps; }
const char *video_av_name(const VideoAv *a) { return a->name; }
long video_av_bad_packets(const VideoAv *a) { return a->bad; }
bool video_av_live(const VideoAv *a) { return a->live; }

long video_av_frames(const VideoAv *a, bool *exact) {
    const AVStream *st = a->fmt->streams[a->stream];
    *exact = st->nb_frames > 0;
    if (st->nb_frames > 0) return (long)st->nb_frames;
    double secs = st->duration != AV_NOPTS_VALUE     ? (double)st->duration * av_q2d(st->time_base)
                  : a->fmt->duration != AV_NOPTS_VALUE ? (double)a->fmt->duration / AV_TIME_BASE
                                                        : -1;
    return secs > 0 ? lround(secs * a->fps) : -1;
}
