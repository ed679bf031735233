/* transport.c: ZeroMQ ROUTER (cloud) / DEALER (edge) carrying wire messages, with a socket monitor and CURVE + ZAP. */
#include "serve/transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "serve/broker.h"
#include "serve/ident.h"
#include "serve/peers.h"
#include "serve/ratelog.h"
#include "util/err.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MAX_ALLOWED 1024
#define HS_PATIENCE_S 2 /* seconds an unnamed handshake failure waits for a named one to log it */

typedef struct AllowedKey {
    uint8_t key[32];
    char name[64];
} AllowedKey;

struct Transport {
    void *ctx, *sock, *mon;
    bool cloud, quiet, connected;
    bool worker, stopped;         /* a broker's worker (DEALER on its backend); the broker said BROKER_STOP */
    long long generation;
    char endpoint[256];
    TransportStats st;
    zmq_msg_t cur; /* the last received message (FRAME payloads point into it) */
    bool have_cur;
    /* ZAP handler (cloud with CURVE) */
    void *zap;
    pthread_t zap_thread;
    bool zap_running;
    atomic_int zap_stop;
    atomic_llong zap_accepted, zap_refused;
    AllowedKey *allowed;
    int nallowed;
    /* cloud with CURVE: a peer is the name its key has (ZAP's User-Id), routed to its newest connection */
    bool curve;
    IdentRoutes routes;
    RateLog key_log;              /* id_mismatch lines */
    /* cloud: remote peers can make a log line per connection attempt; these keep it to one a second */
    Peers *peers;                 /* accepted connections, to name the client of a monitor event */
    long long hs_unnamed;         /* handshake failures whose connection's close (which names the client) is to come */
    long long hs_zap;             /* the same for ZAP refusals, which the ZAP handler has logged with the address */
    RateLog log_hs, log_big, log_zap; /* log_zap: the ZAP thread's own */
};

/* ---- keys ---- */

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
}

static int z85_ok(const char *z) {
    uint8_t bin[32];
    return strlen(z) == 40 && zmq_z85_decode(bin, z) != NULL;
}

int transport_curve_read(const char *path, char public_z85[41], char secret_z85[41]) {
    FILE *f = fopen(path, "r");
    if (!f) return rn_fail("%s: %s (a CURVE key file: \"public = <Z85>\" and \"secret = <Z85>\" lines)", path, strerror(errno));
    char line[512];
    bool have_pub = false, have_sec = false;
    while (fgets(line, sizeof line, f)) {
        /* '#' is a Z85 character: only a line that starts with it is a comment */
        const char *c0 = line + strspn(line, " \t");
        if (*c0 == '#') continue;
        trim(line);
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        char *k = line, *v = eq + 1;
        while (*k == ' ' || *k == '\t') k++;
        trim(k);
        while (*v == ' ' || *v == '\t' || *v == '"') v++;
        trim(v);
        size_t vn = strlen(v);
        if (vn && v[vn - 1] == '"') v[--vn] = 0;
        bool pub = !strcmp(k, "public") || !strcmp(k, "public-key");
        bool sec = !strcmp(k, "secret") || !strcmp(k, "secret-key");
        if (!pub && !sec) continue;
        if (!z85_ok(v)) {
            fclose(f);
            return rn_fail("%s: the %s key is not 40 Z85 characters", path, pub ? "public" : "secret");
        }
        if (pub) {
            memcpy(public_z85, v, 41);
            have_pub = true;
        } else if (secret_z85) {
            memcpy(secret_z85, v, 41);
            have_sec = true;
        }
    }
    fclose(f);
    if (!have_pub) return rn_fail("%s: no \"public = ...\" line", path);
    if (secret_z85 && !have_sec) return rn_fail("%s: no \"secret = ...\" line (a keypair file is needed here)", path);
    return 0;
}

static int write_key_file(const char *path, const char *pub, const char *sec) {
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("%s: %s", path, strerror(errno));
    if (sec) chmod(path, 0600);
    int ok = fprintf(f, "# rune CURVE %s\npublic = %s\n", sec ? "keypair (keep secret)" : "public key", pub) > 0;
    if (sec) ok = ok && fprintf(f, "secret = %s\n", sec) > 0;
    if (fclose(f) != 0 || !ok) return rn_fail("%s: write failed", path);
    return 0;
}

int transport_curve_keygen(const char *secret_path, const char *public_path) {
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0) return rn_fail("zmq_curve_keypair: %s (libzmq built without CURVE?)", zmq_strerror(errno));
    TRY(write_key_file(secret_path, pub, sec));
    if (public_path) TRY(write_key_file(public_path, pub, NULL));
    return 0;
}

