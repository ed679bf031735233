/* peers.c: the cloud's accepted TCP connections by fd (serve/peers.h). */
#include "serve/peers.h"

#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void peer_name(int fd, char *addr, size_t cap) {
    struct sockaddr_storage ss;
    socklen_t n = sizeof ss;
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getpeername(fd, (struct sockaddr *)&ss, &n) != 0 ||
        getnameinfo((struct sockaddr *)&ss, n, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(addr, cap, "?");
        return;
    }
    snprintf(addr, cap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static void forget(Peers *p, int i) {
    close(p->c[i].dup);
    p->c[i] = p->c[--p->n];
}

void peers_accepted(Peers *p, int fd) {
    /* an fd libzmq reused before we saw its disconnect: the old entry is stale */
    for (int i = 0; i < p->n; i++)
        if (p->c[i].fd == fd) {
            forget(p, i);
            break;
        }
    if (fd < 0 || p->n == PEERS_MAX) return;
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) return;
    PeerConn *c = &p->c[p->n];
    peer_name(d, c->addr, sizeof c->addr);
    if (!strcmp(c->addr, "?")) { /* closed already (or the fd is something else now) */
        close(d);
        return;
    }
    c->fd = fd;
    c->dup = d;
    p->n++;
}

bool peers_closed(Peers *p, int fd, char *addr, size_t cap, bool *unread) {
    snprintf(addr, cap, "?");
    *unread = false;
    for (int i = 0; i < p->n; i++) {
        if (p->c[i].fd != fd) continue;
        snprintf(addr, cap, "%s", p->c[i].addr);
        char b;
        *unread = recv(p->c[i].dup, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
        forget(p, i);
        return true;
    }
    return false;
}

void peers_clear(Peers *p) {
    while (p->n > 0) forget(p, p->n - 1);
}
