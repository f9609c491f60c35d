/* roostctl_cmd_alias.c: "roostctl alias add|del|list" over
 * /api/v1/aliases. "@domain" is a domain's catch-all; the node checks
 * addresses, so nothing here parses them. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_out.h"

static const struct roostctl_optspec roostctl_alias_list_opts[] = {
	{ "json", ROOSTCTL_OPT_FLAG, false, false },
};

static int
roostctl_alias_add(struct roostctl *ctl, const struct roostctl_args *a)
{
	json_t *body = json_object(), *targets = json_array(), *reply = NULL;
	const char *addr;
	char *what, *list;
	int rc;

	/* body owns targets from here; targets stays valid while it lives. */
	json_object_set_new(body, "targets", targets);
	for (size_t i = 0; i < a->npos; i++) {
		json_t *s = json_string(a->pos[i]);
		int bad = s == NULL;

		if (!bad && i == 0)
			bad = json_object_set_new(body, "address", s);
		else if (!bad)
			bad = json_array_append_new(targets, s);
		if (bad) {
			json_decref(body);
			return roostctl_cmd_usage("alias add", "'%s' is not "
			                          "UTF-8", a->pos[i]);
		}
	}
	what = rs_xasprintf("create alias %s", a->pos[0]);
	rc = roostctl_cmd_request(ctl, what, "POST", "/aliases", body, &reply,
	                          NULL);
	if (rc == ROOSTCTL_EXIT_OK) {
		addr = roostctl_out_str(reply, "address");
		list = roostctl_out_join(targets);
		printf("created alias %s -> %s\n",
		       addr[0] != '\0' ? addr : a->pos[0], list);
		free(list);
	}
	json_decref(reply);
	json_decref(body);
	free(what);
	return rc;
}

static int
roostctl_alias_del(struct roostctl *ctl, const struct roostctl_args *a)
{
	return roostctl_cmd_del(ctl, "/aliases", "alias", a->pos[0]);
}

static void
roostctl_alias_row(struct roostctl_table *t, const json_t *al)
{
	char *list = roostctl_out_join(json_object_get(al, "targets"));

	roostctl_out_table_add(t, (const char *[]){
		roostctl_out_str(al, "address"), list });
	free(list);
}

static int
roostctl_alias_list(struct roostctl *ctl, const struct roostctl_args *a)
{
	static const struct roostctl_col cols[] = {
		{ "ADDRESS", false }, { "TARGETS", false },
	};
	static const struct roostctl_list l = {
		"list aliases", "/aliases", "aliases", cols,
		ROOSTCTL_NELEM(cols), roostctl_alias_row,
	};

	return roostctl_cmd_list(ctl, a, &l);
}

static const struct roostctl_sub roostctl_alias_subs[] = {
	{ "add", roostctl_alias_add, NULL, 0, 2, SIZE_MAX, "ADDR TARGET..." },
	{ "del", roostctl_alias_del, NULL, 0, 1, 1, "ADDR" },
	{ "list", roostctl_alias_list, roostctl_alias_list_opts,
	  ROOSTCTL_NELEM(roostctl_alias_list_opts), 0, 0, "" },
};

int
roostctl_cmd_alias(struct roostctl *ctl, int argc, char **argv)
{
	return roostctl_cmd_dispatch(ctl, "alias", roostctl_alias_subs,
	                             ROOSTCTL_NELEM(roostctl_alias_subs), argc,
	                             argv);
}
