/* admin_status.c: /api/v1/status, the node's view of itself. */
#include <jansson.h>
#include <time.h>

#include "cluster/cluster.h"
#include "node/admin/admin_int.h"
#include "node/core/node_ctx.h"
#include "node/dir/dir.h"

#ifndef ROOST_VERSION
#define ROOST_VERSION "0.1.0"
#endif

void
admin__status(struct admin_req *r)
{
	struct admin *adm = r->adm;
	const char *node = adm->node->node_id != NULL ? adm->node->node_id
	                                              : adm->node->hostname;
	uint64_t parts = 0;
	json_t *st;

	if (r->method != EVHTTP_REQ_GET) {
		admin__reply_error(r, 405, "method not allowed");
		return;
	}
	if (adm->node->cluster != NULL)
		parts = cluster_config(adm->node->cluster)->partitions;
	else if (rs_config_get_u64(adm->node->cfg, "partitions", 16, 1, 65536,
	                           &parts, NULL) != 0)
		parts = 0;
	st = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I}",
	               "node", node, "version", ROOST_VERSION,
	               "mode", adm->node->cluster != NULL ? "cluster"
	                                                  : "standalone",
	               "uptime_s", (json_int_t)(time(NULL) - adm->started),
	               "partitions", (json_int_t)parts,
	               "domains", (json_int_t)dir_count_domains(adm->node->dir),
	               "accounts", (json_int_t)dir_count_accounts(adm->node->dir));
	admin__cluster_status(adm, st);
	if (adm->status != NULL)
		adm->status(adm->status_arg, st);
	admin__reply_json(r, 200, st);
}
