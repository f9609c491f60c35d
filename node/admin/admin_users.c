/* admin_users.c: /api/v1/users: accounts with their passwords, quotas and
 * usage. Creating hashes the password on a worker thread; deleting removes
 * the directory entry first (no new mail is accepted) and then the
 * mailbox data. */
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/admin/admin_int.h"
#include "node/core/node_ctx.h"
#include "node/deliver/deliver.h"
#include "node/dir/dir.h"
#include "storage/store.h"

/* Adds usage from the store to a user object, and in a cluster the
 * account's primary. XXX(cluster): usage is only known on the primary;
 * another node reports null until a peer call fetches it. */
static void
admin_user_usage(struct admin_req *r, json_t *u)
{
	struct cluster *c = r->adm->node->cluster;
	struct dir_account a;
	struct store_account_info info = { 0 };
	const char *addr = json_string_value(json_object_get(u, "address"));
	bool here = true;

	if (addr != NULL && c != NULL &&
	    dir_account_get(r->adm->node->dir, addr, &a) == 0) {
		const struct cluster_view_part *vp =
			cluster_view_part(cluster_view(c), a.acct.part);
		const char *pr = vp != NULL ? vp->rec.primary : "";

		json_object_set_new(u, "primary",
		                    pr[0] != '\0' ? json_string(pr) : json_null());
		here = cluster_serves(c, a.acct.part, NULL);
	}
	if (!here) {
		json_object_set_new(u, "used", json_null());
		json_object_set_new(u, "messages", json_null());
	} else if (addr != NULL &&
	    dir_account_get(r->adm->node->dir, addr, &a) == 0 &&
	    store_account_get(r->adm->node->store, a.acct, &info, NULL) == 0) {
		json_object_set_new(u, "used", json_integer((json_int_t)info.bytes));
		json_object_set_new(u, "messages",
		                    json_integer((json_int_t)info.messages));
	} else {
		json_object_set_new(u, "used", json_integer(0));
		json_object_set_new(u, "messages", json_integer(0));
	}
}

/* Adds "password_scheme": "scrypt", or the imported scheme a login has
 * not replaced yet ("SHA512-CRYPT"…), null without a password. Never
 * the hash. */
static void
admin_user_scheme(struct admin_req *r, json_t *u)
{
	const char *addr = json_string_value(json_object_get(u, "address"));
	struct dir_account a;
	const char *s = NULL;

	if (addr != NULL && dir_account_get(r->adm->node->dir, addr, &a) == 0) {
		s = passwd_scheme(a.password);
		if (s == NULL)
			s = "unknown";
		OPENSSL_cleanse(a.password, sizeof(a.password));
	}
	json_object_set_new(u, "password_scheme",
	                    s != NULL && s[0] != '\0' ? json_string(s)
	                                               : json_null());
}

static json_t *
admin_user_json(struct admin_req *r, const char *addr)
{
	struct dir_account a;
	json_t *u;

	if (dir_account_get(r->adm->node->dir, addr, &a) != 0)
		return NULL;
	u = json_pack("{s:s,s:s,s:I,s:I}", "address", a.addr, "name", a.name,
	              "quota", (json_int_t)a.quota,
	              "partition", (json_int_t)a.acct.part);
	OPENSSL_cleanse(a.password, sizeof(a.password));
	admin_user_usage(r, u);
	admin_user_scheme(r, u);
	return u;
}

static void
admin_user_shown(void *arg, int rc, const struct store_account_info *info)
{
	struct admin_req *r = arg;
	json_t *u = r->out;

	r->out = NULL;
	if (rc == 0) {
		json_object_set_new(u, "used", json_integer((json_int_t)info->bytes));
		json_object_set_new(u, "messages",
		                    json_integer((json_int_t)info->messages));
	}
	admin__reply_json(r, 200, u);
}

/* One user: the usage comes from the account's primary when that is
 * another node (it stays null when the primary cannot be reached). */
static void
admin_user_show(struct admin_req *r, json_t *u)
{
	struct dir_account a;
	struct rs_err err;

	if (!json_is_null(json_object_get(u, "used")) ||
	    dir_account_get(r->adm->node->dir, r->seg[1], &a) != 0) {
		admin__reply_json(r, 200, u);
		return;
	}
	r->out = u;
	if (deliver_account_info(r->adm->node->deliver, a.acct,
	                         admin_user_shown, r, &err) != 0) {
		r->out = NULL;
		admin__reply_json(r, 200, u);
	}
}