static int read_allowed(Transport *t, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return rn_fail("%s: %s (the clients the cloud accepts: one Z85 public key per line)", path, strerror(errno));
    char line[512];
    int lineno = 0;
    t->allowed = xcalloc(MAX_ALLOWED, sizeof *t->allowed);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        trim(line);
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#') continue; /* a comment line ('#' inside a key is Z85) */
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) continue;
        char key[41] = {0}, name[64] = {0};
        if (sscanf(p, "%40s %63s", key, name) < 1 || !z85_ok(key)) {
            fclose(f);
            return rn_fail("%s line %d: not a 40-character Z85 public key", path, lineno);
        }
        /* the name is the only id the key may use: a key without one could speak for any edge */
        if (!wire_id_valid(name)) {
            fclose(f);
            return rn_fail("%s line %d has no edge id: want \"KEY ID\" (ID = the edge's --id, 1..%d of [A-Za-z0-9_.-])",
                           path, lineno, WIRE_ID_MAX);
        }
        if (t->nallowed == MAX_ALLOWED) {
            fclose(f);
            return rn_fail("%s: more than %d keys", path, MAX_ALLOWED);
        }
        AllowedKey *a = &t->allowed[t->nallowed++];
        zmq_z85_decode(a->key, key);
        snprintf(a->name, sizeof a->name, "%s", name);
    }
    fclose(f);
    ident_routes_init(&t->routes, t->nallowed);
    t->curve = true;
    return 0;
}

/* ---- ZAP handler (RFC 27) ---- */

static int zap_recv_parts(void *s, zmq_msg_t *parts, int cap) {
    int n = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0) {
            zmq_msg_close(&m);
            for (int i = 0; i < n; i++) zmq_msg_close(&parts[i]);
            return -1;
        }
        int more = zmq_msg_more(&m);
        if (n < cap) parts[n++] = m;
        else zmq_msg_close(&m);
        if (!more) return n;
    }
}

static void zap_send(void *s, const void *p, size_t n, bool more) { zmq_send(s, p, n, more ? ZMQ_SNDMORE : 0); }

static void *zap_main(void *arg) {
    Transport *t = arg;
    while (!atomic_load(&t->zap_stop)) {
        zmq_pollitem_t it = {t->zap, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0 || !(it.revents & ZMQ_POLLIN)) continue;
        zmq_msg_t p[8];
        int n = zap_recv_parts(t->zap, p, 8);
        if (n < 0) continue;
        /* version, request id, domain, address, routing id, mechanism, credentials... */
        const char *status = "400", *text = "refused";
        char addr[64] = "?", mech[16] = "?", keyz[41] = "-", who[64] = "";
        if (n >= 6) {
            snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&p[3]), (const char *)zmq_msg_data(&p[3]));
            snprintf(mech, sizeof mech, "%.*s", (int)zmq_msg_size(&p[5]), (const char *)zmq_msg_data(&p[5]));
        }
        bool ok = false;
        if (n >= 7 && !strcmp(mech, "CURVE") && zmq_msg_size(&p[6]) == 32) {
            const uint8_t *key = zmq_msg_data(&p[6]);
            zmq_z85_encode(keyz, key, 32);
            for (int i = 0; i < t->nallowed && !ok; i++)
                if (!memcmp(t->allowed[i].key, key, 32)) {
                    ok = true;
                    snprintf(who, sizeof who, "%s", t->allowed[i].name);
                }
        }
        if (ok) {
            status = "200";
            text = "OK";
            atomic_fetch_add(&t->zap_accepted, 1);
        } else {
            atomic_fetch_add(&t->zap_refused, 1);
            ratelog(&t->log_zap, stderr, t->quiet, "transport: refused a %s client from %s: key %s is not in authorized_keys",
                    mech, addr, keyz);
        }
        const char *reqid = n >= 2 ? zmq_msg_data(&p[1]) : "";
        size_t reqn = n >= 2 ? zmq_msg_size(&p[1]) : 0;
        zap_send(t->zap, "1.0", 3, true);
        zap_send(t->zap, reqid, reqn, true);
        zap_send(t->zap, status, 3, true);
        zap_send(t->zap, text, strlen(text), true);
        zap_send(t->zap, who, strlen(who), true); /* user id */
        zap_send(t->zap, "", 0, false);           /* metadata */
        for (int i = 0; i < n; i++) zmq_msg_close(&p[i]);
    }
    return NULL;
}

