/* peers.h: the cloud's accepted TCP connections by fd — names the peer behind a ZeroMQ monitor event and tells why libzmq closed it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* libzmq's monitor (v1, all that libzmq 4.3 exports without its draft API) reports a connection's
 * fd with ZMQ_EVENT_ACCEPTED and ZMQ_EVENT_DISCONNECTED and the cloud's own bound address as its
 * "address". To name the client, the fd is duplicated when the accept is reported and
 * getpeername'd; the duplicate keeps the socket open after libzmq closes its fd, so at the
 * disconnect one can still see whether bytes were left unread (libzmq stopped reading mid-message:
 * a message over ZMQ_MAXMSGSIZE, or broken ZMTP framing) or the peer had simply closed.
 * An fd already closed when the accept is looked at (a client that failed within microseconds)
 * cannot be named: its address is "?". Single-threaded (the thread that reads the monitor). */
#define PEERS_MAX 256        /* connections tracked at once; past that, new ones are not named */
#define PEER_ADDR_MAX 64     /* "[ipv6]:port" fits */

typedef struct PeerConn {
    int fd, dup;
    char addr[PEER_ADDR_MAX];
} PeerConn;

typedef struct Peers {
    PeerConn c[PEERS_MAX];
    int n;
} Peers;

/* ZMQ_EVENT_ACCEPTED with this fd. */
void peers_accepted(Peers *p, int fd);
/* ZMQ_EVENT_DISCONNECTED with this fd: its peer's address into addr ("?" when unknown) and whether
 * bytes were still waiting on it; forgets the connection. false when it was not tracked. */
bool peers_closed(Peers *p, int fd, char *addr, size_t cap, bool *unread);
/* Closes every duplicate (at transport close). */
void peers_clear(Peers *p);
