/* admin_status.c: /api/v1/status, the node's view of itself. */
#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "cluster/cluster.h"
#include "node/admin/admin_int.h"
#include "node/core/node_ctx.h"
#include "node/dir/dir.h"
#include "storage/store.h"

#ifndef ROOST_VERSION
#define ROOST_VERSION "0.1.0"
#endif

/* The store's health (storage/store.h): ok, low_space or failed, why,
 * since when, and the free space against the reserve. */
static void
admin_status_store(struct admin *adm, json_t *st)
{
	struct store_health h;

	if (adm->node->store == NULL)
		return;
	store_health_get(adm->node->store, &h);
	json_object_set_new(st, "store_state",
	                    json_string(store_state_name(h.state)));
	json_object_set_new(st, "store_reason", json_string(h.reason));
	json_object_set_new(st, "store_since",
	                    json_integer((json_int_t)(h.since / 1000)));
	if (h.free_bytes != UINT64_MAX)
		json_object_set_new(st, "store_free",
		                    json_integer((json_int_t)h.free_bytes));
	json_object_set_new(st, "store_min_free",
	                    json_integer((json_int_t)h.min_free));
}

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
	admin_status_store(adm, st);
	admin__cluster_status(adm, st);
	if (adm->status != NULL)
		adm->status(adm->status_arg, st);
	admin__reply_json(r, 200, st);
}
