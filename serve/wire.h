/* wire.h: the online loop's wire format (version 1) — what edge and cloud send each other over ZeroMQ.
 *
 * Every message is one ZeroMQ frame: a 28-byte common header, then a fixed body for its type, then
 * (FRAME only) the JPEG payload. All integers little-endian, no padding; the README's "Wire format"
 * section has the byte table. A decoder checks, in this order: enough bytes for the header, the
 * magic "RNSV", the version (exactly WIRE_VERSION), the type, the body length against the bytes
 * actually received (no trailing bytes), the size limit, the edge id's characters, then every field's
 * range. A message failing any check is refused with a WireErr and nothing of it is used.
 *
 *   common header: magic[4] "RNSV" | u16 version | u16 type | u32 body_len | char edge_id[16]
 *   HELLO    (edge -> cloud, on (re)connect): u16 hr_w, u16 hr_h, u32 fps_milli, cfg, u32 frames, i64 edge_us
 *   FRAME    (edge -> cloud): u64 frame_id, i64 capture_us, i64 send_us, u32 src_index, u16 hr_w, u16 hr_h,
 *            cfg, u32 encode_us, u32 queue_us, u32 payload_len, payload[payload_len]
 *   FEEDBACK (cloud -> edge): u64 last_frame_id, i64 cloud_us, cfg next, cfg probe, u32 bw_kbps,
 *            u16 probe_count, u8 reason, u8 reserved (0), char note[32]
 *   BYE      (edge -> cloud, at the end): u64 captured, u64 sent, u64 dropped
 *   cfg (8 bytes): u16 scale, u8 quality, u8 skip, u8 flags, u8 reserved[3] (0)
 *
 * Timestamps are microseconds of CLOCK_REALTIME (wire_now_us), so edge and cloud on one machine (or
 * on NTP-synchronised machines) can subtract each other's. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC "RNSV"
#define WIRE_VERSION 1
#define WIRE_HEADER_BYTES 28
#define WIRE_ID_MAX 16                    /* edge id: 1..16 chars of [A-Za-z0-9_.-], NUL-padded on the wire */
#define WIRE_NOTE_MAX 32                  /* feedback note: printable ASCII, NUL-padded */
#define WIRE_MAX_PAYLOAD (16u << 20)      /* a FRAME's payload (JPEG or PNG) is at most 16 MiB */
#define WIRE_MAX_MSG (WIRE_HEADER_BYTES + 64 + WIRE_MAX_PAYLOAD) /* anything longer is "oversized" */
#define WIRE_MAX_SCALE 16
#define WIRE_MAX_SIDE 16384               /* hr_w, hr_h */

/* Body sizes (bytes after the common header; FRAME's excludes the payload). */
#define WIRE_HELLO_BODY 28
#define WIRE_FRAME_BODY 52
#define WIRE_FEEDBACK_BODY 72
#define WIRE_BYE_BODY 24

typedef enum { WIRE_HELLO = 1, WIRE_FRAME = 2, WIRE_FEEDBACK = 3, WIRE_BYE = 4 } WireType;

/* cfg.flags */
#define WIRE_CFG_PROBE 0x01 /* an AWStream online-profiling frame (extra, full quality) */
#define WIRE_CFG_TAIL 0x02  /* the configuration is the profile's tail configuration (CAC) */
#define WIRE_CFG_KNOWN (WIRE_CFG_PROBE | WIRE_CFG_TAIL)

/* One data configuration (the edge's knobs). */
typedef struct WireConfig {
    int scale;        /* 1..16; 1 = HR */
    int quality;      /* 1..100 JPEG quality; 0 = lossless PNG */
    int skip;         /* 0..255: after each sent frame the next `skip` captured frames are skipped */
    unsigned flags;   /* WIRE_CFG_* */
} WireConfig;

/* Why the cloud chose feedback.next (FEEDBACK.reason). */
typedef enum {
    WIRE_REASON_NONE = 0,
    WIRE_REASON_START = 1,     /* first configuration for this edge */
    WIRE_REASON_STANDARD = 2,  /* CAC: back to the standard configuration (frames no longer tail) */
    WIRE_REASON_TAIL = 3,      /* CAC: tail frame detected -> tail configuration */
    WIRE_REASON_BANDWIDTH = 4, /* the bandwidth estimate moved to another target */
    WIRE_REASON_PROBE = 5,     /* AWStream: online profiling requested (probe_count frames) */
    WIRE_REASON_POLICY = 6,    /* AWStream: policy update after profiling */
    WIRE_REASON_FIXED = 7,     /* fixed controller: no adaptation */
    WIRE_REASON_CONGESTION = 8,/* AWStream: queue growth -> degrade */
    WIRE_REASON_REFUSED = 9,   /* the cloud does not serve this edge (note says why: max edges, id not its key's);
                                * still version 1: a decoder from before it refuses the message (bad_field), which
                                * leaves such an edge as uninformed as it was */
    WIRE_REASON_COUNT
} WireReason;

