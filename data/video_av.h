/* video_av.h: video_source.c's FFmpeg backend (files, URLs, V4L2 cameras); callers use data/video_source.h. */
#pragma once
#include <stdbool.h>

#include "data/video_source.h"

typedef struct VideoAv VideoAv;

VideoAv *video_av_open(const char *spec, const VideoSourceOpts *o);
void video_av_close(VideoAv *a);
int video_av_next(VideoAv *a, VideoFrameInfo *info);
int video_av_pixels(VideoAv *a, Image *out);
int video_av_rewind(VideoAv *a);
void video_av_size(const VideoAv *a, int *w, int *h);
double video_av_fps(const VideoAv *a);
long video_av_frames(const VideoAv *a, bool *exact);
const char *video_av_name(const VideoAv *a);
long video_av_bad_packets(const VideoAv *a);
bool video_av_live(const VideoAv *a);
