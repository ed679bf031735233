/* transport.h: the ZeroMQ link between edges and the cloud — one ROUTER (cloud) serving many DEALERs (edges).
 *
 * The cloud binds a ROUTER (any ZeroMQ endpoint, e.g. "tcp://0.0.0.0:5555"); each edge connects a
 * DEALER whose routing identity is its edge id, so the cloud addresses feedback to an edge by that id (ROUTER_HANDOVER: an edge that
 * reconnects, e.g. after a restart of either side, takes its id over; with CURVE the id is the key's,
 * below, and there is no handover). Every message is one wire message (serve/wire.h); the cloud checks that the message's edge id
 * equals the routing id (plain TCP) or its key's id (CURVE).
 * Malformed messages are counted per WireErr and skipped, never returned.
 *
 * Reconnect: the DEALER reconnects by itself every reconnect_ms after the cloud goes away; with
 * ZMQ_IMMEDIATE nothing is queued towards a link that is not up, so transport_send returns 1 ("not
 * connected": the caller drops the frame with a reason) instead of buffering stale frames. The edge
 * sees up/down transitions through transport_connected() / TransportStats (a socket monitor), and
 * re-sends its HELLO on each new connection.
 *
 * CURVE (--curve-keys DIR): a key file is text with lines "public = <40 Z85 chars>" and (for a
 * keypair) "secret = <40 Z85 chars>"; '#' starts a comment.
 *   cloud: DIR/server.key (keypair), DIR/authorized_keys (lines "KEY ID": a Z85 public key and the edge
 *          id it belongs to; a line without an id is an error at open). A ZAP handler thread checks each
 *          client's key, logs refusals (one line a second, naming the client's address) and counts each
 *          (TransportStats.refused), and hands
 *          the key's id to ZeroMQ as the connection's User-Id. Identity is the key: an edge's DEALER sets
 *          no routing id (each connection gets one from the ROUTER, so none can take another's over),
 *          TransportRecv.peer is the key's id, and a message whose edge id is another one is refused
 *          (WIRE_EKEY "id_mismatch", logged at most once a second naming both ids) and its sender gets a
 *          FEEDBACK with reason WIRE_REASON_REFUSED and the note "key belongs to ID". transport_send to
 *          an id goes to the connection that last sent an accepted message under it.
 *          Any failed handshake (no key, not ZMTP) is counted in auth_failed and logged so, naming the
 *          client, not the cloud's address.
 *   edge:  DIR/<edge_id>.key if present, else DIR/client.key (keypair), and DIR/server.pub (the
 *          server's public key). An edge with a wrong key never completes the handshake: it sends
 *          nothing and gets nothing (TransportStats.auth_failed counts its failed handshakes).
 * transport_curve_keygen writes such files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/wire.h"

typedef struct Transport Transport;

typedef struct TransportOpts {
    const char *endpoint;   /* cloud: "tcp://0.0.0.0:5555"; edge: "tcp://127.0.0.1:5555" (required) */
    const char *edge_id;    /* edge: its id and routing identity (required for an edge; wire_id_valid) */
    const char *curve_dir;  /* NULL or "" = plain TCP; else the key directory above */
    int sndhwm, rcvhwm;     /* ZeroMQ high-water marks in messages (0 = 16 on an edge, 1000 on the cloud) */
    int sndbuf;             /* edge: the TCP send buffer in bytes (ZMQ_SNDBUF; 0 = the kernel's autotuning) */
    int reconnect_ms;       /* edge: reconnect interval (0 = 100 ms; backoff capped at 1 s) */
    int linger_ms;          /* on close: how long unsent messages may still leave (0 = drop them) */
    bool quiet;             /* no log lines on stderr (refusals are still counted) */
} TransportOpts;

typedef struct TransportStats {
    long long sent, sent_bytes;          /* messages handed to ZeroMQ */
    long long recv, recv_bytes;          /* well-formed messages returned by transport_recv */
    long long bad[WIRE_NERR];            /* refused messages by -WireErr */
    long long bad_total;
    long long not_connected;             /* transport_send calls answered 1 (no link / queue full) */
    long long connects, disconnects;     /* monitor events (edge: to the cloud; cloud: any peer) */
    long long auth_failed;               /* handshakes that failed (edge: with the cloud, wrong key; cloud: clients with
                                          * no or a wrong key, or not speaking ZMTP), each logged (one line a second) */
    long long handed_over;               /* cloud, plain TCP: messages still in flight on a connection whose edge
                                          * id a reconnect of that edge took over, taken as the edge's */
    long long refused;                   /* cloud: clients the ZAP handler refused (bad[-WIRE_EKEY]: messages
                                          * of an accepted key that spoke for another edge id) */
    long long accepted;                  /* cloud: clients the ZAP handler accepted */
    long long oversized;                 /* cloud: connections libzmq dropped mid-message (a message over WIRE_MAX_MSG,
                                          * its ZMQ_MAXMSGSIZE; the rest of such a message is never read) */
} TransportStats;

