/* liveness.c: the elected controller's quick check that each node's
 * process is still there: a TCP connect to its peer port every half
 * second. A refused connection means no process listens there; for a node
 * seen listening under the same lease, its process is gone (killed,
 * crashed), and the lease is revoked at once instead of left to expire,
 * so a dead primary's partitions fail over in about a second rather than
 * a lease TTL. A node that does not answer at all (frozen, cut off) is
 * left to its lease: only a refusal proves the process is gone, and a
 * frozen process must keep its lease until it can no longer act on it.
 * The other nodes watch the controller alone, the same way: a dead
 * controller's lease (which also holds its election) goes at once, and
 * the next controller fails its partitions over without waiting out the
 * TTL. Revoking is idempotent, so two nodes that find the same process
 * gone do no harm. */
#include "cluster/liveness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/cluster_view.h"
#include "cluster/coord.h"
#include "lib/rs_log.h"
#include "lib/rs_map.h"
#include "lib/rs_mem.h"

#define LIVENESS_PERIOD_MS   500
#define LIVENESS_CONNECT_MS  400

struct liveness;

/* One node's probe state. */
struct lv_node {
	struct liveness *lv;
	char             id[CLUSTER_ID_MAX + 1];
	int64_t          lease;         /* the lease the state is about */
	bool             seen_up;       /* it listened under that lease */
	bool             revoked;
	int              fd;            /* a connect in flight, or -1 */
	struct event    *ev;            /* owns while fd >= 0 */
};

struct liveness {
	struct event_base   *base;
	struct coord        *coord;
	struct cluster_view *view;
	char                 self[CLUSTER_ID_MAX + 1];
	struct rs_map       *nodes;     /* id -> owned lv_node */
	struct event        *tick;      /* owns */
	bool                 active;
};

static void
lv_probe_end(struct lv_node *n)
{
	if (n->ev != NULL)
		event_free(n->ev);
	n->ev = NULL;
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

static void
lv_revoked(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	char *id = arg;

	(void)rev;
	if (rc != 0 && rc != RS_ENOTFOUND)
		rs_log(RS_LOG_WARN, "cluster.revoke_failed", "node=%s error=\"%s\"",
		       id, err != NULL ? err->msg : rs_err_name(rc));
	free(id);
}

/* Whether this node acts on what it finds of node id: the controller
 * watches every node, the others the controller. */
static bool
lv_watches(const struct liveness *lv, const char *id)
{
	return lv->active ||
	       strcmp(id, cluster_view_controller(lv->view)) == 0;
}

/* The outcome of one connect: e is 0 or its errno. */
static void
lv_result(struct lv_node *n, int e)
{
	struct rs_err err;
	char *id;

	if (e == 0) {
		n->seen_up = true;
		return;
	}
	if (e != ECONNREFUSED || !n->seen_up || n->revoked ||
	    !lv_watches(n->lv, n->id))
		return;
	rs_log(RS_LOG_WARN, "cluster.node_gone", "node=%s lease=%lld "
	       "reason=refused", n->id, (long long)n->lease);
	n->revoked = true;
	id = rs_xstrdup(n->id);
	if (coord_lease_revoke(n->lv->coord, n->lease, lv_revoked, id,
	                       &err) != 0)
		free(id);
}

static void
lv_on_connect(evutil_socket_t fd, short what, void *arg)
{
	struct lv_node *n = arg;
	int e = 0;
	socklen_t elen = sizeof(e);

	if ((what & EV_TIMEOUT) != 0) {
		lv_probe_end(n);        /* no answer: left to the lease */
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
		e = errno;
	lv_probe_end(n);
	lv_result(n, e);
}

/* A nonblocking connect to a's peer port (numeric addresses only). */
static void
lv_probe(struct liveness *lv, struct lv_node *n, const struct cluster_alive *a)
{
	struct sockaddr_storage ss;
	struct timeval tv = { 0, LIVENESS_CONNECT_MS * 1000 };
	socklen_t slen;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a->host,
	              &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port =
			htons(a->port_base + CLUSTER_PEER_PORT);
		slen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, a->host,
	                     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port =
			htons(a->port_base + CLUSTER_PEER_PORT);
		slen = sizeof(struct sockaddr_in6);
	} else {
		return;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&ss, slen) == 0) {
		close(fd);
		lv_result(n, 0);
		return;
	}
	if (errno != EINPROGRESS) {
		int e = errno;

		/* Refused at once (loopback does): the same as later. */
		close(fd);
		lv_result(n, e);
		return;
	}
	n->fd = fd;
	n->ev = event_new(lv->base, fd, EV_WRITE, lv_on_connect, n);
	event_add(n->ev, &tv);
}

static void
lv_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct liveness *lv = arg;
	const struct cluster_alive *const *a;
	size_t na = cluster_view_alives(lv->view, &a);
	struct timeval tv = { 0, LIVENESS_PERIOD_MS * 1000 };

	(void)fd;
	(void)what;
	for (size_t i = 0; i < na; i++) {
		struct lv_node *n;

		if (strcmp(a[i]->id, lv->self) == 0 || a[i]->lease == 0 ||
		    !lv_watches(lv, a[i]->id))
			continue;
		n = rs_map_get(lv->nodes, a[i]->id);
		if (n == NULL) {
			n = rs_xcalloc(1, sizeof(*n));
			n->lv = lv;
			n->fd = -1;
			snprintf(n->id, sizeof(n->id), "%s", a[i]->id);
			rs_map_put(lv->nodes, a[i]->id, n);
		}
		if (n->lease != a[i]->lease) {
			/* A new process (or lease): nothing known of it. */
			lv_probe_end(n);
			n->lease = a[i]->lease;
			n->seen_up = n->revoked = false;
		}
		if (n->fd < 0 && !n->revoked)
			lv_probe(lv, n, a[i]);
	}
	evtimer_add(lv->tick, &tv);
}

struct liveness *
liveness_new(struct event_base *base, struct coord *c, struct cluster_view *v,
             const char *self)
{
	struct liveness *lv = rs_xcalloc(1, sizeof(*lv));
	struct timeval tv = { 0, LIVENESS_PERIOD_MS * 1000 };

	lv->base = base;
	lv->coord = c;
	lv->view = v;
	snprintf(lv->self, sizeof(lv->self), "%s", self);
	lv->nodes = rs_map_new();
	lv->tick = evtimer_new(base, lv_on_tick, lv);
	evtimer_add(lv->tick, &tv);
	return lv;
}

void
liveness_set_active(struct liveness *lv, bool on)
{
	lv->active = on;
}

void
liveness_free(struct liveness **pp)
{
	struct liveness *lv = *pp;
	size_t pos = 0;
	const char *k;
	void *v;

	if (lv == NULL)
		return;
	*pp = NULL;
	while (rs_map_next(lv->nodes, &pos, &k, &v)) {
		lv_probe_end(v);
		free(v);
	}
	rs_map_free(&lv->nodes);
	event_free(lv->tick);
	free(lv);
}