/* ---- sockets ---- */

static int set_int(void *s, int opt, int v, const char *name) {
    if (zmq_setsockopt(s, opt, &v, sizeof v) != 0) return rn_fail("zmq_setsockopt(%s): %s", name, zmq_strerror(errno));
    return 0;
}

static int start_monitor(Transport *t) {
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://rune-monitor-%p", (void *)t);
    int ev = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(t->sock, ep, ev) != 0) return rn_fail("zmq_socket_monitor: %s", zmq_strerror(errno));
    t->mon = zmq_socket(t->ctx, ZMQ_PAIR);
    if (!t->mon || zmq_connect(t->mon, ep) != 0) return rn_fail("monitor connect: %s", zmq_strerror(errno));
    return 0;
}

/* Cloud: a connection closed (fd). After a failed handshake, the line naming the client; else, with
 * bytes still unread, libzmq stopped reading mid-message: a message over ZMQ_MAXMSGSIZE
 * (WIRE_MAX_MSG), which is how it shows (no event of its own; serve/peers.h), or broken ZMTP
 * framing: counted as oversized. A peer that closed, or went silent, leaves nothing unread. */
static void cloud_conn_closed(Transport *t, int fd) {
    char addr[PEER_ADDR_MAX];
    bool unread = false;
    bool known = peers_closed(t->peers, fd, addr, sizeof addr, &unread);
    if (t->hs_unnamed > 0) {
        t->hs_unnamed--;
        /* a client that fails within microseconds may be gone before its accept is looked at: such a
         * line waits (HS_PATIENCE_S) for one that can name the client to carry its count */
        if (known)
            ratelog(&t->log_hs, stderr, t->quiet, "transport: handshake with a client at %s failed (no or wrong CURVE key, or not ZMTP)",
                    addr);
        else
            ratelog_weak(&t->log_hs, stderr, t->quiet, HS_PATIENCE_S,
                         "transport: handshake with a client failed (no or wrong CURVE key, or not ZMTP; it closed before its "
                         "address could be read)");
        return;
    }
    if (t->hs_zap > 0) {
        t->hs_zap--;
        return;
    }
    if (!unread) return;
    t->st.oversized++;
    ratelog(&t->log_big, stderr, t->quiet,
            "transport: dropped the connection of %s mid-message: a message over %u bytes (WIRE_MAX_MSG) or broken ZMTP framing",
            addr, (unsigned)WIRE_MAX_MSG);
}

/* Drains pending monitor events without blocking. */
static void pump_monitor(Transport *t) {
    if (!t->mon) return;
    for (;;) {
        zmq_msg_t a, b;
        zmq_msg_init(&a);
        if (zmq_msg_recv(&a, t->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&a);
            return;
        }
        uint16_t event = 0;
        uint32_t value = 0; /* ACCEPTED, DISCONNECTED: the connection's fd */
        if (zmq_msg_size(&a) >= 6) {
            memcpy(&event, zmq_msg_data(&a), 2);
            memcpy(&value, (const char *)zmq_msg_data(&a) + 2, 4);
        }
        zmq_msg_init(&b);
        char addr[128] = "";
        if (zmq_msg_more(&a) && zmq_msg_recv(&b, t->mon, 0) >= 0)
            snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&b), (const char *)zmq_msg_data(&b));
        zmq_msg_close(&a);
        zmq_msg_close(&b);
        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            t->st.connects++;
            if (!t->cloud) {
                t->connected = true;
                t->generation++;
            }
            break;
        case ZMQ_EVENT_ACCEPTED:
            if (t->peers) peers_accepted(t->peers, (int)value);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            t->st.disconnects++;
            if (!t->cloud) t->connected = false;
            if (t->peers) cloud_conn_closed(t, (int)value);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            t->st.auth_failed++;
            /* the cloud names the client when its connection closes, next (the event's address is the cloud's own) */
            if (t->cloud && event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) t->hs_zap++;
            else if (t->cloud) t->hs_unnamed++;
            else
                ratelog(&t->log_hs, stderr, t->quiet, "transport: the handshake with the cloud at %s failed (%s)",
                        addr[0] ? addr : "?", event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "refused by the server's key check"
                                                                               : "wrong key or protocol");
            break;
        default: break;
        }
    }
}

