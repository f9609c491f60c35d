/* coord_etcd.h: the coordination backend of a cluster: etcd's v3 JSON
 * gateway, spoken with libcurl's multi interface on the owner's libevent
 * loop (nothing blocks). Several endpoints fail over; TLS and etcd's
 * password authentication are optional. See coord.h for the contract. */
#ifndef ROOST_CLUSTER_COORD_ETCD_H
#define ROOST_CLUSTER_COORD_ETCD_H

#include <stddef.h>

#include "cluster/coord.h"
#include "lib/rs_err.h"

struct event_base;

struct coord_etcd_opts {
	/* borrowed (copied by coord_etcd_new): "http://127.0.0.1:2379" or
	 * "https://…", tried in order, the first that answers preferred. */
	const char *const *endpoints;
	size_t             nendpoints;
	/* TLS (https endpoints): the CA that signs etcd's certificate, and
	 * the client certificate and key etcd may require. NULL: unused. */
	const char        *ca_file;
	const char        *cert_file;
	const char        *key_file;
	/* etcd authentication; NULL user: none. */
	const char        *user;
	const char        *password;
	/* Per request attempt; 0: 5000. A call tries every endpoint once
	 * and retries with backoff until this much time has passed. Also
	 * how long a watch waits for etcd to confirm its stream. */
	unsigned           request_timeout_ms;
	/* Keys per range page; 0: 2000. Tests set it small. */
	unsigned           page_size;
};

/* Makes a coord on base (which must outlive it); no request is made yet,
 * so coord_state() is COORD_DOWN until etcd first answers. 0 and *c_r
 * set (free with coord_free), or RS_EINVAL in err (no endpoint, an
 * endpoint that is not http:// or https://). */
int coord_etcd_new(struct event_base *base, const struct coord_etcd_opts *o,
                   struct coord **c_r, struct rs_err *err) RS_MUST_CHECK;

#endif
