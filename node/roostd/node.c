/* node.c: wiring of a node. Start-up order: data directory (locked),
 * store, coordination backend, directory (loaded into memory), then the
 * listeners; /healthz says 200 only once all of them serve. Shutdown is
 * the reverse, and the store is closed last so that every acknowledged
 * write is on disk. */
#include "node/roostd/node.h"
#include "node/roostd/node_int.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/coord_local.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/admin/admin_api.h"
#include "node/auth/auth.h"
#include "node/core/cidr_list.h"
#include "node/core/loop_exec.h"
#include "node/core/node_ctx.h"
#include "node/core/worker.h"
#include "node/deliver/deliver.h"
#include "node/dir/dir.h"
#include "node/http/http_server.h"
#include "node/imap/imap_server.h"
#include "node/notify/notify.h"
#include "node/pop3/pop3_server.h"
#include "node/smtp/smtp_server.h"
#include "storage/store.h"

#define NODE_SHUTDOWN_GRACE_MS 10000


/* Every key a node reads; anything else in the configuration is a typo
 * an admin wants to hear about, not a setting silently ignored. */
static const char *const node_known_keys[] = {
	"standalone", "data_dir", "port_base", "bind", "hostname", "node_id",
	"cluster", "log_level", "partitions", "plaintext_auth",
	"proxy_protocol_from",
	"admin_token_file", "password_scrypt_ln", "auth.cache_ttl",
	"auth.failure_delay", "store.cache_size", "store.sync",
	"store.write_buffer_size",
	"store.changes_keep", "store.min_free",
	"smtp.max_message_size", "smtp.max_recipients", "smtp.max_line",
	"smtp.max_errors", "smtp.max_junk_commands", "smtp.timeout",
	"smtp.data_timeout",
	"smtp.max_connections", "smtp.max_connections_per_ip",
	"pop3.timeout", "pop3.max_errors", "pop3.max_auth_failures",
	"pop3.max_connections", "pop3.max_connections_per_ip",
	"imap.timeout", "imap.max_errors", "imap.max_auth_failures",
	"imap.max_connections", "imap.max_connections_per_ip",
	"imap.max_line", "imap.max_literal", "imap.search_threads",
	"etcd", "advertise", "cluster.lease_ttl", "cluster.rpc_timeout",
	"replication.timeout", "replication.log_size",
	"etcd.timeout",
	"etcd.ca_file", "etcd.cert_file", "etcd.key_file", "etcd.user",
	"etcd.password_file",
};

static int
node_check_keys(const struct rs_config *c, struct rs_err *err)
{
	size_t nk = sizeof(node_known_keys) / sizeof(node_known_keys[0]);

	for (size_t i = 0; i < rs_config_count(c); i++) {
		const char *k = rs_config_key_at(c, i);
		size_t j;

		for (j = 0; j < nk; j++)
			if (strcmp(k, node_known_keys[j]) == 0)
				break;
		if (j == nk)
			return rs_err_set(err, RS_EINVAL, "unknown setting %s", k);
	}
	return 0;
}

/* proxy_protocol_from: the load balancers (HAProxy) whose connections
 * carry the client's address in a PROXY header. */
static int
node_config_proxy(struct node *n, struct rs_err *err)
{
	const char *s = rs_config_get_str(n->cfg, "proxy_protocol_from", "");
	struct rs_err e;
	char v[256];

	if (cidr_list_parse(s, &n->proxy_from, &e) != 0)
		return rs_err_set(err, RS_EINVAL, "proxy_protocol_from: %s",
		                  e.msg);
	n->ctx.proxy_from = n->proxy_from;
	if (cidr_list_count(n->proxy_from) > 0)
		rs_log(RS_LOG_INFO, "node.proxy_protocol", "from=%s",
		       rs_log_val(v, sizeof(v), s, strlen(s)));
	return 0;
}

