/* node_int.h: what node.c (wiring, start and stop) and node_cluster.c
 * (the cluster half of the wiring) share. */
#ifndef ROOST_NODE_ROOSTD_NODE_INT_H
#define ROOST_NODE_ROOSTD_NODE_INT_H

#include <event2/event.h>
#include <stdbool.h>

#include "cluster/coord.h"
#include "lib/rs_config.h"
#include "lib/rs_err.h"
#include "node/core/node_ctx.h"

struct loop_exec;
struct worker_pool;
struct admin;
struct http_server;
struct smtp_server;
struct pop3_server;
struct imap_server;
struct cluster;
struct repl;
struct cidr_list;

/* Cluster mode's settings (node_cluster_config). */
struct node_cluster_cfg {
	bool        enabled;
	const char *name;             /* borrowed from the config */
	const char *node_id;
	const char *advertise;        /* host peers and proxies use */
	char       *etcd;             /* owns: a copy, split in place */
	const char *endpoints[8];     /* into etcd */
	size_t      nendpoints;
	uint64_t    lease_ttl;        /* seconds */
	uint64_t    etcd_timeout_ms;
	uint64_t    repl_timeout_ms;  /* replication.timeout */
	uint64_t    repl_log_bytes;   /* replication.log_size */
	bool        new_data_dir;     /* its identity was written now */
};

struct node {
	struct node_ctx     ctx;
	struct rs_config   *cfg;        /* owns */
	char               *data_dir;   /* owns */
	char                hostname[256];
	char               *bind;       /* owns */
	struct cidr_list   *proxy_from; /* owns; ctx.proxy_from borrows */
	int                 lock_fd;
	struct loop_exec   *lexec;      /* owns */
	struct coord       *coord;      /* owns */
	struct cluster     *cluster;    /* owns; NULL: standalone */
	struct repl        *repl;       /* owns; NULL: standalone */
	struct event       *health_tick; /* owns: store health -> cluster */
	struct node_cluster_cfg ccfg;   /* cluster mode's settings */
	char                guard_pkey[COORD_KEY_MAX]; /* dir guard's keys */
	char                guard_ukey[COORD_KEY_MAX];
	struct worker_pool *workers;    /* owns */
	/* owns: reads partitions' copies for replicas catching up, apart
	 * from workers so that logins do not queue behind them; NULL
	 * standalone, and once stopped (reads then run on the loop). */
	struct worker_pool *copy_workers;
	struct admin       *admin;      /* owns */
	struct http_server *http;       /* owns */
	struct smtp_server *smtp;       /* owns */
	struct pop3_server *pop3;       /* owns */
	struct imap_server *imap;       /* owns */
	struct event       *sig_term, *sig_int; /* owns */
	unsigned            stopping;   /* servers still draining */
	int                 exit_code;
};

/* ---- node_cluster.c ---- */

/* Reads the cluster settings (node->ccfg); standalone leaves enabled
 * false. 0 or -1 with err. */
int node_cluster_config(struct node *n, struct rs_err *err) RS_MUST_CHECK;
/* Cluster mode: the etcd client, then joining (config, view, presence);
 * ready(n) runs on success, and on failure the node logs one line and
 * stops with exit status 1. */
int node_cluster_start(struct node *n, void (*ready)(struct node *n),
                       struct rs_err *err) RS_MUST_CHECK;
/* Leaves the cluster (revokes the lease), then done(n). */
void node_cluster_leave(struct node *n, void (*done)(struct node *n));
/* Stops replication: before the store closes. */
void node_cluster_stop(struct node *n);
/* Frees the coord (first) and the cluster. */
void node_cluster_free(struct node *n);

#endif
