/* endpoint.c: checks a ZeroMQ endpoint given on the command line before it reaches zmq_bind/zmq_connect. */
#include "serve/endpoint.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static int tcp_check(const char *ep, const char *rest, int bind) {
    const char *colon = strrchr(rest, ':');
    if (!colon || colon == rest) return rn_fail("%s: want tcp://HOST:PORT", ep);
    const char *port = colon + 1;
    if (bind && !strcmp(port, "*")) return 0;
    char *end = NULL;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 1 || p > 65535)
        return rn_fail("%s: port \"%s\" must be 1..65535%s", ep, port, bind ? " (or * for any free port)" : "");
    return 0;
}

int endpoint_check(const char *ep, int bind) {
    if (!ep || !*ep) return rn_fail("no endpoint given");
    if (!strncmp(ep, "tcp://", 6)) return tcp_check(ep, ep + 6, bind);
    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9)) {
        if (!strchr(ep, '/')[2]) return rn_fail("%s: no name after the transport", ep);
        return 0;
    }
    return rn_fail("%s: want tcp://HOST:PORT, ipc://PATH or inproc://NAME", ep);
}