static int
node_config(struct node *n, struct rs_err *err)
{
	const struct rs_config *c = n->cfg;
	const char *s;
	uint64_t v;
	enum rs_log_level lvl;
	bool standalone;

	if (node_check_keys(c, err) != 0)
		return -1;
	if (rs_log_level_parse(rs_config_get_str(c, "log_level", "info"),
	                       &lvl) != 0)
		return rs_err_set(err, RS_EINVAL, "log_level: expected debug, "
		                  "info, warn or error");
	rs_log_setup(lvl, 2);
	if ((s = rs_config_get(c, "data_dir")) == NULL || s[0] == '\0')
		return rs_err_set(err, RS_EINVAL, "data_dir is not set");
	n->data_dir = rs_xstrdup(s);
	if (rs_config_get_u64(c, "port_base", 10100, 0, 65535 - 99, &v,
	                      err) != 0)
		return -1;
	n->ctx.port_base = (unsigned)v;
	n->bind = rs_xstrdup(rs_config_get_str(c, "bind", "127.0.0.1"));
	if ((s = rs_config_get(c, "hostname")) != NULL && s[0] != '\0')
		snprintf(n->hostname, sizeof(n->hostname), "%s", s);
	else if (gethostname(n->hostname, sizeof(n->hostname) - 1) != 0 ||
	         n->hostname[0] == '\0')
		snprintf(n->hostname, sizeof(n->hostname), "localhost");
	if (rs_config_get_bool(c, "standalone", false, &standalone, err) != 0)
		return -1;
	if (!standalone && node_cluster_config(n, err) != 0)
		return -1;
	n->ctx.node_id = standalone ? n->hostname : n->ccfg.node_id;
	s = rs_config_get_str(c, "plaintext_auth", "loopback");
	if (strcmp(s, "any") == 0)
		n->ctx.plaintext_auth_any = true;
	else if (strcmp(s, "loopback") != 0)
		return rs_err_set(err, RS_EINVAL, "plaintext_auth: expected "
		                  "loopback or any");
	return node_config_proxy(n, err);
}

