/* video_source.h: frames in time order from a video file, a stream URL, a V4L2 camera (FFmpeg's libraries) or a folder of frames. */
#pragma once
#include <signal.h>
#include <stdbool.h>

#include "data/dataset.h"
#include "data/image.h"

/* A source is read in two steps so that a caller pacing frames by their time need not pay for
 * pixels it will not use: video_source_next advances to the next frame and says its number and
 * time; video_source_pixels gives that frame as 8-bit RGB. A folder loads its image file only in
 * video_source_pixels; a video decodes in video_source_next (it must, to learn the time) and
 * converts the pixels (libswscale) only in video_source_pixels.
 *
 * Errors (-1 with rn_errmsg() naming the source): a missing file, no video stream, nothing
 * decodable, a stream that breaks off (a truncated file), a camera or URL silent for timeout_s. A
 * packet the decoder refuses is skipped and counted (live streams lose packets); VIDEO_MAX_BAD of
 * them in a row is an error. Nothing in a file, however corrupt, is meant to crash the reader. */

#define VIDEO_MAX_BAD 32          /* packets in a row the decoder refuses before the stream is called undecodable */
#define VIDEO_TIMEOUT_S 10.0      /* default: a blocking open or read gives up after this many seconds */

typedef struct VideoSourceOpts {
    int w, h;                     /* frames resized to w x h (0 x 0 = the source's own size) */
    double fps;                   /* a folder's frame rate (frame k at k / fps); a video's when it states none */
    double timeout_s;             /* 0 = VIDEO_TIMEOUT_S */
    volatile sig_atomic_t *stop;  /* when set and non-zero, a blocking open or read gives up (SIGINT) */
} VideoSourceOpts;

/* The current frame: its number and time. */
typedef struct VideoFrameInfo {
    int index;                    /* a folder or dataset: the sample's index; a video: the frame's number (0, 1, ...) */
    double t;                     /* presentation time in seconds from the source's first frame */
} VideoFrameInfo;

typedef struct VideoSource VideoSource;

/* Opens SPEC: an existing directory = a folder of frames (dataset_open's "frames" kind: a plain
 * folder sorted by name, or a CamVid-style root); "/dev/videoN" = a V4L2 camera (libavdevice); any
 * other string a file or a URL libavformat opens (rtsp://, http://, udp://, ...). A video is
 * decoded up to its first frame here, so a file with nothing decodable fails at open. NULL with
 * rn_errmsg() naming SPEC and what is wrong. */
VideoSource *video_source_open(const char *spec, const VideoSourceOpts *o);
/* A source over samples order[0..n) of DS (taken: both freed by video_source_close), frame k at
 * k / o->fps: the edge's --frames DATASET path. */
VideoSource *video_source_from_dataset(Dataset *ds, int *order, int n, const VideoSourceOpts *o);
void video_source_close(VideoSource *v);

/* Advances to the next frame: 1 (its number and time in *info), 0 at the end of the stream, -1 on
 * an error. */
int video_source_next(VideoSource *v, VideoFrameInfo *info);
/* The current frame (after video_source_next returned 1) as RGB at the output size: 0 or -1. */
int video_source_pixels(VideoSource *v, Image *out);
/* Back to the first frame (--loop); times go on from the end of the pass before (a pass lasts its
 * last frame's time plus one frame interval). -1 when the source cannot seek (a camera, a live URL). */
int video_source_rewind(VideoSource *v);

/* The size video_source_pixels gives (the first frame's when no size was asked). */
void video_source_size(const VideoSource *v, int *w, int *h);
/* Frames per second: the container's average rate (else its base rate, else o->fps). */
double video_source_fps(const VideoSource *v);
/* Frames in one pass: exact for a folder and for a container that says so (*exact = true); else an
 * estimate from the duration and the rate; -1 when unknown (a camera, a live stream). */
long video_source_frames(const VideoSource *v, bool *exact);
/* true for a camera or a stream that cannot seek: it delivers frames at its own pace (a caller should
 * not wait for their timestamps), cannot rewind, and its end proves no damage. */
bool video_source_live(const VideoSource *v);
/* true for a folder or dataset (its index is a sample index a cloud's --data can score). */
bool video_source_is_dataset(const VideoSource *v);
/* Frame `index`'s name for logs and CSV rows: a sample's file name, or "NAME#INDEX" for a video. */
void video_source_frame_name(const VideoSource *v, int index, char *buf, size_t cap);
/* Packets the decoder refused and skipped so far. */
long video_source_bad_packets(const VideoSource *v);
