/* video_fixture.h: videos made at test time from the sample frames (libavcodec encode), for the video-source tests. */
#pragma once
#include "data/image.h"

/* The sample CamVid frames (data/samples/camvid/test, 480x360 RGB) into frames[0..4): returns 4, or
 * fails the test and returns 0. */
#define VIDEO_FIXTURE_SAMPLES 4
int video_fixture_samples(Image frames[VIDEO_FIXTURE_SAMPLES]);
/* Writes frames[k % nsrc] for k in 0..n as a video at PATH (container from its extension: .mkv,
 * .mp4, .avi): codec "ffv1" (lossless, 8-bit RGB as bgr0: decoded pixels equal the input), "mpeg4"
 * (MPEG-4 part 2, 4:2:0, intra-only at a fine quantiser) or "libx264" (CRF 18, a key frame every 4,
 * 2 B-frames). Frame k has timestamp k / fps (time base 1/fps). 0, or -1 with rn_errmsg(). */
int video_fixture_write(const char *path, const char *codec, const Image *frames, int nsrc, int n, int fps);
/* Truncates the file at PATH to `keep` bytes (0, or -1). */
int video_fixture_truncate(const char *path, long keep);
/* The file's size in bytes (-1 when it cannot be read). */
long video_fixture_size(const char *path);