static Transport *open_common(const TransportOpts *o, bool cloud) {
    if (!o->endpoint || !*o->endpoint) {
        rn_fail("no endpoint (e.g. tcp://127.0.0.1:5555)");
        return NULL;
    }
    Transport *t = xcalloc(1, sizeof *t);
    t->cloud = cloud;
    t->quiet = o->quiet;
    t->ctx = zmq_ctx_new();
    if (!t->ctx) {
        rn_fail("zmq_ctx_new: %s", zmq_strerror(errno));
        free(t);
        return NULL;
    }
    return t;
}

static void curve_path(char *buf, size_t cap, const char *dir, const char *name) { snprintf(buf, cap, "%s/%s", dir, name); }

Transport *transport_cloud_open(const TransportOpts *o) {
    Transport *t = open_common(o, true);
    if (!t) return NULL;
    t->peers = xcalloc(1, sizeof *t->peers);
    bool curve = o->curve_dir && *o->curve_dir;
    char pub[41], sec[41], path[1024];
    if (curve) {
        curve_path(path, sizeof path, o->curve_dir, "server.key");
        if (transport_curve_read(path, pub, sec) < 0) goto fail;
        curve_path(path, sizeof path, o->curve_dir, "authorized_keys");
        if (read_allowed(t, path) < 0) goto fail;
        /* the handler must be bound before the server socket takes connections */
        t->zap = zmq_socket(t->ctx, ZMQ_REP);
        if (!t->zap || zmq_bind(t->zap, ZAP_ENDPOINT) != 0) {
            rn_fail("ZAP handler bind: %s", zmq_strerror(errno));
            goto fail;
        }
        if (pthread_create(&t->zap_thread, NULL, zap_main, t) != 0) {
            rn_fail("ZAP handler thread: cannot start");
            goto fail;
        }
        t->zap_running = true;
    }
    t->sock = zmq_socket(t->ctx, ZMQ_ROUTER);
    if (!t->sock) {
        rn_fail("zmq_socket(ROUTER): %s", zmq_strerror(errno));
        goto fail;
    }
    int64_t maxmsg = WIRE_MAX_MSG;
    /* with CURVE each connection has an id of the ROUTER's making (edges set none): taking an id over
     * is never needed, and would let a peer that names itself after another's connection cut it */
    if (set_int(t->sock, ZMQ_ROUTER_HANDOVER, !curve, "ROUTER_HANDOVER") < 0 ||
        set_int(t->sock, ZMQ_ROUTER_MANDATORY, 1, "ROUTER_MANDATORY") < 0 ||
        set_int(t->sock, ZMQ_SNDHWM, o->sndhwm > 0 ? o->sndhwm : 1000, "SNDHWM") < 0 ||
        set_int(t->sock, ZMQ_RCVHWM, o->rcvhwm > 0 ? o->rcvhwm : 1000, "RCVHWM") < 0 ||
        set_int(t->sock, ZMQ_LINGER, o->linger_ms, "LINGER") < 0 ||
        set_int(t->sock, ZMQ_HEARTBEAT_IVL, 1000, "HEARTBEAT_IVL") < 0 ||
        set_int(t->sock, ZMQ_HEARTBEAT_TIMEOUT, 3000, "HEARTBEAT_TIMEOUT") < 0)
        goto fail;
    if (zmq_setsockopt(t->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0) {
        rn_fail("zmq_setsockopt(MAXMSGSIZE): %s", zmq_strerror(errno));
        goto fail;
    }
    if (curve) {
        if (set_int(t->sock, ZMQ_CURVE_SERVER, 1, "CURVE_SERVER") < 0) goto fail;
        if (zmq_setsockopt(t->sock, ZMQ_CURVE_SECRETKEY, sec, 40) != 0 || zmq_setsockopt(t->sock, ZMQ_ZAP_DOMAIN, "rune", 4) != 0) {
            rn_fail("CURVE server setup: %s", zmq_strerror(errno));
            goto fail;
        }
    }
    if (start_monitor(t) < 0) goto fail;
    if (zmq_bind(t->sock, o->endpoint) != 0) {
        rn_fail("cannot listen on %s: %s", o->endpoint, zmq_strerror(errno));
        goto fail;
    }
    size_t elen = sizeof t->endpoint;
    if (zmq_getsockopt(t->sock, ZMQ_LAST_ENDPOINT, t->endpoint, &elen) != 0) snprintf(t->endpoint, sizeof t->endpoint, "%s", o->endpoint);
    return t;
fail:
    transport_close(t);
    return NULL;
}

Transport *transport_edge_open(const TransportOpts *o) {
    if (!wire_id_valid(o->edge_id)) {
        rn_fail("edge id \"%s\": 1..%d characters of [A-Za-z0-9_.-]", o->edge_id ? o->edge_id : "", WIRE_ID_MAX);
        return NULL;
    }
    Transport *t = open_common(o, false);
    if (!t) return NULL;
    t->sock = zmq_socket(t->ctx, ZMQ_DEALER);
    if (!t->sock) {
        rn_fail("zmq_socket(DEALER): %s", zmq_strerror(errno));
        goto fail;
    }
    int ivl = o->reconnect_ms > 0 ? o->reconnect_ms : 100;
    int64_t maxmsg = WIRE_MAX_MSG;
    /* with CURVE the cloud knows the edge by its key, not by a routing id the edge chooses (one it
     * chose could take another edge's connection over: ROUTER_HANDOVER) */
    bool curve = o->curve_dir && *o->curve_dir;
    if (!curve && zmq_setsockopt(t->sock, ZMQ_ROUTING_ID, o->edge_id, strlen(o->edge_id)) != 0) {
        rn_fail("routing id: %s", zmq_strerror(errno));
        goto fail;
    }
    if (set_int(t->sock, ZMQ_IMMEDIATE, 1, "IMMEDIATE") < 0 ||
        set_int(t->sock, ZMQ_SNDHWM, o->sndhwm > 0 ? o->sndhwm : 16, "SNDHWM") < 0 ||
        (o->sndbuf > 0 && set_int(t->sock, ZMQ_SNDBUF, o->sndbuf, "SNDBUF") < 0) ||
        set_int(t->sock, ZMQ_RCVHWM, o->rcvhwm > 0 ? o->rcvhwm : 1000, "RCVHWM") < 0 ||
        set_int(t->sock, ZMQ_LINGER, o->linger_ms, "LINGER") < 0 ||
        set_int(t->sock, ZMQ_RECONNECT_IVL, ivl, "RECONNECT_IVL") < 0 ||
        set_int(t->sock, ZMQ_RECONNECT_IVL_MAX, ivl > 1000 ? ivl : 1000, "RECONNECT_IVL_MAX") < 0 ||
        set_int(t->sock, ZMQ_HEARTBEAT_IVL, 500, "HEARTBEAT_IVL") < 0 ||
        set_int(t->sock, ZMQ_HEARTBEAT_TIMEOUT, 2000, "HEARTBEAT_TIMEOUT") < 0)
        goto fail;
    if (zmq_setsockopt(t->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0) {
        rn_fail("zmq_setsockopt(MAXMSGSIZE): %s", zmq_strerror(errno));
        goto fail;
    }
    if (curve) {
        char path[1024], pub[41], sec[41], spub[41];
        snprintf(path, sizeof path, "%s/%s.key", o->curve_dir, o->edge_id);
        if (access(path, R_OK) != 0) curve_path(path, sizeof path, o->curve_dir, "client.key");
        if (transport_curve_read(path, pub, sec) < 0) goto fail;
        curve_path(path, sizeof path, o->curve_dir, "server.pub");
        if (transport_curve_read(path, spub, NULL) < 0) goto fail;
        if (zmq_setsockopt(t->sock, ZMQ_CURVE_SERVERKEY, spub, 40) != 0 ||
            zmq_setsockopt(t->sock, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0 ||
            zmq_setsockopt(t->sock, ZMQ_CURVE_SECRETKEY, sec, 40) != 0) {
            rn_fail("CURVE client setup: %s", zmq_strerror(errno));
            goto fail;
        }
    }
    if (start_monitor(t) < 0) goto fail;
    if (zmq_connect(t->sock, o->endpoint) != 0) {
        rn_fail("cannot connect to %s: %s", o->endpoint, zmq_strerror(errno));
        goto fail;
    }
    snprintf(t->endpoint, sizeof t->endpoint, "%s", o->endpoint);
    return t;
fail:
    transport_close(t);
    return NULL;
}

Transport *transport_worker_open(const TransportOpts *o) {
    if (!wire_id_valid(o->edge_id)) {
        rn_fail("worker id \"%s\": 1..%d characters of [A-Za-z0-9_.-]", o->edge_id ? o->edge_id : "", WIRE_ID_MAX);
        return NULL;
    }
    Transport *t = open_common(o, true); /* a cloud to cloud.c: messages come with their edge's id */
    if (!t) return NULL;
    t->worker = true;
    t->sock = zmq_socket(t->ctx, ZMQ_DEALER);
    if (!t->sock) {
        rn_fail("zmq_socket(DEALER): %s", zmq_strerror(errno));
        goto fail;
    }
    int64_t maxmsg = WIRE_MAX_MSG + WIRE_ID_MAX;
    if (zmq_setsockopt(t->sock, ZMQ_ROUTING_ID, o->edge_id, strlen(o->edge_id)) != 0 ||
        zmq_setsockopt(t->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0) {
        rn_fail("worker socket: %s", zmq_strerror(errno));
        goto fail;
    }
    if (set_int(t->sock, ZMQ_SNDHWM, o->sndhwm > 0 ? o->sndhwm : 1000, "SNDHWM") < 0 ||
        set_int(t->sock, ZMQ_RCVHWM, o->rcvhwm > 0 ? o->rcvhwm : 1000, "RCVHWM") < 0 ||
        set_int(t->sock, ZMQ_LINGER, o->linger_ms, "LINGER") < 0)
        goto fail;
    if (zmq_connect(t->sock, o->endpoint) != 0) {
        rn_fail("cannot connect to the broker at %s: %s", o->endpoint, zmq_strerror(errno));
        goto fail;
    }
    /* queued until the pipe is up (no ZMQ_IMMEDIATE here): the broker routes nothing to it before */
    if (zmq_send(t->sock, BROKER_READY, strlen(BROKER_READY), 0) < 0) {
        rn_fail("worker READY: %s", zmq_strerror(errno));
        goto fail;
    }
    snprintf(t->endpoint, sizeof t->endpoint, "%s", o->endpoint);
    return t;
fail:
    transport_close(t);
    return NULL;
}

bool transport_stopped(const Transport *t) { return t->stopped; }

const void *transport_last_raw(const Transport *t, size_t *n) {
    *n = t->have_cur ? zmq_msg_size((zmq_msg_t *)&t->cur) : 0;
    return t->have_cur ? zmq_msg_data((zmq_msg_t *)&t->cur) : NULL;
}

void *transport_zsocket(Transport *t) { return t->sock; }

void transport_close(Transport *t) {
    if (!t) return;
    if (t->have_cur) zmq_msg_close(&t->cur);
    if (t->sock) {
        zmq_socket_monitor(t->sock, NULL, 0);
        zmq_close(t->sock);
    }
    if (t->mon) {
        int zero = 0;
        zmq_setsockopt(t->mon, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(t->mon);
    }
    if (t->zap_running) {
        atomic_store(&t->zap_stop, 1);
        pthread_join(t->zap_thread, NULL);
    }
    ratelog_flush(&t->log_zap, stderr, t->quiet, "transport: refused CURVE clients");
    ratelog_flush(&t->log_hs, stderr, t->quiet, "transport: failed handshakes");
    ratelog_flush(&t->log_big, stderr, t->quiet, "transport: connections dropped mid-message");
    ratelog_flush(&t->key_log, stderr, t->quiet, "transport: messages of a key speaking for another edge");
    if (t->zap) {
        int zero = 0;
        zmq_setsockopt(t->zap, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(t->zap);
    }
    if (t->ctx) zmq_ctx_term(t->ctx);
    if (t->peers) peers_clear(t->peers);
    free(t->peers);
    free(t->allowed);
    ident_routes_free(&t->routes);
    free(t);
}

/* ---- send / receive ---- */

int transport_send_raw(Transport *t, const char *peer, const void *buf, size_t n) {
    pump_monitor(t);
    if (!t->cloud && !t->connected) { /* ZeroMQ may still hold a dying pipe: never hand it a frame */
        t->st.not_connected++;
        return 1;
    }
    if (t->cloud) {
        if (!peer || !*peer) return rn_fail("transport_send: the cloud needs a peer id");
        const void *rid = peer;
        size_t rid_n = strlen(peer);
        if (t->curve) { /* the name's newest authenticated connection */
            const IdentRoute *r = ident_routes_get(&t->routes, peer);
            if (!r) {
                t->st.not_connected++;
                return 1;
            }
            rid = r->rid;
            rid_n = r->n;
        }
        if (zmq_send(t->sock, rid, rid_n, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            if (errno == EAGAIN || errno == EHOSTUNREACH) {
                t->st.not_connected++;
                return 1;
            }
            return rn_fail("zmq_send: %s", zmq_strerror(errno));
        }
    }
    if (zmq_send(t->sock, buf, n, ZMQ_DONTWAIT) < 0) {
        if (errno == EAGAIN || errno == EHOSTUNREACH) {
            t->st.not_connected++;
            return 1;
        }
        return rn_fail("zmq_send: %s", zmq_strerror(errno));
    }
    t->st.sent++;
    t->st.sent_bytes += (long long)n;
    return 0;
}

int transport_send(Transport *t, const char *peer, const WireMsg *m) {
    size_t n;
    uint8_t *buf = wire_encode_alloc(m, &n);
    if (!buf) return rn_fail("transport_send: invalid %s message for \"%s\"", m->type == WIRE_FRAME ? "FRAME" : "wire", m->edge_id);
    int rc = transport_send_raw(t, peer, buf, n);
    free(buf);
    return rc;
}

static void count_bad(Transport *t, int err) {
    if (err < 0 && err > -WIRE_NERR) t->st.bad[-err]++;
    t->st.bad_total++;
}

static void drain_more(Transport *t) {
    int more = 1;
    size_t sz = sizeof more;
    while (zmq_getsockopt(t->sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t x;
        zmq_msg_init(&x);
        zmq_msg_recv(&x, t->sock, 0);
        zmq_msg_close(&x);
    }
}

static double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Tells the connection rid[n] why its message was refused (best effort: it may be gone already). */
static void send_refusal(Transport *t, const uint8_t *rid, size_t n, const char *edge_id, const char *note) {
    WireMsg m;
    ident_refusal(&m, edge_id, note);
    uint8_t buf[WIRE_HEADER_BYTES + WIRE_FEEDBACK_BODY];
    long len = wire_encode(&m, buf, sizeof buf);
    if (len <= 0 || n == 0 || zmq_send(t->sock, rid, n, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return;
    if (zmq_send(t->sock, buf, (size_t)len, ZMQ_DONTWAIT) == len) t->st.sent++;
}

/* CURVE: a message speaks for the edge its key is named after in authorized_keys (ZAP's User-Id), and
 * for no other; an accepted one makes its connection that name's route. WIRE_OK (peer = the name) or
 * WIRE_EKEY (logged at most once a second, and the sender is told). */
static int check_key(Transport *t, const uint8_t *rid, size_t rid_n, const WireMsg *m, char peer[WIRE_ID_MAX + 1]) {
    const char *uid = zmq_msg_gets(&t->cur, "User-Id");
    if (uid && !strcmp(uid, m->edge_id) && ident_routes_set(&t->routes, uid, rid, rid_n) == 0) {
        snprintf(peer, WIRE_ID_MAX + 1, "%s", uid);
        return WIRE_OK;
    }
    ratelog(&t->key_log, stderr, t->quiet,
            "transport: refused a message from the key of %s that says it is edge %s (a key speaks only for its own id)",
            uid ? uid : "?", m->edge_id);
    char note[WIRE_NOTE_MAX + 1];
    snprintf(note, sizeof note, "key belongs to %s", uid ? uid : "?");
    send_refusal(t, rid, rid_n, m->edge_id, note);
    return WIRE_EKEY;
}

/* Plain TCP: when an edge reconnects (its heartbeat gave up a stalled cloud), ROUTER_HANDOVER gives
 * its id to the new connection and the old one keeps delivering what was in flight under an id
 * libzmq generated (5 bytes, the first 0: edge ids are printable). Those messages are the edge's own
 * (plain TCP has no identity to protect), so they are taken as its; refusing them as peer_mismatch
 * lost frames the cloud had received. */
static bool handed_over(const uint8_t *rid, size_t n) { return n == 5 && rid[0] == 0; }

/* One message off the socket without waiting: 1 good, 0 nothing, 2 malformed (counted), -1 error. */
static int try_recv(Transport *t, TransportRecv *r) {
    char peer[WIRE_ID_MAX + 1] = "";
    uint8_t rid[IDENT_RID_MAX];
    size_t rid_n = 0;
    bool peer_ok = true;
    if (t->cloud) {
        zmq_msg_t id;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, t->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return errno == EAGAIN ? 0 : rn_fail("zmq_msg_recv: %s", zmq_strerror(errno));
        }
        size_t n = zmq_msg_size(&id);
        if (n <= WIRE_ID_MAX) memcpy(peer, zmq_msg_data(&id), n), peer[n] = 0;
        if (n <= IDENT_RID_MAX) {
            rid_n = n;
            memcpy(rid, zmq_msg_data(&id), n);
        }
        peer_ok = n <= WIRE_ID_MAX && wire_id_valid(peer);
        int more = zmq_msg_more(&id);
        bool stop = t->worker && !more && n == strlen(BROKER_STOP) && !memcmp(zmq_msg_data(&id), BROKER_STOP, n);
        zmq_msg_close(&id);
        if (stop) { /* the broker's last word to this worker: everything it forwarded came before */
            t->stopped = true;
            return 0;
        }
        if (!more) { /* never happens with a ROUTER, but never trust it */
            count_bad(t, WIRE_ETRUNC);
            return 2;
        }
    }
    if (t->have_cur) zmq_msg_close(&t->cur);
    t->have_cur = false;
    zmq_msg_init(&t->cur);
    if (zmq_msg_recv(&t->cur, t->sock, t->cloud ? 0 : ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&t->cur);
        return errno == EAGAIN ? 0 : rn_fail("zmq_msg_recv: %s", zmq_strerror(errno));
    }
    t->have_cur = true;
    if (zmq_msg_more(&t->cur)) { /* a wire message is one ZeroMQ frame */
        drain_more(t);
        count_bad(t, WIRE_ELENGTH);
        return 2;
    }
    const uint8_t *buf = zmq_msg_data(&t->cur);
    size_t n = zmq_msg_size(&t->cur);
    int e = wire_decode(buf, n, &r->msg);
    if (e == WIRE_OK && t->cloud && !t->curve && (!peer_ok || strcmp(peer, r->msg.edge_id))) {
        if (handed_over(rid, rid_n)) {
            snprintf(peer, sizeof peer, "%s", r->msg.edge_id);
            t->st.handed_over++;
        } else
            e = WIRE_EPEER;
    }
    if (e == WIRE_OK && t->curve) e = check_key(t, rid, rid_n, &r->msg, peer);
    if (e != WIRE_OK) {
        memset(&r->msg, 0, sizeof r->msg);
        count_bad(t, e);
        return 2;
    }
    snprintf(r->peer, sizeof r->peer, "%s", peer);
    r->bytes = n;
    r->recv_us = wire_now_us();
    t->st.recv++;
    t->st.recv_bytes += (long long)n;
    return 1;
}

int transport_recv(Transport *t, int timeout_ms, TransportRecv *r) {
    double end = mono_ms() + (timeout_ms < 0 ? 1e18 : timeout_ms);
    for (;;) {
        pump_monitor(t);
        int rc;
        while ((rc = try_recv(t, r)) == 2) {
        }
        if (rc != 0) return rc;
        double left = end - mono_ms();
        if (left <= 0) return 0;
        zmq_pollitem_t it[2] = {{t->sock, 0, ZMQ_POLLIN, 0}, {t->mon, 0, ZMQ_POLLIN, 0}};
        long wait = left > 1e9 ? -1 : (long)(left + 0.999);
        if (zmq_poll(it, t->mon ? 2 : 1, wait) < 0 && errno != EINTR) return rn_fail("zmq_poll: %s", zmq_strerror(errno));
    }
}

bool transport_connected(Transport *t) {
    pump_monitor(t);
    return t->cloud ? true : t->connected;
}

long long transport_generation(Transport *t) {
    pump_monitor(t);
    return t->generation;
}

const TransportStats *transport_stats(const Transport *t) {
    Transport *w = (Transport *)t; /* the ZAP thread's counters are folded in on read */
    w->st.accepted = atomic_load(&w->zap_accepted);
    w->st.refused = atomic_load(&w->zap_refused);
    return &t->st;
}

const char *transport_endpoint(Transport *t) { return t->endpoint; }

int transport_curve_keygen_dir(const char *dir, const char *const *edge_ids, int n) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return rn_fail("%s: %s", dir, strerror(errno));
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/server.key", dir);
    snprintf(b, sizeof b, "%s/server.pub", dir);
    TRY(transport_curve_keygen(a, b));
    snprintf(b, sizeof b, "%s/authorized_keys", dir);
    FILE *f = fopen(b, "w");
    if (!f) return rn_fail("%s: %s", b, strerror(errno));
    fprintf(f, "# public keys of the edges this cloud accepts: KEY NAME\n");
    for (int i = 0; i < (n > 0 ? n : 1); i++) {
        const char *id = n > 0 ? edge_ids[i] : "client";
        if (n > 0 && !wire_id_valid(id)) {
            fclose(f);
            return rn_fail("edge id \"%s\": 1..%d characters of [A-Za-z0-9_.-]", id, WIRE_ID_MAX);
        }
        char pub[41], sec[41];
        snprintf(a, sizeof a, "%s/%s.key", dir, id);
        if (transport_curve_keygen(a, NULL) < 0 || transport_curve_read(a, pub, sec) < 0) {
            fclose(f);
            return -1;
        }
        fprintf(f, "%s %s\n", pub, id);
    }
    if (fclose(f) != 0) return rn_fail("%s: write failed", b);
    return 0;
}
