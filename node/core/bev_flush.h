/* bev_flush.h: replies written straight to the socket. A bufferevent
 * writes its output one loop turn later, after an epoll_ctl to watch for
 * writability and before another to stop: three system calls and a loop
 * turn per reply, which on small request/reply protocols (SMTP, POP3,
 * IMAP) cost more than the reply itself. With bev_flush the output is
 * written once the current callback is done (all replies of a pipelined
 * batch in one write); the bufferevent's own write event is used only
 * while the socket is full. Loop thread only. */
#ifndef ROOST_NODE_CORE_BEV_FLUSH_H
#define ROOST_NODE_CORE_BEV_FLUSH_H

#include <event2/bufferevent.h>

struct bev_flush;

/* Called after a direct write emptied the output, as the bufferevent's
 * write callback would have been. */
typedef void bev_flush_drained_fn(void *arg);

/* Takes over writing for bev, which must not have EV_WRITE enabled by its
 * owner from now on (its write callback still runs when the bufferevent
 * finishes a write this module handed to it). Never returns NULL. */
struct bev_flush *bev_flush_new(struct event_base *base,
                                struct bufferevent *bev,
                                bev_flush_drained_fn *drained, void *arg);
/* From now on drained(arg) is called instead of the one given to
 * bev_flush_new (a bev_pump relaying through f). */
void bev_flush_set_drained(struct bev_flush *f, bev_flush_drained_fn *drained,
                           void *arg);
/* Call from the bufferevent's write callback: once the output is empty,
 * direct writes take over again. */
void bev_flush_on_write(struct bev_flush *f);
/* Stops everything; call before freeing the bufferevent. NULL-safe. */
void bev_flush_free(struct bev_flush **pp);

#endif