/* Creates and locks the data directory so two nodes never share it. */
static int
node_lock_data_dir(struct node *n, struct rs_err *err)
{
	char *path;

	if (mkdir(n->data_dir, 0700) != 0 && errno != EEXIST)
		return rs_err_set(err, RS_EIO, "mkdir %s: %s", n->data_dir,
		                  strerror(errno));
	path = rs_xasprintf("%s/roostd.lock", n->data_dir);
	n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (n->lock_fd < 0)
		return rs_err_set(err, RS_EIO, "lock file in %s: %s", n->data_dir,
		                  strerror(errno));
	if (flock(n->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return rs_err_set(err, RS_ECONFLICT, "%s is in use by another "
		                  "roostd", n->data_dir);
	return 0;
}

/* A data directory belongs to one standalone node, or to one node of one
 * cluster: its store holds that node's partitions. The first start
 * records which (DATA_DIR/identity); a later start as anything else is
 * refused rather than mixing two systems' mail. */
static int
node_check_identity(struct node *n, struct rs_err *err)
{
	char want[256], have[256] = "";
	char *path = rs_xasprintf("%s/identity", n->data_dir);
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (n->ccfg.enabled)
		snprintf(want, sizeof(want), "cluster %s node %s\n",
		         n->ccfg.name, n->ccfg.node_id);
	else
		snprintf(want, sizeof(want), "standalone\n");
	if (f != NULL) {
		if (fgets(have, sizeof(have), f) == NULL)
			have[0] = '\0';
		fclose(f);
	}
	if (have[0] != '\0' && strcmp(have, want) != 0) {
		have[strcspn(have, "\n")] = '\0';
		rc = rs_err_set(err, RS_ECONFLICT, "%s belongs to %s, not to "
		                "this node: use another --data-dir", n->data_dir,
		                have);
	} else if (have[0] == '\0') {
		/* A cluster node on a new directory may be named by the
		 * records for data it no longer has (cluster.h). */
		n->ccfg.new_data_dir = n->ccfg.enabled;
		f = fopen(path, "w");
		if (f == NULL || fputs(want, f) == EOF || fflush(f) != 0 ||
		    fsync(fileno(f)) != 0)
			rc = rs_err_set(err, RS_EIO, "write %s: %s", path,
			                strerror(errno));
		if (f != NULL)
			fclose(f);
	}
	free(path);
	return rc;
}

/* Thousands of IDLE and SMTP connections need descriptors: the soft
 * limit goes up to the hard one. */
static void
node_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		rs_log(RS_LOG_WARN, "node.nofile", "error=\"%s\"",
		       strerror(errno));
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			rs_log(RS_LOG_WARN, "node.nofile", "error=\"%s\"",
			       strerror(errno));
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	rs_log(RS_LOG_INFO, "node.nofile", "limit=%llu",
	       (unsigned long long)rl.rlim_cur);
}

static void
node_status(void *arg, json_t *st)
{
	struct node *n = arg;

	json_object_set_new(st, "sessions", json_pack("{s:I,s:I,s:I}",
	    "smtp", (json_int_t)(n->smtp ? smtp_server_sessions(n->smtp) : 0),
	    "pop3", (json_int_t)(n->pop3 ? pop3_server_sessions(n->pop3) : 0),
	    "imap", (json_int_t)(n->imap ? imap_server_sessions(n->imap) : 0)));
	if (n->ctx.store != NULL) {
		struct store_stats ss;

		store_stats_get(n->ctx.store, &ss);
		json_object_set_new(st, "store", json_pack(
		    "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		    "ops", (json_int_t)ss.ops,
		    "ops_failed", (json_int_t)ss.ops_failed,
		    "queued", (json_int_t)ss.queued,
		    "groups", (json_int_t)ss.groups,
		    "syncs", (json_int_t)ss.syncs,
		    "sync_errors", (json_int_t)ss.sync_errors,
		    "sync_us", (json_int_t)ss.sync_us,
		    "sync_us_max", (json_int_t)ss.sync_us_max,
		    "commit_us", (json_int_t)ss.commit_us,
		    "commit_us_max", (json_int_t)ss.commit_us_max));
	}
}

static int
node_open_store(struct node *n, struct rs_err *err)
{
	struct store_opts so = { 0 };
	char *path = rs_xasprintf("%s/store", n->data_dir);
	uint64_t cache, wbuf, keep, minfree;
	bool sync;
	int rc;

	if (rs_config_get_u64(n->cfg, "store.cache_size", 64 << 20, 1 << 20,
	                      UINT64_MAX, &cache, err) != 0 ||
	    rs_config_get_u64(n->cfg, "store.write_buffer_size", 64 << 20,
	                      256 << 10, (uint64_t)1 << 30, &wbuf, err) != 0 ||
	    rs_config_get_bool(n->cfg, "store.sync", true, &sync, err) != 0 ||
	    rs_config_get_u64(n->cfg, "store.changes_keep", STORE_CHANGES_KEEP,
	                      8, UINT64_MAX, &keep, err) != 0 ||
	    /* The reserve RocksDB needs once deliveries stop: flushing
	     * the memtables and starting a new WAL. */
	    rs_config_get_u64(n->cfg, "store.min_free", 3 * wbuf, 0,
	                      UINT64_MAX, &minfree, err) != 0) {
		free(path);
		return -1;
	}
	so.path = path;
	so.cache_bytes = (size_t)cache;
	so.sync = sync;
	so.write_buffer_bytes = (size_t)wbuf;
	so.changes_keep = keep;
	so.min_free = minfree;
	rc = store_open(&so, &n->ctx.store, err);
	free(path);
	return rc;
}

int
node_new(struct rs_config *cfg, struct node **r, struct rs_err *err)
{
	struct node *n = rs_xcalloc(1, sizeof(*n));
	char token[256];
	const char *tf;
	char *tpath;
	uint64_t parts;
	int rc;

	n->cfg = cfg;
	n->lock_fd = -1;
	n->ctx.cfg = cfg;
	*r = n;
	if (node_config(n, err) != 0 || node_lock_data_dir(n, err) != 0 ||
	    node_check_identity(n, err) != 0)
		return -1;
	n->ctx.hostname = n->hostname;
	n->ctx.bind = n->bind;
	if (rs_config_get_u64(cfg, "partitions", 16, 1, 65536, &parts, err) != 0)
		return -1;
	node_raise_nofile();
	evthread_use_pthreads();
	{
		/* The changelist folds an event's add and delete within one loop
		 * turn into nothing, saving epoll_ctl calls per reply. */
		struct event_config *ec = event_config_new();

		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		n->ctx.base = event_base_new_with_config(ec);
		event_config_free(ec);
	}
	if (n->ctx.base == NULL)
		return rs_err_set(err, RS_EIO, "event_base_new failed");
	n->lexec = loop_exec_new(n->ctx.base);
	n->ctx.exec = loop_exec_exec(n->lexec);
	if (node_open_store(n, err) != 0)
		return -1;
	n->ctx.notify = notify_new(&n->ctx);
	if (!n->ccfg.enabled) {
		/* A cluster's directory comes once the node joined (it needs
		 * the cluster's partition count): node_cluster.c. */
		n->coord = coord_local_new(n->ctx.store, n->ctx.exec);
		n->ctx.dir = dir_new(n->coord, "/roost/standalone/",
		                     (uint32_t)parts);
		n->ctx.deliver = deliver_new(&n->ctx);
	}
	n->workers = worker_pool_new(2);
	n->ctx.auth = auth_new(&n->ctx, n->workers);
	token[0] = '\0';
	if (!n->ccfg.enabled) {
		/* A cluster keeps the token's hash in etcd (cluster init). */
		tf = rs_config_get(cfg, "admin_token_file");
		tpath = tf != NULL ? rs_xstrdup(tf)
		                   : rs_xasprintf("%s/admin.token", n->data_dir);
		rc = admin_token_load(tpath, token, sizeof(token), err);
		free(tpath);
		if (rc != 0)
			return -1;
	}
	n->admin = admin_new(&n->ctx, n->workers, token, node_status, n);
	memset(token, 0, sizeof(token));
	return http_server_new(&n->ctx, n->admin, &n->http, err);
}

static void
node_left(struct node *n)
{
	event_base_loopexit(n->ctx.base, NULL);
}

static void
node_server_stopped(void *arg)
{
	struct node *n = arg;

	/* Last, the node leaves the cluster: its lease goes at once, and
	 * the others see it gone without waiting for the TTL. */
	if (--n->stopping == 0)
		node_cluster_leave(n, node_left);
}

static void
node_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;

	(void)what;
	if (n->ctx.stopping || n->ctx.dir == NULL || n->smtp == NULL) {
		/* A second signal, or one before the node serves. */
		rs_log(RS_LOG_WARN, "node.stop_now", "signal=%d", (int)sig);
		event_base_loopexit(n->ctx.base, NULL);
		return;
	}
	rs_log(RS_LOG_INFO, "node.stopping", "signal=%d", (int)sig);
	n->ctx.stopping = true;
	http_server_set_serving(n->http, false);
	n->stopping = 1;                 /* held until all are asked */
	if (n->smtp != NULL) {
		n->stopping++;
		smtp_server_shutdown(n->smtp, NODE_SHUTDOWN_GRACE_MS,
		                     node_server_stopped, n);
	}
	if (n->pop3 != NULL) {
		n->stopping++;
		pop3_server_shutdown(n->pop3, NODE_SHUTDOWN_GRACE_MS,
		                     node_server_stopped, n);
	}
	if (n->imap != NULL) {
		n->stopping++;
		imap_server_shutdown(n->imap, NODE_SHUTDOWN_GRACE_MS,
		                     node_server_stopped, n);
	}
	node_server_stopped(n);
}

