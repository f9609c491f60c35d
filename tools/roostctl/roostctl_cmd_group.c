/* roostctl_cmd_group.c: "roostctl group add|members|del|list" over
 * /api/v1/groups. "group add" on an existing group adds members: the node
 * answers 200 instead of 201. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_out.h"

static const struct roostctl_optspec roostctl_group_add_opts[] = {
	{ "member", ROOSTCTL_OPT_STR, true, true },
	{ "name", ROOSTCTL_OPT_STR, false, false },
};
static const struct roostctl_optspec roostctl_group_json_opts[] = {
	{ "json", ROOSTCTL_OPT_FLAG, false, false },
};

/* Builds {"address","members","name"?}; NULL when some word is not UTF-8
 * (then *bad_r names it). */
static json_t *
roostctl_group_body(const struct roostctl_args *a, const char **bad_r)
{
	json_t *body = json_object(), *members = json_array();
	const char *name = roostctl_args_get(a, "name"), *m;

	json_object_set_new(body, "members", members);
	*bad_r = a->pos[0];
	if (json_object_set_new(body, "address", json_string(a->pos[0])) != 0)
		goto bad;
	*bad_r = name;
	if (name != NULL &&
	    json_object_set_new(body, "name", json_string(name)) != 0)
		goto bad;
	for (size_t i = 0; (m = roostctl_args_get_nth(a, "member", i)) != NULL;
	     i++) {
		*bad_r = m;
		if (json_array_append_new(members, json_string(m)) != 0)
			goto bad;
	}
	return body;
bad:
	json_decref(body);
	return NULL;
}

static int
roostctl_group_add(struct roostctl *ctl, const struct roostctl_args *a)
{
	size_t n = roostctl_args_count(a, "member");
	json_t *body, *reply = NULL;
	const char *addr, *bad;
	long status = 0;
	char *what;
	int rc;

	body = roostctl_group_body(a, &bad);
	if (body == NULL)
		return roostctl_cmd_usage("group add", "'%s' is not UTF-8",
		                          bad);
	what = rs_xasprintf("add group %s", a->pos[0]);
	rc = roostctl_cmd_request(ctl, what, "POST", "/groups", body, &reply,
	                          &status);
	if (rc == ROOSTCTL_EXIT_OK) {
		addr = roostctl_out_str(reply, "address");
		addr = addr[0] != '\0' ? addr : a->pos[0];
		if (status == 201)
			printf("created group %s with %zu member%s\n", addr, n,
			       n == 1 ? "" : "s");
		else
			printf("added %zu member%s to group %s\n", n,
			       n == 1 ? "" : "s", addr);
	}
	json_decref(reply);
	json_decref(body);
	free(what);
	return rc;
}

static int
roostctl_group_del(struct roostctl *ctl, const struct roostctl_args *a)
{
	return roostctl_cmd_del(ctl, "/groups", "group", a->pos[0]);
}

static void
roostctl_group_member_row(struct roostctl_table *t, const json_t *m)
{
	roostctl_out_table_add(t, (const char *[]){ json_string_value(m) });
}

static int
roostctl_group_members(struct roostctl *ctl, const struct roostctl_args *a)
{
	static const struct roostctl_col cols[] = { { "MEMBER", false } };
	char *path = roostctl_cmd_path(ctl, "/groups", a->pos[0], NULL);
	char *what = rs_xasprintf("show group %s", a->pos[0]);
	const struct roostctl_list l = {
		what, path, "members", cols, ROOSTCTL_NELEM(cols),
		roostctl_group_member_row,
	};
	int rc = roostctl_cmd_list(ctl, a, &l);

	free(what);
	free(path);
	return rc;
}

static void
roostctl_group_row(struct roostctl_table *t, const json_t *g)
{
	char n[24];

	snprintf(n, sizeof(n), "%zu",
	         json_array_size(json_object_get(g, "members")));
	roostctl_out_table_add(t, (const char *[]){
		roostctl_out_str(g, "address"), roostctl_out_str(g, "name"), n });
}

static int
roostctl_group_list(struct roostctl *ctl, const struct roostctl_args *a)
{
	static const struct roostctl_col cols[] = {
		{ "ADDRESS", false }, { "NAME", false }, { "MEMBERS", true },
	};
	static const struct roostctl_list l = {
		"list groups", "/groups", "groups", cols, ROOSTCTL_NELEM(cols),
		roostctl_group_row,
	};

	return roostctl_cmd_list(ctl, a, &l);
}

static const struct roostctl_sub roostctl_group_subs[] = {
	{ "add", roostctl_group_add, roostctl_group_add_opts,
	  ROOSTCTL_NELEM(roostctl_group_add_opts), 1, 1, "ADDR" },
	{ "members", roostctl_group_members, roostctl_group_json_opts,
	  ROOSTCTL_NELEM(roostctl_group_json_opts), 1, 1, "ADDR" },
	{ "del", roostctl_group_del, NULL, 0, 1, 1, "ADDR" },
	{ "list", roostctl_group_list, roostctl_group_json_opts,
	  ROOSTCTL_NELEM(roostctl_group_json_opts), 0, 0, "" },
};

int
roostctl_cmd_group(struct roostctl *ctl, int argc, char **argv)
{
	return roostctl_cmd_dispatch(ctl, "group", roostctl_group_subs,
	                             ROOSTCTL_NELEM(roostctl_group_subs), argc,
	                             argv);
}
