/* admin_digest.c: GET /api/v1/partitions/<p>/digest, this node's digest
 * of one partition (storage/store_repl.h, store_repl_digest), so that an
 * operator or a test can tell whether the replicas of a partition hold
 * the same data. Read-only; the partition is read on a worker, since it
 * may be large. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "lib/rs_mem.h"
#include "node/admin/admin_int.h"
#include "node/core/node_ctx.h"
#include "node/core/worker.h"
#include "storage/store_repl.h"

struct admin_digest_job {
	struct admin_req   *r;
	uint32_t            part;
	struct store_digest d;
	int                 rc;
	struct rs_err       err;
};

static void
admin_digest_work(void *arg)
{
	struct admin_digest_job *j = arg;

	j->rc = store_repl_digest(j->r->adm->node->store, j->part, &j->d,
	                          &j->err);
}

static void
admin_digest_done(void *arg)
{
	struct admin_digest_job *j = arg;
	char hex[2 * sizeof(j->d.sha256) + 1];

	if (j->rc != 0) {
		admin__reply_rc(j->r, j->err.code, &j->err);
		free(j);
		return;
	}
	for (size_t i = 0; i < sizeof(j->d.sha256); i++)
		snprintf(hex + 2 * i, 3, "%02x", j->d.sha256[i]);
	admin__reply_json(j->r, 200, json_pack("{s:I,s:I,s:I,s:I,s:s}",
	    "partition", (json_int_t)j->part,
	    "lsn", (json_int_t)j->d.pos.lsn,
	    "epoch", (json_int_t)j->d.pos.epoch,
	    "keys", (json_int_t)j->d.keys,
	    "sha256", hex));
	free(j);
}

/* The partition count this node places accounts by. */
static uint64_t
admin_digest_nparts(const struct admin *adm)
{
	uint64_t parts = 0;

	if (adm->node->cluster != NULL)
		return cluster_config(adm->node->cluster)->partitions;
	if (rs_config_get_u64(adm->node->cfg, "partitions", 16, 1, 65536,
	                      &parts, NULL) != 0)
		return 0;
	return parts;
}

void
admin__partitions(struct admin_req *r)
{
	struct admin_digest_job *j;
	unsigned long long p;
	char *end;

	if (r->nseg != 3 || strcmp(r->seg[2], "digest") != 0) {
		admin__reply_error(r, 404, "no such resource");
		return;
	}
	if (r->method != EVHTTP_REQ_GET) {
		admin__reply_error(r, 405, "method not allowed");
		return;
	}
	errno = 0;
	p = strtoull(r->seg[1], &end, 10);
	if (r->seg[1][0] < '0' || r->seg[1][0] > '9' || *end != '\0' ||
	    errno != 0 || p >= admin_digest_nparts(r->adm)) {
		admin__reply_error(r, 404, "no such partition: %s", r->seg[1]);
		return;
	}
	j = rs_xcalloc(1, sizeof(*j));
	j->r = r;
	j->part = (uint32_t)p;
	worker_pool_run(r->adm->wp, admin_digest_work, admin_digest_done, j,
	                r->adm->node->exec);
}
