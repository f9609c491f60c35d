/* listener.h: a TCP listening socket on the node's event loop, handing
 * each accepted (non-blocking, close-on-exec) socket to its protocol. */
#ifndef ROOST_NODE_CORE_LISTENER_H
#define ROOST_NODE_CORE_LISTENER_H

#include <event2/event.h>
#include <event2/util.h>
#include <sys/socket.h>

#include "lib/rs_err.h"

struct listener;

/* The callee owns fd from here on (it must close it). */
typedef void listener_accept_fn(void *arg, evutil_socket_t fd,
                                const struct sockaddr *sa, int salen);

/* Binds host:port (numeric address) with SO_REUSEADDR. 0 or -1 with err. */
int listener_open(struct event_base *base, const char *host, unsigned port,
                  listener_accept_fn *cb, void *arg, struct listener **l_r,
                  struct rs_err *err) RS_MUST_CHECK;
/* Stops accepting (for shutdown); the socket stays bound. */
void listener_pause(struct listener *l);
/* Closes the socket; NULL-safe. */
void listener_free(struct listener **pp);

#endif