static void
admin_user_list(struct admin_req *r)
{
	const char *domain = NULL;
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(
		evhttp_request_get_evhttp_uri(r->req));
	json_t *arr, *u;
	size_t i;

	/* evhttp_parse_query_str initialises q, even on failure. */
	if (evhttp_parse_query_str(query != NULL ? query : "", &q) == 0)
		domain = evhttp_find_header(&q, "domain");
	arr = dir_list_accounts(r->adm->node->dir, domain);
	json_array_foreach(arr, i, u) {
		admin_user_usage(r, u);
		admin_user_scheme(r, u);
	}
	evhttp_clear_headers(&q);
	admin__reply_json(r, 200, json_pack("{s:o}", "users", arr));
}

static void admin_user_add_hashed(struct admin_req *r);

static void
admin_user_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	admin_user_add_hashed(arg);
}

static void
admin_user_created(void *arg, int rc, const struct rs_err *err)
{
	struct admin_req *r = arg;
	json_t *u;

	/* A compare lost: another writer got there first, or (in a cluster)
	 * the controller moved the account's partition meanwhile. Try again
	 * once this node's copy has caught up: the address being taken by
	 * now is then reported as such. */
	if (rc == RS_ECONFLICT && r->retries < ADMIN_ADD_RETRIES) {
		struct timeval tv = { 0, 100 * 1000 };

		r->retries++;
		if (event_base_once(r->adm->node->base, -1, EV_TIMEOUT,
		                    admin_user_retry, r, &tv) == 0)
			return;
	}
	if (rc != 0) {
		admin__reply_rc(r, rc, err);
		return;
	}
	rs_log(RS_LOG_INFO, "admin.user_added", "addr=%s", r->addr);
	u = admin_user_json(r, r->addr);
	if (u == NULL)
		admin__reply_error(r, 500, "user vanished after creation");
	else
		admin__reply_json(r, 201, u);
}

static void
admin_user_add_hashed(struct admin_req *r)
{
	struct rs_err err;

	if (r->password != NULL && r->hash[0] == '\0') {
		admin__reply_error(r, 500, "password hashing failed");
		return;
	}
	if (dir_account_add(r->adm->node->dir, r->addr, r->name, r->quota,
	                    r->hash, admin_user_created, r, &err) != 0)
		admin__reply_rc(r, err.code, &err);
}

/* Takes the "password" member into r (owned copy), or none. */
static int
admin_take_password(struct admin_req *r)
{
	json_t *pw = json_object_get(r->body, "password");

	if (pw == NULL || json_is_null(pw))
		return 0;
	if (!json_is_string(pw) || json_string_length(pw) == 0 ||
	    json_string_length(pw) > PASSWD_MAX)
		return -1;
	r->passlen = json_string_length(pw);
	r->password = rs_xmemdup(json_string_value(pw), r->passlen);
	return 0;
}

static void
admin_user_add(struct admin_req *r)
{
	const char *addr = admin__str(r, "address");
	const char *name = admin__str(r, "name");
	struct rs_addr a;
	struct rs_err err;

	if (addr == NULL) {
		admin__reply_error(r, 400, "address is required");
		return;
	}
	if (rs_addr_parse_mailbox(addr, strlen(addr),
	                          RS_ADDR_UTF8 | RS_ADDR_NO_LITERAL, &a,
	                          &err) != 0) {
		admin__reply_error(r, 400, "bad address %s: %s", addr, err.msg);
		return;
	}
	rs_addr_key(&a, r->addr, sizeof(r->addr));
	if (admin__size(r, "quota", &r->quota) != 0) {
		admin__reply_error(r, 400, "bad quota");
		return;
	}
	if (admin_take_password(r) != 0) {
		admin__reply_error(r, 400, "bad password");
		return;
	}
	r->name = rs_xstrdup(name != NULL ? name : "");
	if (!dir_domain_exists(r->adm->node->dir, strrchr(r->addr, '@') + 1)) {
		admin__reply_error(r, 404, "no domain %s",
		                          strrchr(r->addr, '@') + 1);
		return;
	}
	if (dir_account_get(r->adm->node->dir, r->addr,
	                    &(struct dir_account){ 0 }) == 0) {
		admin__reply_error(r, 409, "%s exists already", r->addr);
		return;
	}
	if (r->password != NULL)
		admin__hash_password(r, admin_user_add_hashed);
	else
		admin_user_add_hashed(r);
}