/* A failover or move took a partition from this node: its sessions go. */
static void
node_partition_lost(void *arg, uint32_t part)
{
	struct node *n = arg;

	if (n->imap != NULL)
		imap_server_partition_lost(n->imap, part);
	if (n->pop3 != NULL)
		pop3_server_partition_lost(n->pop3, part);
}

static void
node_on_dir_loaded(void *arg, int rc, const struct rs_err *err)
{
	struct node *n = arg;
	struct rs_err serr;

	if (rc != 0) {
		rs_log(RS_LOG_ERR, "node.dir_load_failed", "error=\"%s\"",
		       err != NULL ? err->msg : rs_err_name(rc));
		n->exit_code = 1;
		event_base_loopexit(n->ctx.base, NULL);
		return;
	}
	if (smtp_server_new(&n->ctx, &n->smtp, &serr) != 0 ||
	    pop3_server_new(&n->ctx, &n->pop3, &serr) != 0 ||
	    imap_server_new(&n->ctx, &n->imap, &serr) != 0) {
		rs_log(RS_LOG_ERR, "node.listen_failed", "error=\"%s\"", serr.msg);
		n->exit_code = 1;
		event_base_loopexit(n->ctx.base, NULL);
		return;
	}
	http_server_set_serving(n->http, true);
	if (n->cluster != NULL)
		cluster_on_lost(n->cluster, node_partition_lost, n);
	rs_log(RS_LOG_INFO, "node.serving", "host=%s bind=%s port_base=%u "
	       "data_dir=%s", n->hostname, n->bind, n->ctx.port_base,
	       n->data_dir);
}

