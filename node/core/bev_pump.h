/* bev_pump.h: two bufferevents joined: what one reads, the other
 * writes, in both directions, each paced by the other side's output
 * (a side whose output passes the high-water mark stops the other from
 * being read until it drains). For a session served on another node: a
 * client's connection and the peer stream to its primary. Loop thread
 * only. */
#ifndef ROOST_NODE_CORE_BEV_PUMP_H
#define ROOST_NODE_CORE_BEV_PUMP_H

#include <event2/bufferevent.h>
#include <stddef.h>

struct bev_flush;
struct bev_pump;

enum bev_pump_side {
	BEV_PUMP_A,
	BEV_PUMP_B,
};

/* Once, when a side ended (end of file, error or timeout): the pump has
 * moved what that side had read to the other's output and stopped
 * touching both; the owner decides how to close (e.g. let the other
 * side's output drain first). what is BEV_EVENT_* of the side. */
typedef void bev_pump_done_fn(void *arg, enum bev_pump_side side,
                              short what);

/* Takes over both bufferevents' callbacks (the owner keeps owning the
 * bufferevents and frees them after freeing the pump). a_flush: NULL, or
 * the direct writer of a (bev_flush.h, borrowed): what b reads is then
 * written to a's socket at the end of the callback that moved it, as a
 * local session's replies are, not a loop turn later through the write
 * event (an epoll_ctl on and one off per piece). The pump takes over
 * a_flush's drained callback: the owner stops a_flush when it frees the
 * pump. high: octets an output may hold before the other side stops
 * being read. Never returns NULL. */
struct bev_pump *bev_pump_new(struct bufferevent *a,
                              struct bev_flush *a_flush,
                              struct bufferevent *b, size_t high,
                              bev_pump_done_fn *done, void *arg);
/* Detaches from both bufferevents (their callbacks are cleared);
 * NULL-safe. */
void bev_pump_free(struct bev_pump **pp);

#endif
