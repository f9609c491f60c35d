/* linger.h: the lingering close of a server-side TCP close. Closing a
 * socket whose receive queue still holds data makes the kernel send a
 * reset instead of a FIN and drop whatever it has not yet delivered of
 * the send queue; on many client stacks the reset also discards the
 * reply already received but not yet read. That reply is the one that
 * explains the close (SMTP 552 or 421, POP3 -ERR, IMAP BYE). So the
 * sending side is shut down (a FIN after the queued reply), what the
 * client still sends is read and discarded until it closes too, for at
 * most LINGER_MS, and only then is the socket closed. There is no byte
 * cap: a client that sends the rest of an oversized message at full speed
 * must still get to read the refusal, and discarding costs no copy.
 * Loop thread only. */
#ifndef ROOST_NODE_CORE_LINGER_H
#define ROOST_NODE_CORE_LINGER_H

#include <event2/event.h>

/* How long a lingering socket is drained before it is closed all the
 * same. */
#define LINGER_MS 5000u

struct linger_set;

/* At most max sockets linger at once; beyond that they are closed at
 * once (a flood of closes must not hold descriptors). */
struct linger_set *linger_set_new(struct event_base *base, unsigned max);
/* Takes fd (a connected TCP socket, its reply already written) and
 * closes it gracefully, now or later. */
void linger_close(struct linger_set *ls, evutil_socket_t fd);
/* Closes every lingering socket and frees; NULL-safe, sets *pp NULL. */
void linger_set_free(struct linger_set **pp);

#endif
