/* endpoint.h: checks a ZeroMQ endpoint given on the command line before it reaches zmq_bind/zmq_connect. */
#pragma once

/* 0 when ep is usable; -1 with rn_errmsg() naming it otherwise. For tcp:// the port (after the last
 * ':') must be 1..65535, or '*' (an ephemeral port) when `bind`; libzmq would otherwise take
 * "tcp://host:99999" modulo 65536 and bind another port than the one said. ipc:// and inproc://
 * need a non-empty name; other transports are refused. */
int endpoint_check(const char *ep, int bind);