typedef struct WireHello {
    int hr_w, hr_h;       /* capture size */
    double fps;           /* capture rate (sent as milli-fps) */
    WireConfig cfg;       /* the configuration the edge starts with */
    uint32_t frames;      /* frames in the folder (one loop) */
    int64_t edge_us;      /* edge clock when sent */
} WireHello;

typedef struct WireFrame {
    uint64_t frame_id;    /* capture counter of this edge (0, 1, ...; keeps counting across loops) */
    int64_t capture_us;   /* when the frame was captured (its slot in the --fps clock) */
    int64_t send_us;      /* when the last byte left the edge's shaper */
    uint32_t src_index;   /* index of the frame in the folder (labels are looked up by it) */
    int hr_w, hr_h;       /* size of the captured frame */
    WireConfig cfg;       /* how the payload was made */
    uint32_t encode_us;   /* degrade (downscale + JPEG) time */
    uint32_t queue_us;    /* time waiting in the shaper's queue before its first byte left */
    uint32_t payload_len;
    const uint8_t *payload; /* decode: points into the decoded buffer (valid while it lives) */
} WireFrame;

typedef struct WireFeedback {
    uint64_t last_frame_id;  /* newest frame id the cloud has processed from this edge */
    int64_t cloud_us;        /* cloud clock when sent */
    WireConfig next;         /* configuration for the next captured frames */
    WireConfig probe;        /* configuration of the probe frames (when probe_count > 0) */
    uint32_t bw_kbps;        /* the cloud's estimate of this edge's uplink, kbit/s */
    int probe_count;         /* 0..65535: extra full-quality frames to send now (AWStream profiling) */
    int reason;              /* WireReason */
    char note[WIRE_NOTE_MAX + 1]; /* free text for logs ("ratio 0.004 < 0.010") */
} WireFeedback;

typedef struct WireBye {
    uint64_t captured, sent, dropped;
} WireBye;

typedef struct WireMsg {
    int type;                        /* WireType */
    char edge_id[WIRE_ID_MAX + 1];   /* NUL-terminated */
    union {
        WireHello hello;
        WireFrame frame;
        WireFeedback feedback;
        WireBye bye;
    } u;
} WireMsg;

/* Decode results (0 = ok). A refused message is counted by its code (wire_err_name for CSVs/logs). */
typedef enum {
    WIRE_OK = 0,
    WIRE_ETRUNC = -1,    /* fewer bytes than the header or than the body length says */
    WIRE_EMAGIC = -2,    /* not "RNSV" */
    WIRE_EVERSION = -3,  /* another version */
    WIRE_ETYPE = -4,     /* unknown message type */
    WIRE_ELENGTH = -5,   /* body length wrong for the type, or bytes after the message */
    WIRE_EOVERSIZE = -6, /* longer than WIRE_MAX_MSG or payload over WIRE_MAX_PAYLOAD */
    WIRE_EID = -7,       /* empty edge id or a character outside [A-Za-z0-9_.-] */
    WIRE_EFIELD = -8,    /* a field out of range (scale, quality, flags, size, reserved bytes, note) */
    WIRE_EPEER = -9,     /* transport: the message's edge id is not the sender's routing id */
    WIRE_EKEY = -10,     /* transport (CURVE): the message's edge id is not the name its key has in authorized_keys */
    WIRE_NERR = 11       /* number of codes, for counter arrays indexed by -code */
} WireErr;

/* "ok", "truncated", "bad_magic", "bad_version", "bad_type", "bad_length", "oversized", "bad_id",
 * "bad_field", "peer_mismatch", "id_mismatch"; "unknown" for anything else. */
const char *wire_err_name(int err);
const char *wire_reason_name(int reason); /* "none", "start", "standard", "tail", ... */

/* CLOCK_REALTIME in microseconds. */
int64_t wire_now_us(void);

/* true when id is 1..WIRE_ID_MAX chars of [A-Za-z0-9_.-]. */
bool wire_id_valid(const char *id);
/* WIRE_OK or WIRE_EFIELD: scale 1..16, quality 0..100, skip 0..255, only known flags. */
int wire_config_check(const WireConfig *c);

/* Bytes wire_encode will write for m (FRAME: header + body + payload_len). */
size_t wire_size(const WireMsg *m);
/* Encodes m into buf[cap]. Returns the byte count, or a negative WireErr when m itself is invalid
 * (same checks as the decoder) or cap is too small (WIRE_ETRUNC). Never writes past cap. */
long wire_encode(const WireMsg *m, uint8_t *buf, size_t cap);
/* As wire_encode into a malloc'ed buffer of *n bytes; NULL (with *n = 0) when m is invalid. */
uint8_t *wire_encode_alloc(const WireMsg *m, size_t *n);
/* Decodes buf[n] into *m (zeroed first). WIRE_OK, or the first failing check's code. A FRAME's
 * m->u.frame.payload points into buf. Any bytes at all are safe input. */
int wire_decode(const uint8_t *buf, size_t n, WireMsg *m);

/* Configuration as text "s4q70k0" (+"P" probe, +"T" tail) for CSVs; buf of at least 24 bytes. */
const char *wire_config_str(const WireConfig *c, char *buf, size_t cap);
