/* video_av_none.c: video_av.h for a build without FFmpeg (make VIDEO=0): every video is refused, frame folders still play. */
#include "data/video_av.h"

#include "util/err.h"

VideoAv *video_av_open(const char *spec, const VideoSourceOpts *o) {
    (void)o;
    rn_fail("%s: this rune was built without FFmpeg's libraries (make VIDEO=0): only a folder of frames can be played", spec);
    return NULL;
}

/* No VideoAv is ever made, so nothing below is reached; they exist for the linker. */
void video_av_close(VideoAv *a) { (void)a; }
int video_av_next(VideoAv *a, VideoFrameInfo *info) { return (void)a, (void)info, rn_fail("no video support"); }
int video_av_pixels(VideoAv *a, Image *out) { return (void)a, (void)out, rn_fail("no video support"); }
int video_av_rewind(VideoAv *a) { return (void)a, rn_fail("no video support"); }
void video_av_size(const VideoAv *a, int *w, int *h) { (void)a, *w = *h = 0; }
double video_av_fps(const VideoAv *a) { return (void)a, 0; }
long video_av_frames(const VideoAv *a, bool *exact) { return (void)a, *exact = false, -1; }
const char *video_av_name(const VideoAv *a) { return (void)a, ""; }
long video_av_bad_packets(const VideoAv *a) { return (void)a, 0; }
bool video_av_live(const VideoAv *a) { return (void)a, false; }
