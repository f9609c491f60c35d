/* roostctl_cmd_domain.c: "roostctl domain add|del|list" over
 * /api/v1/domains. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_out.h"

static const struct roostctl_optspec roostctl_domain_list_opts[] = {
	{ "json", ROOSTCTL_OPT_FLAG, false, false },
};

static int
roostctl_domain_add(struct roostctl *ctl, const struct roostctl_args *a)
{
	json_t *body = json_pack("{s:s}", "name", a->pos[0]), *reply = NULL;
	char *what;
	int rc;

	if (body == NULL)
		return roostctl_cmd_usage("domain add", "DOMAIN is not UTF-8");
	what = rs_xasprintf("create domain %s", a->pos[0]);
	rc = roostctl_cmd_request(ctl, what, "POST", "/domains", body, &reply,
	                          NULL);
	if (rc == ROOSTCTL_EXIT_OK) {
		const char *name = roostctl_out_str(reply, "name");

		printf("created domain %s\n",
		       name[0] != '\0' ? name : a->pos[0]);
	}
	json_decref(reply);
	json_decref(body);
	free(what);
	return rc;
}

static int
roostctl_domain_del(struct roostctl *ctl, const struct roostctl_args *a)
{
	return roostctl_cmd_del(ctl, "/domains", "domain", a->pos[0]);
}

static void
roostctl_domain_row(struct roostctl_table *t, const json_t *d)
{
	char n[24];
	const char *row[2] = { roostctl_out_str(d, "name"), n };

	snprintf(n, sizeof(n), "%llu",
	         (unsigned long long)roostctl_out_u64(d, "accounts"));
	roostctl_out_table_add(t, row);
}

static int
roostctl_domain_list(struct roostctl *ctl, const struct roostctl_args *a)
{
	static const struct roostctl_col cols[] = {
		{ "DOMAIN", false }, { "ACCOUNTS", true },
	};
	static const struct roostctl_list l = {
		"list domains", "/domains", "domains", cols,
		ROOSTCTL_NELEM(cols), roostctl_domain_row,
	};

	return roostctl_cmd_list(ctl, a, &l);
}

static const struct roostctl_sub roostctl_domain_subs[] = {
	{ "add", roostctl_domain_add, NULL, 0, 1, 1, "DOMAIN" },
	{ "del", roostctl_domain_del, NULL, 0, 1, 1, "DOMAIN" },
	{ "list", roostctl_domain_list, roostctl_domain_list_opts,
	  ROOSTCTL_NELEM(roostctl_domain_list_opts), 0, 0, "" },
};

int
roostctl_cmd_domain(struct roostctl *ctl, int argc, char **argv)
{
	return roostctl_cmd_dispatch(ctl, "domain", roostctl_domain_subs,
	                             ROOSTCTL_NELEM(roostctl_domain_subs), argc,
	                             argv);
}