static void
admin_user_data_deleted(void *arg, int rc)
{
	struct admin_req *r = arg;

	if (rc != 0) {
		rs_log(RS_LOG_ERR, "admin.user_data_delete_failed", "addr=%s rc=%s",
		       r->addr, rs_err_name(rc));
		admin__reply_error(r, 500, "directory entry removed, but deleting "
		                   "the mailbox data failed (%s)", rs_err_name(rc));
		return;
	}
	rs_log(RS_LOG_INFO, "admin.user_deleted", "addr=%s", r->addr);
	admin__reply_empty(r, 204);
}

static void
admin_user_unlisted(void *arg, int rc, const struct rs_err *err)
{
	struct admin_req *r = arg;
	struct rs_err serr;

	if (rc != 0) {
		admin__reply_rc(r, rc, err);
		return;
	}
	/* The data lives on the account's primary (here, standalone). */
	if (deliver_account_delete(r->adm->node->deliver, r->acct,
	                           admin_user_data_deleted, r, &serr) != 0)
		admin_user_data_deleted(r, serr.code);
}

static void
admin_user_del(struct admin_req *r, const char *addr)
{
	struct dir_account a;
	struct rs_err err;

	if (dir_account_get(r->adm->node->dir, addr, &a) != 0) {
		admin__reply_error(r, 404, "no user %s", addr);
		return;
	}
	snprintf(r->addr, sizeof(r->addr), "%s", a.addr);
	r->acct = a.acct;
	if (dir_account_del(r->adm->node->dir, a.addr, admin_user_unlisted, r,
	                    &err) != 0)
		admin__reply_rc(r, err.code, &err);
}

static void
admin_passwd_set(void *arg, int rc, const struct rs_err *err)
{
	struct admin_req *r = arg;

	if (rc != 0) {
		admin__reply_rc(r, rc, err);
		return;
	}
	rs_log(RS_LOG_INFO, "admin.password_set", "addr=%s", r->addr);
	admin__reply_empty(r, 204);
}

static void
admin_passwd_hashed(struct admin_req *r)
{
	struct rs_err err;

	if (r->hash[0] == '\0') {
		admin__reply_error(r, 500, "password hashing failed");
		return;
	}
	if (dir_account_set_password(r->adm->node->dir, r->addr, r->hash, 0,
	                             admin_passwd_set, r, &err) != 0)
		admin__reply_rc(r, err.code, &err);
}

static void
admin_user_passwd(struct admin_req *r, const char *addr)
{
	struct dir_account a;

	if (dir_account_get(r->adm->node->dir, addr, &a) != 0) {
		admin__reply_error(r, 404, "no user %s", addr);
		return;
	}
	snprintf(r->addr, sizeof(r->addr), "%s", a.addr);
	if (admin_take_password(r) != 0 || r->password == NULL) {
		admin__reply_error(r, 400, "password is required");
		return;
	}
	admin__hash_password(r, admin_passwd_hashed);
}

void
admin__users(struct admin_req *r)
{
	json_t *u;

	if (r->nseg == 1 && r->method == EVHTTP_REQ_GET) {
		admin_user_list(r);
		return;
	}
	if (r->nseg == 1 && r->method == EVHTTP_REQ_POST) {
		admin_user_add(r);
		return;
	}
	if (r->nseg < 2) {
		admin__reply_error(r, 405, "method not allowed");
		return;
	}
	/* No address lacks an '@': "import" names no user. */
	if (r->nseg == 2 && strcmp(r->seg[1], "import") == 0) {
		if (r->method == EVHTTP_REQ_POST)
			admin__users_import(r);
		else
			admin__reply_error(r, 405, "method not allowed");
		return;
	}
	admin__lower(r->seg[1]);
	if (r->nseg == 2 && r->method == EVHTTP_REQ_GET) {
		u = admin_user_json(r, r->seg[1]);
		if (u == NULL) {
			admin__reply_error(r, 404, "no user %s", r->seg[1]);
			return;
		}
		admin_user_show(r, u);
		return;
	}
	if (r->nseg == 2 && r->method == EVHTTP_REQ_DELETE) {
		admin_user_del(r, r->seg[1]);
		return;
	}
	if (r->nseg == 3 && strcmp(r->seg[2], "password") == 0 &&
	    (r->method == EVHTTP_REQ_PUT || r->method == EVHTTP_REQ_POST)) {
		admin_user_passwd(r, r->seg[1]);
		return;
	}
	admin__reply_error(r, r->nseg <= 3 ? 405 : 404, "no such resource");
}
