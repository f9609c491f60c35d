/* admin_dir.c: /api/v1/domains, /api/v1/aliases and /api/v1/groups. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "node/admin/admin_int.h"
#include "node/core/node_ctx.h"
#include "node/dir/dir.h"

/* A change committed: 201 (or r->rc) with the name of what changed. */
static void
admin_changed_201(void *arg, int rc, const struct rs_err *err)
{
	struct admin_req *r = arg;

	if (rc != 0) {
		admin__reply_rc(r, rc, err);
		return;
	}
	rs_log(RS_LOG_INFO, "admin.changed", "what=%s addr=%s", r->seg[0],
	       r->addr);
	admin__reply_json(r, r->rc != 0 ? r->rc : 201,
	                  json_pack("{s:s}", strcmp(r->seg[0], "domains") == 0
	                                         ? "name" : "address", r->addr));
}

static void
admin_changed_204(void *arg, int rc, const struct rs_err *err)
{
	struct admin_req *r = arg;

	if (rc != 0) {
		admin__reply_rc(r, rc, err);
		return;
	}
	rs_log(RS_LOG_INFO, "admin.deleted", "what=%s addr=%s", r->seg[0],
	       r->addr);
	admin__reply_empty(r, 204);
}

void
admin__domains(struct admin_req *r)
{
	struct dir *d = r->adm->node->dir;
	struct rs_err err;
	const char *name;
	int rc;

	if (r->nseg == 1 && r->method == EVHTTP_REQ_GET) {
		admin__reply_json(r, 200, json_pack("{s:o}", "domains",
		                                    dir_list_domains(d)));
		return;
	}
	if (r->nseg == 1 && r->method == EVHTTP_REQ_POST) {
		name = admin__str(r, "name");
		if (name == NULL) {
			admin__reply_error(r, 400, "name is required");
			return;
		}
		snprintf(r->addr, sizeof(r->addr), "%s", name);
		admin__lower(r->addr);
		rc = dir_domain_add(d, r->addr, admin_changed_201, r, &err);
	} else if (r->nseg == 2 && r->method == EVHTTP_REQ_DELETE) {
		snprintf(r->addr, sizeof(r->addr), "%s", r->seg[1]);
		admin__lower(r->addr);
		rc = dir_domain_del(d, r->addr, admin_changed_204, r, &err);
	} else {
		admin__reply_error(r, 405, "method not allowed");
		return;
	}
	if (rc != 0)
		admin__reply_rc(r, err.code, &err);
}

void
admin__aliases(struct admin_req *r)
{
	struct dir *d = r->adm->node->dir;
	struct rs_err err;
	const char **targets = NULL;
	const char *addr;
	size_t n;
	int rc;

	if (r->nseg == 1 && r->method == EVHTTP_REQ_GET) {
		admin__reply_json(r, 200, json_pack("{s:o}", "aliases",
		                                    dir_list_aliases(d)));
		return;
	}
	if (r->nseg == 1 && r->method == EVHTTP_REQ_POST) {
		addr = admin__str(r, "address");
		if (addr == NULL || admin__strings(r, "targets", &targets, &n) != 0) {
			admin__reply_error(r, 400, "address and targets are required");
			return;
		}
		snprintf(r->addr, sizeof(r->addr), "%s", addr);
		admin__lower(r->addr);
		rc = dir_alias_add(d, addr, targets, n, admin_changed_201, r, &err);
		free(targets);
	} else if (r->nseg == 2 && r->method == EVHTTP_REQ_DELETE) {
		snprintf(r->addr, sizeof(r->addr), "%s", r->seg[1]);
		admin__lower(r->addr);
		rc = dir_alias_del(d, r->addr, admin_changed_204, r, &err);
	} else {
		admin__reply_error(r, 405, "method not allowed");
		return;
	}
	if (rc != 0)
		admin__reply_rc(r, err.code, &err);
}

static void
admin_group_get(struct admin_req *r)
{
	struct dir *d = r->adm->node->dir;
	json_t *all = dir_list_groups(d), *g;
	size_t i;

	admin__lower(r->seg[1]);
	json_array_foreach(all, i, g) {
		const char *a = json_string_value(json_object_get(g, "address"));

		if (a != NULL && strcmp(a, r->seg[1]) == 0) {
			json_incref(g);
			json_decref(all);
			admin__reply_json(r, 200, g);
			return;
		}
	}
	json_decref(all);
	admin__reply_error(r, 404, "no group %s", r->seg[1]);
}

void
admin__groups(struct admin_req *r)
{
	struct dir *d = r->adm->node->dir;
	struct rs_err err;
	const char **members = NULL;
	const char *addr;
	size_t n;
	int rc;

	if (r->nseg == 1 && r->method == EVHTTP_REQ_GET) {
		admin__reply_json(r, 200, json_pack("{s:o}", "groups",
		                                    dir_list_groups(d)));
		return;
	}
	if (r->nseg == 2 && r->method == EVHTTP_REQ_GET) {
		admin_group_get(r);
		return;
	}
	if (r->nseg == 1 && r->method == EVHTTP_REQ_POST) {
		addr = admin__str(r, "address");
		if (addr == NULL || admin__strings(r, "members", &members, &n) != 0) {
			admin__reply_error(r, 400, "address and members are required");
			return;
		}
		snprintf(r->addr, sizeof(r->addr), "%s", addr);
		admin__lower(r->addr);
		/* 200 when the group existed and got members, 201 when new. */
		{
			json_t *m = dir_group_members(d, r->addr);

			r->rc = m != NULL ? 200 : 201;
			json_decref(m);
		}
		rc = dir_group_add(d, addr, admin__str(r, "name"), members, n,
		                   admin_changed_201, r, &err);
		free(members);
	} else if (r->nseg == 2 && r->method == EVHTTP_REQ_DELETE) {
		snprintf(r->addr, sizeof(r->addr), "%s", r->seg[1]);
		admin__lower(r->addr);
		rc = dir_group_del(d, r->addr, admin_changed_204, r, &err);
	} else {
		admin__reply_error(r, 405, "method not allowed");
		return;
	}
	if (rc != 0)
		admin__reply_rc(r, err.code, &err);
}