/* Loads the directory; the servers start once it is in memory. */
static void
node_start_dir(struct node *n)
{
	struct rs_err err;

	if (dir_start(n->ctx.dir, node_on_dir_loaded, n, &err) != 0) {
		rs_log(RS_LOG_ERR, "node.dir_start_failed", "error=\"%s\"",
		       err.msg);
		n->exit_code = 1;
		event_base_loopexit(n->ctx.base, NULL);
	}
}

int
node_run(struct node *n)
{
	struct rs_err err;

	signal(SIGPIPE, SIG_IGN);
	n->sig_term = evsignal_new(n->ctx.base, SIGTERM, node_on_signal, n);
	n->sig_int = evsignal_new(n->ctx.base, SIGINT, node_on_signal, n);
	evsignal_add(n->sig_term, NULL);
	evsignal_add(n->sig_int, NULL);
	if (n->ccfg.enabled) {
		if (node_cluster_start(n, node_start_dir, &err) != 0) {
			fprintf(stderr, "roostd: %s\n", err.msg);
			return 1;
		}
	} else {
		node_start_dir(n);
	}
	event_base_dispatch(n->ctx.base);
	rs_log(RS_LOG_INFO, "node.stopped", "exit=%d", n->exit_code);
	return n->exit_code;
}

void
node_free(struct node **pp)
{
	struct node *n = *pp;

	if (n == NULL)
		return;
	smtp_server_free(&n->smtp);
	pop3_server_free(&n->pop3);
	imap_server_free(&n->imap);
	http_server_free(&n->http);
	admin_free(&n->admin);
	/* Workers post their completions to the loop: stop them, then run
	 * what they posted, before the things those completions touch go. */
	worker_pool_free(&n->workers);
	worker_pool_free(&n->copy_workers);
	if (n->ctx.base != NULL)
		event_base_loop(n->ctx.base, EVLOOP_NONBLOCK);
	auth_free(&n->ctx.auth);
	node_cluster_stop(n);           /* replication lets go of the store */
	store_close(&n->ctx.store);     /* every queued write completes */
	if (n->ctx.base != NULL)
		event_base_loop(n->ctx.base, EVLOOP_NONBLOCK);
	/* After the store: its writer calls notify's hook until closed. */
	notify_free(&n->ctx.notify);
	dir_free(&n->ctx.dir);
	node_cluster_free(n);           /* frees the coord, either kind */
	loop_exec_free(&n->lexec);
	if (n->sig_term != NULL)
		event_free(n->sig_term);
	if (n->sig_int != NULL)
		event_free(n->sig_int);
	if (n->ctx.base != NULL)
		event_base_free(n->ctx.base);
	if (n->lock_fd >= 0)
		close(n->lock_fd);
	free(n->data_dir);
	free(n->bind);
	cidr_list_free(&n->proxy_from);
	rs_config_free(&n->cfg);
	free(n);
	*pp = NULL;
}
