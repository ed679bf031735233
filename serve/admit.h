/* admit.h: whether the cloud takes a FRAME at all — checks that cost a header read, made before any copy or decode. */
#pragma once
#include <stddef.h>

#include "serve/wire.h"

/* Why a frame is refused unread (the cloud CSV's reason column: admit_name). */
typedef enum { ADMIT_TOO_LARGE, ADMIT_BAD_HEADER, ADMIT_SIZE_MISMATCH, ADMIT_KINDS } AdmitRefusal;

/* -1 when f may be decoded; else the first check it fails, with `why` in words: its declared HR size
 * against max_pixels, then its payload's JPEG/PNG header (read, not decoded) against the LR size the
 * declared size and scale make (serve-edge sends exactly that, degrade_lr_size). So decoding an
 * admitted frame costs at most max_pixels / scale^2 pixels, whatever a peer declares or sends. */
int frame_admit(const WireFrame *f, long max_pixels, char *why, size_t cap);
/* "too_large", "bad_header", "size_mismatch". */
const char *admit_name(int refusal);
