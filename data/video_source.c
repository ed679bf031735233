/* video_source.c: one door for frames in time order — a folder or dataset (frame k at k / fps) or a video through video_av.c. */
#include "data/video_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/resize.h"
#include "data/video_av.h"
#include "util/err.h"

struct VideoSource {
    VideoAv *av;          /* a video; NULL for a folder or dataset */
    Dataset ds;           /* a folder or dataset: samples order[0..n) */
    int *order, n;
    int pos, cur;         /* the next position in order; the current sample's index */
    double fps, base;     /* frame rate; seconds of the passes before this one */
    int req_w, req_h;     /* the size asked for (0 = each frame's own) */
    int w, h;             /* the size frames come out at (the first frame's when none was asked) */
};

static int check_opts(const VideoSourceOpts *o) {
    if (o->w < 0 || o->h < 0 || (o->w > 0) != (o->h > 0)) return rn_fail("frame size %dx%d: give both sides > 0", o->w, o->h);
    if ((long)o->w * o->h > IMAGE_MAX_PIXELS) return rn_fail("frame size %dx%d: more than %ld pixels", o->w, o->h, (long)IMAGE_MAX_PIXELS);
    if (!(o->fps > 0 && o->fps <= 1000)) return rn_fail("frame rate %g: must be in (0, 1000]", o->fps);
    return 0;
}

/* The output size of a folder: the one asked for, else the first frame's (loaded once, as the edge
 * needs it for its HELLO before the clock starts, and a folder whose first frame is unreadable
 * fails at open). */
static int dataset_size(VideoSource *v) {
    if (v->req_w > 0) {
        v->w = v->req_w, v->h = v->req_h;
        return 0;
    }
    Image first;
    TRY(dataset_load_frame(&v->ds, v->order[0], &first));
    v->w = first.w, v->h = first.h;
    image_free(&first);
    return 0;
}

VideoSource *video_source_from_dataset(Dataset *ds, int *order, int n, const VideoSourceOpts *o) {
    VideoSource *v = xcalloc(1, sizeof *v);
    v->ds = *ds, v->order = order, v->n = n;
    *ds = (Dataset){0};
    v->fps = o->fps, v->req_w = o->w, v->req_h = o->h;
    int rc = check_opts(o);
    if (rc == 0 && n <= 0) rc = rn_fail("%s: no frames", v->ds.name ? v->ds.name : "dataset");
    if (rc == 0) rc = dataset_size(v);
    if (rc < 0) {
        video_source_close(v);
        return NULL;
    }
    return v;
}

/* A folder: every frame of dataset_open's "frames" kind, in its order. */
static VideoSource *open_folder(const char *dir, const VideoSourceOpts *o) {
    Dataset ds;
    if (dataset_open("frames", dir, NULL, &ds) < 0) return NULL;
    int *order = xmalloc((size_t)(ds.n ? ds.n : 1) * sizeof *order);
    for (int i = 0; i < ds.n; i++) order[i] = i;
    return video_source_from_dataset(&ds, order, ds.n, o);
}

VideoSource *video_source_open(const char *spec, const VideoSourceOpts *o) {
    if (!spec || !*spec) {
        rn_fail("no source given");
        return NULL;
    }
    if (check_opts(o) < 0) return NULL;
    if (is_dir(spec)) return open_folder(spec, o);
    VideoAv *av = video_av_open(spec, o);
    if (!av) return NULL;
    VideoSource *v = xcalloc(1, sizeof *v);
    v->av = av;
    video_av_size(av, &v->w, &v->h);
    v->req_w = o->w, v->req_h = o->h;
    v->fps = video_av_fps(av);
    return v;
}

void video_source_close(VideoSource *v) {
    if (!v) return;
    video_av_close(v->av);
    if (v->ds.samples) dataset_free(&v->ds);
    free(v->order);
    free(v);
}

int video_source_next(VideoSource *v, VideoFrameInfo *info) {
    if (v->av) return video_av_next(v->av, info);
    if (v->pos >= v->n) return 0;
    v->cur = v->order[v->pos];
    *info = (VideoFrameInfo){.index = v->cur, .t = v->base + v->pos / v->fps};
    v->pos++;
    return 1;
}

/* A folder's frame, resized (the project's MATLAB bicubic, as degrade.c downscales) when a size was asked. */
static int folder_pixels(VideoSource *v, Image *out) {
    TRY(dataset_load_frame(&v->ds, v->cur, out));
    if (v->req_w <= 0 || (out->w == v->req_w && out->h == v->req_h)) return 0;
    Image r = resize_bicubic(out, v->req_w, v->req_h);
    image_free(out);
    *out = r;
    return 0;
}

int video_source_pixels(VideoSource *v, Image *out) {
    if (v->av) return video_av_pixels(v->av, out);
    if (v->pos == 0) return rn_fail("%s: no current frame (video_source_next first)", v->ds.name);
    return folder_pixels(v, out);
}

int video_source_rewind(VideoSource *v) {
    if (v->av) return video_av_rewind(v->av);
    v->base += v->pos / v->fps; /* the next pass starts one interval after this one's last frame */
    v->pos = 0;
    return 0;
}

void video_source_size(const VideoSource *v, int *w, int *h) { *w = v->w, *h = v->h; }
double video_source_fps(const VideoSource *v) { return v->fps; }
bool video_source_is_dataset(const VideoSource *v) { return !v->av; }
bool video_source_live(const VideoSource *v) { return v->av && video_av_live(v->av); }
long video_source_bad_packets(const VideoSource *v) { return v->av ? video_av_bad_packets(v->av) : 0; }

long video_source_frames(const VideoSource *v, bool *exact) {
    if (v->av) return video_av_frames(v->av, exact);
    *exact = true;
    return v->n;
}

void video_source_frame_name(const VideoSource *v, int index, char *buf, size_t cap) {
    if (v->av) {
        snprintf(buf, cap, "%s#%d", video_av_name(v->av), index);
        return;
    }
    const char *p = index >= 0 && index < v->ds.n ? v->ds.samples[index].frame : "";
    const char *b = strrchr(p, '/');
    snprintf(buf, cap, "%s", b ? b + 1 : p);
}