/* A received message. For FRAME the payload points into the Transport's receive buffer and stays
 * valid until the next transport_recv on that Transport. */
typedef struct TransportRecv {
    WireMsg msg;
    char peer[WIRE_ID_MAX + 1];  /* cloud: the sender's routing id; edge: "" */
    size_t bytes;                /* message size on the wire */
    int64_t recv_us;             /* wire_now_us() when it was taken off the socket */
} TransportRecv;

/* Cloud: binds a ROUTER at o->endpoint (with CURVE and the ZAP handler when o->curve_dir).
 * NULL with rn_errmsg() (address in use, unreadable keys, ...). */
Transport *transport_cloud_open(const TransportOpts *o);
/* Edge: connects a DEALER to o->endpoint; returns at once (the link comes up in the background). */
Transport *transport_edge_open(const TransportOpts *o);
/* Worker of a broker (serve/broker.h): a DEALER with routing id o->edge_id ("w0", ...) connected to
 * the broker's backend at o->endpoint. It speaks as a cloud: recv/send carry the edge id in a first
 * frame ([edge id][wire bytes]), so cloud.c runs unchanged on top of it; the broker did the remote-peer
 * checks (identity, CURVE), the worker still decodes and checks each message. It says READY
 * (BROKER_READY) once open. The broker's BROKER_STOP ends it: transport_stopped() turns true. */
Transport *transport_worker_open(const TransportOpts *o);
/* Worker: the broker asked it to stop (all it forwarded before that has been received). */
bool transport_stopped(const Transport *t);
/* The raw bytes of the last message transport_recv returned (valid until the next transport_recv):
 * a broker forwards them as they came. */
const void *transport_last_raw(const Transport *t, size_t *n);
/* The ZeroMQ socket (a broker polls it together with its backend); transport_recv still reads it. */
void *transport_zsocket(Transport *t);
void transport_close(Transport *t);

/* Sends m (encoded here). Cloud: to edge `peer`; edge: peer is ignored. Never blocks.
 * 0 sent; 1 not sent: no link, queue full or unknown peer (counted in not_connected);
 * -1 with rn_errmsg(): m is invalid or ZeroMQ failed. */
int transport_send(Transport *t, const char *peer, const WireMsg *m);
/* Sends raw bytes as one message (tests: malformed input). Same returns as transport_send. */
int transport_send_raw(Transport *t, const char *peer, const void *buf, size_t n);

/* Waits up to timeout_ms (0 = poll, -1 = forever) for one well-formed message. 1 = *r filled;
 * 0 = nothing within the timeout; -1 with rn_errmsg() on a ZeroMQ failure. Malformed messages
 * that arrive meanwhile are counted in stats.bad and skipped. Also processes monitor events. */
int transport_recv(Transport *t, int timeout_ms, TransportRecv *r);

/* Edge: true while the TCP link (and CURVE handshake) to the cloud is up. Cloud: true. */
bool transport_connected(Transport *t);
/* Edge: how many times the link has come up (1 after the first connect; +1 after each reconnect).
 * A caller that remembers the last value knows when to send HELLO again. */
long long transport_generation(Transport *t);
const TransportStats *transport_stats(const Transport *t);
/* The endpoint actually bound or connected (a cloud bound to "tcp://127.0.0.1:*" learns its port here). */
const char *transport_endpoint(Transport *t);

/* Writes a fresh CURVE keypair: `secret_path` gets "public = ...\nsecret = ...\n" (mode 0600) and
 * `public_path` (may be NULL) gets "public = ...\n". 0 or -1 with rn_errmsg(). */
int transport_curve_keygen(const char *secret_path, const char *public_path);
/* A key directory for both sides: DIR/server.key + DIR/server.pub, one keypair per edge id
 * (DIR/<id>.key; DIR/client.key for id "client" when n = 0) and DIR/authorized_keys listing each key
 * with its id ("KEY ID": that key may speak only for that id). DIR is
 * made if missing; existing files are overwritten. 0 or -1 with rn_errmsg(). */
int transport_curve_keygen_dir(const char *dir, const char *const *edge_ids, int n);
/* Reads a key file: public (and secret, when secret != NULL) as 40-char Z85 + NUL. -1 with rn_errmsg()
 * when a wanted key is missing or malformed. */
int transport_curve_read(const char *path, char public_z85[41], char secret_z85[41]);
