/* roostctl_cmd_node.c: "roostctl node add|list" over /api/v1/nodes: a
 * running node becomes a member of the cluster (and receives partitions),
 * and the nodes as the cluster sees them. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_out.h"

static const struct roostctl_optspec roostctl_node_add_opts[] = {
	{ "zone", ROOSTCTL_OPT_STR, false, false },
};

static const struct roostctl_optspec roostctl_node_list_opts[] = {
	{ "json", ROOSTCTL_OPT_FLAG, false, false },
};

static int
roostctl_node_add(struct roostctl *ctl, const struct roostctl_args *a)
{
	const char *zone = roostctl_args_get(a, "zone");
	json_t *body = json_pack("{s:s,s:s}", "id", a->pos[0], "zone",
	                         zone != NULL ? zone : ""), *reply = NULL;
	char *what;
	int rc;

	if (body == NULL)
		return roostctl_cmd_usage("node add", "ID is not UTF-8");
	what = rs_xasprintf("add node %s", a->pos[0]);
	rc = roostctl_cmd_request(ctl, what, "POST", "/nodes", body, &reply,
	                          NULL);
	if (rc == ROOSTCTL_EXIT_OK)
		printf("added node %s\n", a->pos[0]);
	json_decref(reply);
	json_decref(body);
	free(what);
	return rc;
}

void
roostctl_node_row(struct roostctl_table *t, const json_t *n)
{
	char prim[24], reps[24];
	const json_t *addr = json_object_get(n, "addr");
	const char *row[7] = {
		roostctl_out_str(n, "id"),
		json_is_true(json_object_get(n, "alive")) ? "yes" : "no",
		roostctl_out_str(n, "state"), prim, reps,
		json_is_string(addr) ? json_string_value(addr) : "-",
		roostctl_out_str(n, "zone"),
	};

	snprintf(prim, sizeof(prim), "%llu",
	         (unsigned long long)roostctl_out_u64(n, "primaries"));
	snprintf(reps, sizeof(reps), "%llu",
	         (unsigned long long)roostctl_out_u64(n, "replicas"));
	roostctl_out_table_add(t, row);
}

static const struct roostctl_col roostctl_node_col[ROOSTCTL_NODE_NCOLS] = {
	{ "NODE", false }, { "ALIVE", false }, { "STATE", false },
	{ "PRIMARIES", true }, { "REPLICAS", true }, { "ADDRESS", false },
	{ "ZONE", false },
};

const struct roostctl_col *
roostctl_node_cols(void)
{
	return roostctl_node_col;
}

static int
roostctl_node_list(struct roostctl *ctl, const struct roostctl_args *a)
{
	static const struct roostctl_list l = {
		"list nodes", "/nodes", "nodes", roostctl_node_col,
		ROOSTCTL_NODE_NCOLS, roostctl_node_row,
	};

	return roostctl_cmd_list(ctl, a, &l);
}

static const struct roostctl_sub roostctl_node_subs[] = {
	{ "add", roostctl_node_add, roostctl_node_add_opts,
	  ROOSTCTL_NELEM(roostctl_node_add_opts), 1, 1, "ID" },
	{ "list", roostctl_node_list, roostctl_node_list_opts,
	  ROOSTCTL_NELEM(roostctl_node_list_opts), 0, 0, "" },
};

int
roostctl_cmd_node(struct roostctl *ctl, int argc, char **argv)
{
	return roostctl_cmd_dispatch(ctl, "node", roostctl_node_subs,
	                             ROOSTCTL_NELEM(roostctl_node_subs), argc,
	                             argv);
}
