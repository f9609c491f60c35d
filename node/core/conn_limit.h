/* conn_limit.h: admission control for one service: a cap on concurrent
 * connections in all and from one client address. Loop thread only. */
#ifndef ROOST_NODE_CORE_CONN_LIMIT_H
#define ROOST_NODE_CORE_CONN_LIMIT_H

#include "lib/rs_err.h"

struct conn_limit;

/* 0 means no cap. Never returns NULL. */
struct conn_limit *conn_limit_new(unsigned max_total, unsigned max_per_ip);
void conn_limit_free(struct conn_limit **pp);
/* 0: admitted (call conn_limit_leave later); RS_ETOOBIG: total cap;
 * RS_EPERM: this address's cap. */
int conn_limit_enter(struct conn_limit *cl, const char *ip) RS_MUST_CHECK;
void conn_limit_leave(struct conn_limit *cl, const char *ip);
unsigned conn_limit_count(const struct conn_limit *cl);

#endif
