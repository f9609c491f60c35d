/* admin_import.c: POST /api/v1/users/import: many accounts at once, with
 * password hashes made by another system (node/auth/passwd.h lists the
 * schemes; a login turns them into scrypt). Each user is created or
 * skipped with its reason; only a malformed request fails as a whole.
 * The directory does the creating (dir_accounts_import). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/admin/admin_int.h"
#include "node/auth/passwd.h"
#include "node/core/node_ctx.h"
#include "node/dir/dir.h"

#define ADMIN_IMPORT_MAX 1000      /* users in one request */

struct admin_import {
	struct admin_req  *r;
	size_t             nusers;     /* in the request */
	json_t           **early;      /* owns: per user, its refusal here */
	struct dir_import *v;          /* owns the array, in the request's
	                                * order; strings borrowed from
	                                * r->body */
	size_t             n;
};

static json_t *
admin_import_skip(size_t idx, const char *addr, const char *why)
{
	return json_pack("{s:I,s:s,s:s}", "index", (json_int_t)idx, "address",
	                 addr != NULL ? addr : "", "error", why);
}

static void
admin_import_free(struct admin_import *x)
{
	for (size_t i = 0; i < x->nusers; i++)
		json_decref(x->early[i]);
	free(x->early);
	free(x->v);
	free(x);
}

/* Checks users[idx] and adds it to x->v, or records why not. */
static void
admin_import_user(struct admin_import *x, size_t idx, json_t *u)
{
	const char *addr = json_string_value(json_object_get(u, "address"));
	const char *hash = json_string_value(json_object_get(u, "password_hash"));
	json_t *name = json_object_get(u, "name");
	json_t *quota = json_object_get(u, "quota");
	struct dir_import *it = &x->v[x->n];
	struct rs_err err;
	const char *why = NULL;

	if (!json_is_object(u))
		why = "not an object";
	else if (addr == NULL)
		why = "address is required";
	else if (hash == NULL)
		why = "password_hash is required";
	else if (name != NULL && !json_is_null(name) && !json_is_string(name))
		why = "name is not a string";
	if (why != NULL) {
		x->early[idx] = admin_import_skip(idx, addr, why);
		return;
	}
	memset(it, 0, sizeof(*it));
	if (quota != NULL && !json_is_null(quota) &&
	    !(json_is_integer(quota) && json_integer_value(quota) >= 0) &&
	    !(json_is_string(quota) &&
	      rs_config_parse_size(json_string_value(quota), &it->quota) == 0)) {
		x->early[idx] = admin_import_skip(idx, addr, "bad quota");
		return;
	}
	if (json_is_integer(quota))
		it->quota = (uint64_t)json_integer_value(quota);
	if (passwd_check(hash, &err) != 0) {
		x->early[idx] = admin_import_skip(idx, addr, err.msg);
		return;
	}
	it->addr = addr;
	it->name = json_string_value(name);
	it->password_hash = hash;
	x->n++;
}

static void
admin_import_done(void *arg, int rc, const struct rs_err *err)
{
	struct admin_import *x = arg;
	json_t *skipped = json_array();
	size_t created = 0, j = 0;

	(void)rc;                       /* the outcomes are in x->v */
	(void)err;
	for (size_t i = 0; i < x->nusers; i++) {
		if (x->early[i] != NULL) {
			json_array_append(skipped, x->early[i]);
			continue;
		}
		/* v keeps the request's order: users[i] is v[j]. */
		if (x->v[j].rc == 0)
			created++;
		else
			json_array_append_new(skipped, admin_import_skip(
				i, x->v[j].addr, x->v[j].err.msg));
		j++;
	}
	rs_log(RS_LOG_INFO, "admin.users_imported", "created=%zu skipped=%zu",
	       created, json_array_size(skipped));
	admin__reply_json(x->r, 200, json_pack("{s:I,s:o}", "created",
	                                       (json_int_t)created, "skipped",
	                                       skipped));
	admin_import_free(x);
}

void
admin__users_import(struct admin_req *r)
{
	json_t *users = json_object_get(r->body, "users");
	json_t *create = json_object_get(r->body, "create_domains");
	struct admin_import *x;
	struct rs_err err;
	json_t *u;
	size_t i;

	if (!json_is_array(users)) {
		admin__reply_error(r, 400, "users (an array) is required");
		return;
	}
	if (json_array_size(users) > ADMIN_IMPORT_MAX) {
		admin__reply_error(r, 413, "at most %d users in one request",
		                   ADMIN_IMPORT_MAX);
		return;
	}
	if (create != NULL && !json_is_boolean(create)) {
		admin__reply_error(r, 400, "create_domains is not a boolean");
		return;
	}
	x = rs_xcalloc(1, sizeof(*x));
	x->r = r;
	x->nusers = json_array_size(users);
	x->early = rs_xcalloc(x->nusers + 1, sizeof(json_t *));
	x->v = rs_xcalloc(x->nusers + 1, sizeof(*x->v));
	json_array_foreach(users, i, u)
		admin_import_user(x, i, u);
	if (x->n == 0) {
		admin_import_done(x, 0, NULL);
		return;
	}
	if (dir_accounts_import(r->adm->node->dir, x->v, x->n,
	                        json_is_true(create), admin_import_done, x,
	                        &err) != 0) {
		admin__reply_rc(r, err.code, &err);
		admin_import_free(x);
	}
}
