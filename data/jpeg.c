/* jpeg.c: JPEG encode/decode through the TurboJPEG API of libjpeg-turbo. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <turbojpeg.h>

#include "data/image.h"
#include "util/err.h"

static int tj_subsamp(int subsamp) {
    switch (subsamp) {
    case 0:
    case 420: return TJSAMP_420;
    case 422: return TJSAMP_422;
    case 444: return TJSAMP_444;
    default: return -1;
    }
}

int jpeg_encode(const Image *im, int quality, int subsamp, unsigned char **buf, size_t *len) {
    if (quality < 1 || quality > 100) return rn_fail("JPEG quality %d is outside 1..100", quality);
    int samp = tj_subsamp(subsamp);
    if (samp < 0) return rn_fail("JPEG chroma subsampling %d is not one of 444, 422, 420", subsamp);
    if (im->w <= 0 || im->h <= 0) return rn_fail("cannot JPEG-encode an empty %dx%d image", im->w, im->h);
    RN_CHECK(im->c == 1 || im->c == 3 || im->c == 4, "jpeg_encode: %d channels", im->c);
    int fmt = im->c == 1 ? TJPF_GRAY : im->c == 3 ? TJPF_RGB : TJPF_RGBX; /* alpha is dropped */
    if (im->c == 1) samp = TJSAMP_GRAY;
    tjhandle tj = tjInitCompress();
    if (!tj) rn_die("TurboJPEG: cannot create a compressor: %s", tjGetErrorStr2(NULL));
    /* Our own buffer of the worst-case size, so TurboJPEG never reallocates and *buf is malloc'ed. */
    unsigned long cap = tjBufSize(im->w, im->h, samp), n = cap;
    unsigned char *out = xmalloc(cap);
    int rc = tjCompress2(tj, im->px, im->w, 0, im->h, fmt, &out, &n, samp, quality, TJFLAG_NOREALLOC);
    if (rc != 0) {
        rn_fail("JPEG encoding of a %dx%d image failed: %s", im->w, im->h, tjGetErrorStr2(tj));
        free(out);
        tjDestroy(tj);
        return -1;
    }
    tjDestroy(tj);
    *buf = xrealloc(out, n);
    *len = n;
    return 0;
}

/* Decodes into the requested layout; `name` labels errors (the file, or "JPEG data"). */
static int decode(const unsigned char *buf, size_t len, const char *name, Image *out, int want_c) {
    if (want_c != 0 && want_c != 1 && want_c != 3 && want_c != 4) rn_die("jpeg_decode: want_c %d", want_c);
    if (len == 0) return rn_fail("%s: empty (0 bytes), not a JPEG", name);
    if (len > 0xffffffffUL) return rn_fail("%s: too large for TurboJPEG (%zu bytes)", name, len);
    tjhandle tj = tjInitDecompress();
    if (!tj) rn_die("TurboJPEG: cannot create a decompressor: %s", tjGetErrorStr2(NULL));
    int w = 0, h = 0, samp = 0, cs = -1; /* a header cut short leaves them unset with only a warning */
    if (tjDecompressHeader3(tj, buf, (unsigned long)len, &w, &h, &samp, &cs) != 0) {
        rn_fail("%s: not a readable JPEG: %s", name, tjGetErrorStr2(tj));
        tjDestroy(tj);
        return -1;
    }
    if (w <= 0 || h <= 0 || (double)w * h > (double)IMAGE_MAX_PIXELS) {
        tjDestroy(tj);
        return rn_fail("%s: JPEG size %dx%d is out of range", name, w, h);
    }
    int c = want_c ? want_c : (cs == TJCS_GRAY ? 1 : 3);
    int fmt = c == 1 ? TJPF_GRAY : c == 3 ? TJPF_RGB : TJPF_RGBA;
    Image im = image_alloc(w, h, c);
    /* LIMITSCANS refuses progressive files with absurd scan counts (a decoding-time bomb). A
     * warning such as "premature end of data" makes tjDecompress2 return -1: a truncated frame is
     * an error here, not a silently grey-padded picture. */
    if (tjDecompress2(tj, buf, (unsigned long)len, im.px, w, 0, h, fmt, TJFLAG_LIMITSCANS) != 0) {
        rn_fail("%s: corrupt JPEG: %s", name, tjGetErrorStr2(tj));
        tjDestroy(tj);
        image_free(&im);
        return -1;
    }
    tjDestroy(tj);
    *out = im;
    return 0;
}

int jpeg_header(const unsigned char *buf, size_t len, int *w, int *h) {
    if (len == 0 || len > 0xffffffffUL) return rn_fail("JPEG data: %zu bytes, not a JPEG TurboJPEG can read", len);
    tjhandle tj = tjInitDecompress();
    if (!tj) rn_die("TurboJPEG: cannot create a decompressor: %s", tjGetErrorStr2(NULL));
    int samp, cs;
    /* a header cut short is only a warning to TurboJPEG: it returns 0 and leaves the size unset */
    *w = 0;
    *h = 0;
    int rc = tjDecompressHeader3(tj, buf, (unsigned long)len, w, h, &samp, &cs);
    if (rc != 0) rn_fail("JPEG data: not a readable JPEG header: %s", tjGetErrorStr2(tj));
    else if (*w <= 0 || *h <= 0) rn_fail("JPEG data: no frame size in the header (%s)", tjGetErrorStr2(tj));
    tjDestroy(tj);
    return rc != 0 || *w <= 0 || *h <= 0 ? -1 : 0;
}

int jpeg_decode(const unsigned char *buf, size_t len, Image *out, int want_c) {
    return decode(buf, len, "JPEG data", out, want_c);
}

int jpeg_read(const char *path, Image *out, int want_c) {
    unsigned char *buf = NULL;
    size_t len = 0;
    TRY(file_read_all(path, &buf, &len));
    int rc = decode(buf, len, path, out, want_c);
    free(buf);
    return rc;
}

int jpeg_write(const char *path, const Image *im, int quality) {
    unsigned char *buf = NULL;
    size_t len = 0;
    if (jpeg_encode(im, quality, 420, &buf, &len) < 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", rn_errmsg());
        return rn_fail("%s: %s", path, why);
    }
    int rc = file_write_all(path, buf, len);
    free(buf);
    return rc;
}
