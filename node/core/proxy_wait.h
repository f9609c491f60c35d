/* proxy_wait.h: connections from a trusted proxy waiting for their PROXY
 * protocol header (proxy_proto.h), before admission and before the
 * protocol sees them. Reading never blocks the loop and never takes an
 * octet past the header: each readable event peeks at what arrived,
 * feeds it to the parser, then consumes exactly the octets the parser
 * used. A client's pipelined bytes therefore stay in the socket for the
 * protocol's own bufferevent. Whom to trust is the caller's decision.
 * Loop thread only. */
#ifndef ROOST_NODE_CORE_PROXY_WAIT_H
#define ROOST_NODE_CORE_PROXY_WAIT_H

#include <event2/event.h>
#include <event2/util.h>
#include <stdint.h>
#include <sys/socket.h>

struct proxy_wait;

/* A header arrived: fd (taken: the callee owns it) with the real client
 * address sa (borrowed for the call), which is the connection's own peer
 * after a v2 LOCAL or a v1 UNKNOWN. Called from the loop, never from
 * inside proxy_wait_add or proxy_wait_free. */
typedef void proxy_wait_done_fn(void *arg, evutil_socket_t fd,
                                const struct sockaddr *sa);

/* name prefixes the log events ("smtp" gives "smtp.proxy_refused"). At
 * most max connections wait at once; each gets timeout_ms in all for its
 * header. Never returns NULL. */
struct proxy_wait *proxy_wait_new(struct event_base *base, const char *name,
                                  unsigned max, uint64_t timeout_ms,
                                  proxy_wait_done_fn *done, void *arg);
/* Takes fd (connected, non-blocking) from peer sa. Later either done runs,
 * or the connection is closed without a word and logged
 * "<name>.proxy_refused peer=… reason=…" (too_many_waiting, timeout, eof,
 * io_error, or the parser's reason). */
void proxy_wait_add(struct proxy_wait *pw, evutil_socket_t fd,
                    const struct sockaddr *sa);
/* Connections waiting now. */
unsigned proxy_wait_count(const struct proxy_wait *pw);
/* Closes every waiting connection (done is not called) and frees;
 * NULL-safe, sets *pp to NULL. */
void proxy_wait_free(struct proxy_wait **pp);

#endif
