/* conn_limit.c: counts per address in a map of small heap counters. */
#include "node/core/conn_limit.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/rs_map.h"
#include "lib/rs_mem.h"

struct conn_limit {
	unsigned       max_total, max_per_ip;
	unsigned       total;
	struct rs_map *per_ip;          /* ip -> owned unsigned counter */
};

struct conn_limit *
conn_limit_new(unsigned max_total, unsigned max_per_ip)
{
	struct conn_limit *cl = rs_xcalloc(1, sizeof(*cl));

	cl->max_total = max_total;
	cl->max_per_ip = max_per_ip;
	cl->per_ip = rs_map_new();
	return cl;
}

void
conn_limit_free(struct conn_limit **pp)
{
	struct conn_limit *cl = *pp;
	size_t pos = 0;
	const char *k;
	void *v;

	if (cl == NULL)
		return;
	while (rs_map_next(cl->per_ip, &pos, &k, &v))
		free(v);
	rs_map_free(&cl->per_ip);
	free(cl);
	*pp = NULL;
}

int
conn_limit_enter(struct conn_limit *cl, const char *ip)
{
	unsigned *n = rs_map_get(cl->per_ip, ip);

	if (cl->max_total != 0 && cl->total >= cl->max_total)
		return RS_ETOOBIG;
	if (cl->max_per_ip != 0 && n != NULL && *n >= cl->max_per_ip)
		return RS_EPERM;
	if (n == NULL) {
		n = rs_xcalloc(1, sizeof(*n));
		rs_map_put(cl->per_ip, ip, n);
	}
	(*n)++;
	cl->total++;
	return 0;
}

void
conn_limit_leave(struct conn_limit *cl, const char *ip)
{
	unsigned *n = rs_map_get(cl->per_ip, ip);

	if (n == NULL)
		return;
	cl->total--;
	if (--(*n) == 0)
		free(rs_map_del(cl->per_ip, ip));
}

unsigned
conn_limit_count(const struct conn_limit *cl)
{
	return cl->total;
}
