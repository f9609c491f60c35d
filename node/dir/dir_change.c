/* dir_change.c: changes to the directory, as compare-and-swap
 * transactions on the coordination store. Validation against the
 * in-memory copy gives clear errors early; the compares make the change
 * safe against a concurrent writer (another admin, another node). The
 * caller's callback runs once the copy reflects the change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/coord.h"
#include "lib/rs_addr.h"
#include "lib/rs_map.h"
#include "lib/rs_mem.h"
#include "lib/rs_rand.h"
#include "node/dir/dir_int.h"

static const char *const dir_kind_singular[DIR_KIND_COUNT] = {
	"domain", "account", "alias", "group" };

struct dir_change {
	struct dir  *d;
	dir_done_fn *cb;
	void        *arg;
};

static void
dir_change_done(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct dir_change *c = arg;

	dir__wait(c->d, rev, rc, err, c->cb, c->arg);
	free(c);
}

/* Submits one put or delete of an entry guarded by compares, with one
 * more operation (extra, may be NULL) in the same transaction. */
static int
dir_commit_with(struct dir *d, enum dir_kind k, const char *addr,
                const struct dir_entry *e, const struct coord_cmp *cmps,
                size_t ncmp, const struct coord_op *extra, dir_done_fn *cb,
                void *arg, struct rs_err *err)
{
	struct dir_change *c = rs_xcalloc(1, sizeof(*c));
	char *key = dir__key(d, k, addr);
	char *json = e != NULL ? dir__entry_json(k, e) : NULL;
	struct coord_op ops[2] = { {
		.type = e != NULL ? COORD_OP_PUT : COORD_OP_DELETE,
		.key = key,
		.value = json,
		.len = json != NULL ? strlen(json) : 0,
	} };
	int rc;

	if (extra != NULL)
		ops[1] = *extra;
	c->d = d;
	c->cb = cb;
	c->arg = arg;
	rc = coord_txn(d->coord, cmps, ncmp, ops, extra != NULL ? 2 : 1,
	               dir_change_done, c, err);
	if (rc != 0)
		free(c);
	free(key);
	free(json);
	return rc;
}

static int
dir_commit(struct dir *d, enum dir_kind k, const char *addr,
           const struct dir_entry *e, const struct coord_cmp *cmps,
           size_t ncmp, dir_done_fn *cb, void *arg, struct rs_err *err)
{
	return dir_commit_with(d, k, addr, e, cmps, ncmp, NULL, cb, arg, err);
}

/* Lowercases a domain name into buf (which holds RS_ADDR_TEXT_MAX). */
static void
dir_lower(const char *in, char *buf, size_t size)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	buf[i] = '\0';
}

int
dir__norm_addr(const char *in, bool catch_all, char *key, size_t size,
               struct rs_err *err)
{
	struct rs_addr a;

	if (catch_all && in[0] == '@') {
		size_t n = strlen(in + 1);

		if (!rs_addr_domain_ok(in + 1, n, true) || n + 2 > size)
			return rs_err_set(err, RS_EINVAL, "bad domain in %s", in);
		key[0] = '@';
		dir_lower(in + 1, key + 1, size - 1);
		return 0;
	}
	if (rs_addr_parse_mailbox(in, strlen(in), RS_ADDR_UTF8 |
	                          RS_ADDR_NO_LITERAL, &a, err) != 0)
		return rs_err_set(err, RS_EINVAL, "bad address %s: %s", in,
		                  err != NULL ? err->msg : "syntax");
	rs_addr_key(&a, key, size);
	return 0;
}

static int64_t
dir_rev(const struct dir *d, enum dir_kind k, const char *addr)
{
	const struct dir_entry *e = rs_map_get(d->maps[k], addr);

	return e != NULL ? e->mod_rev : 0;
}

int
dir_domain_add(struct dir *d, const char *domain, dir_done_fn *cb, void *arg,
               struct rs_err *err)
{
	char key[RS_ADDR_TEXT_MAX];
	struct dir_entry e = { .created = (int64_t)time(NULL) };
	char *ckey;
	int rc;

	if (!rs_addr_domain_ok(domain, strlen(domain), true))
		return rs_err_set(err, RS_EINVAL, "bad domain name %s", domain);
	dir_lower(domain, key, sizeof(key));
	if (dir_domain_exists(d, key))
		return rs_err_set(err, RS_ECONFLICT, "domain %s exists", key);
	ckey = dir__key(d, DIR_KIND_DOMAIN, key);
	{
		struct coord_cmp cmp = { ckey, 0 };

		rc = dir_commit(d, DIR_KIND_DOMAIN, key, &e, &cmp, 1, cb, arg,
		                err);
	}
	free(ckey);
	return rc;
}

/* Whether any account, alias or group uses domain. */
static bool
dir_domain_in_use(const struct dir *d, const char *domain)
{
	for (int k = DIR_KIND_ACCOUNT; k < DIR_KIND_COUNT; k++) {
		size_t pos = 0;
		const char *key;
		void *v;

		while (rs_map_next(d->maps[k], &pos, &key, &v))
			if (strcmp(dir__domain_of(key), domain) == 0)
				return true;
	}
	return false;
}

int
dir_domain_del(struct dir *d, const char *domain, dir_done_fn *cb, void *arg,
               struct rs_err *err)
{
	char key[RS_ADDR_TEXT_MAX];
	char *ckey;
	int rc;

	dir_lower(domain, key, sizeof(key));
	if (!dir_domain_exists(d, key))
		return rs_err_set(err, RS_ENOTFOUND, "no domain %s", key);
	if (dir_domain_in_use(d, key))
		return rs_err_set(err, RS_ECONFLICT,
		                  "domain %s still has accounts, aliases or groups",
		                  key);
	ckey = dir__key(d, DIR_KIND_DOMAIN, key);
	{
		struct coord_cmp cmp = { ckey, dir_rev(d, DIR_KIND_DOMAIN, key) };

		rc = dir_commit(d, DIR_KIND_DOMAIN, key, NULL, &cmp, 1, cb, arg,
		                err);
	}
	free(ckey);
	return rc;
}

size_t
dir__free_cmps(const struct dir *d, const char *addr, struct coord_cmp *cmps,
               char **keys)
{
	keys[0] = dir__key(d, DIR_KIND_ACCOUNT, addr);
	keys[1] = dir__key(d, DIR_KIND_ALIAS, addr);
	keys[2] = dir__key(d, DIR_KIND_GROUP, addr);
	for (int i = 0; i < 3; i++)
		cmps[i] = (struct coord_cmp){ keys[i], 0 };
	return 3;
}

void
dir__domain_cmp(const struct dir *d, const char *domain,
                struct coord_cmp *cmp, char **key_r)
{
	*key_r = dir__key(d, DIR_KIND_DOMAIN, domain);
	*cmp = (struct coord_cmp){ *key_r, dir_rev(d, DIR_KIND_DOMAIN, domain) };
}

/* Compares for creating addr as kind k: no entry of any kind holds the
 * address and its domain still exists. keys[] are owned by the caller. */
static size_t
dir_create_cmps(const struct dir *d, const char *addr, struct coord_cmp *cmps,
                char **keys)
{
	size_t n = dir__free_cmps(d, addr, cmps, keys);

	dir__domain_cmp(d, dir__domain_of(addr), &cmps[n], &keys[n]);
	return n + 1;
}

static void
dir_free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
}

int
dir__check_new(const struct dir *d, const char *in, bool catch_all, char *key,
               size_t size, struct rs_err *err)
{
	if (dir__norm_addr(in, catch_all, key, size, err) != 0)
		return -1;
	if (!dir_domain_exists(d, dir__domain_of(key)))
		return rs_err_set(err, RS_ENOTFOUND, "no domain %s",
		                  dir__domain_of(key));
	if (dir__taken(d, key))
		return rs_err_set(err, RS_ECONFLICT, "%s exists already", key);
	return 0;
}

void
dir__account_init(const struct dir *d, struct dir_entry *e, const char *key,
                  const char *name, uint64_t quota, const char *password_hash)
{
	memset(e, 0, sizeof(*e));
	e->addr = key;
	e->name = name != NULL ? name : "";
	e->quota = quota;
	e->password = password_hash != NULL ? password_hash : "";
	e->created = (int64_t)time(NULL);
	/* Placement: a stable hash of the address picks the partition; the
	 * id is random so a re-created address is a new mailbox. */
	e->acct.part = (uint32_t)(rs_hash_str(key) % d->npartitions);
	do
		e->acct.id = rs_rand_u64();
	while (e->acct.id == 0);
}

int
dir_account_add(struct dir *d, const char *addr, const char *name,
                uint64_t quota, const char *password_hash, dir_done_fn *cb,
                void *arg, struct rs_err *err)
{
	char key[RS_ADDR_TEXT_MAX], *keys[4];
	struct coord_cmp cmps[5];
	struct coord_op guard_op;
	struct dir_entry e;
	size_t ncmp;
	int rc;

	if (dir__check_new(d, addr, false, key, sizeof(key), err) != 0)
		return -1;
	if (name != NULL && strlen(name) > DIR_NAME_MAX)
		return rs_err_set(err, RS_EINVAL, "name too long");
	if (password_hash != NULL && strlen(password_hash) > DIR_PASSWORD_MAX)
		return rs_err_set(err, RS_EINVAL, "password hash too long");
	dir__account_init(d, &e, key, name, quota, password_hash);
	/* In a cluster the partition must have a primary, and must not move
	 * while the account is created (dir.h, dir_set_guard). */
	if (d->guard.part != NULL &&
	    d->guard.part(d->guard.arg, e.acct.part, &cmps[4], &guard_op,
	                  err) != 0)
		return -1;
	ncmp = dir_create_cmps(d, key, cmps, keys);
	rc = dir_commit_with(d, DIR_KIND_ACCOUNT, key, &e, cmps,
	                     d->guard.part != NULL ? ncmp + 1 : ncmp,
	                     d->guard.part != NULL ? &guard_op : NULL, cb, arg,
	                     err);
	dir_free_keys(keys, ncmp);
	return rc;
}

/* Deletes an existing entry of kind k (RS_ENOTFOUND if absent). */
static int
dir_entry_del(struct dir *d, enum dir_kind k, const char *in, bool catch_all,
              dir_done_fn *cb, void *arg, struct rs_err *err)
{
	char key[RS_ADDR_TEXT_MAX], *ckey;
	struct coord_cmp cmp;
	int rc;

	if (dir__norm_addr(in, catch_all, key, sizeof(key), err) != 0)
		return -1;
	if (rs_map_get(d->maps[k], key) == NULL)
		return rs_err_set(err, RS_ENOTFOUND, "no %s %s",
		                  dir_kind_singular[k], key);
	ckey = dir__key(d, k, key);
	cmp = (struct coord_cmp){ ckey, dir_rev(d, k, key) };
	rc = dir_commit(d, k, key, NULL, &cmp, 1, cb, arg, err);
	free(ckey);
	return rc;
}

int
dir_account_del(struct dir *d, const char *addr, dir_done_fn *cb, void *arg,
                struct rs_err *err)
{
	return dir_entry_del(d, DIR_KIND_ACCOUNT, addr, false, cb, arg, err);
}

int
dir_alias_del(struct dir *d, const char *addr, dir_done_fn *cb, void *arg,
              struct rs_err *err)
{
	return dir_entry_del(d, DIR_KIND_ALIAS, addr, true, cb, arg, err);
}

int
dir_group_del(struct dir *d, const char *addr, dir_done_fn *cb, void *arg,
              struct rs_err *err)
{
	return dir_entry_del(d, DIR_KIND_GROUP, addr, false, cb, arg, err);
}

int
dir_account_set_password(struct dir *d, const char *addr,
                         const char *password_hash, int64_t expect_rev,
                         dir_done_fn *cb, void *arg, struct rs_err *err)
{
	char key[RS_ADDR_TEXT_MAX], *ckey;
	struct dir_entry *cur, e;
	struct coord_cmp cmp;
	int rc;

	if (dir__norm_addr(addr, false, key, sizeof(key), err) != 0)
		return -1;
	if (strlen(password_hash) > DIR_PASSWORD_MAX)
		return rs_err_set(err, RS_EINVAL, "password hash too long");
	cur = rs_map_get(d->maps[DIR_KIND_ACCOUNT], key);
	if (cur == NULL)
		return rs_err_set(err, RS_ENOTFOUND, "no account %s", key);
	/* The copy is never ahead of the store: a record newer here is
	 * newer there too. */
	if (expect_rev != 0 && cur->mod_rev != expect_rev)
		return rs_err_set(err, RS_ECONFLICT, "account %s changed", key);
	e = *cur;
	e.password = password_hash;
	ckey = dir__key(d, DIR_KIND_ACCOUNT, key);
	cmp = (struct coord_cmp){ ckey, cur->mod_rev };
	rc = dir_commit(d, DIR_KIND_ACCOUNT, key, &e, &cmp, 1, cb, arg, err);
	free(ckey);
	return rc;
}

/* Creates an alias or group, or adds items to an existing one. Items are
 * normalised addresses; duplicates are dropped. */
static int
dir_list_add(struct dir *d, enum dir_kind k, const char *addr,
             const char *name, const char *const *items, size_t n,
             dir_done_fn *cb, void *arg, struct rs_err *err)
{
	char key[RS_ADDR_TEXT_MAX], *keys[4];
	struct dir_entry *cur, e = { 0 };
	struct coord_cmp cmps[4];
	size_t ncmp = 0, total;
	int rc = -1;

	if (n == 0)
		return rs_err_set(err, RS_EINVAL, "no %s given",
		                  k == DIR_KIND_ALIAS ? "targets" : "members");
	if (dir__norm_addr(addr, k == DIR_KIND_ALIAS, key, sizeof(key),
	                   err) != 0)
		return -1;
	cur = rs_map_get(d->maps[k], key);
	if (cur == NULL && dir__check_new(d, addr, k == DIR_KIND_ALIAS, key,
	                                 sizeof(key), err) != 0)
		return -1;
	total = (cur != NULL ? cur->nitems : 0) + n;
	if (total > DIR_TARGETS_MAX)
		return rs_err_set(err, RS_ETOOBIG, "too many members");
	e.addr = key;
	e.created = cur != NULL ? cur->created : (int64_t)time(NULL);
	e.name = name != NULL ? name : cur != NULL ? cur->name : "";
	e.items = rs_xcalloc(total, sizeof(char *));
	for (size_t i = 0; cur != NULL && i < cur->nitems; i++)
		e.items[e.nitems++] = rs_xstrdup(cur->items[i]);
	for (size_t i = 0; i < n; i++) {
		char item[RS_ADDR_TEXT_MAX];
		bool dup = false;

		if (dir__norm_addr(items[i], false, item, sizeof(item), err) != 0)
			goto out;
		if (strcmp(item, key) == 0) {
			rs_err_set(err, RS_EINVAL, "%s cannot contain itself", key);
			goto out;
		}
		for (size_t j = 0; j < e.nitems && !dup; j++)
			dup = strcmp(e.items[j], item) == 0;
		if (!dup)
			e.items[e.nitems++] = rs_xstrdup(item);
	}
	if (cur != NULL) {
		keys[0] = dir__key(d, k, key);
		cmps[0] = (struct coord_cmp){ keys[0], cur->mod_rev };
		ncmp = 1;
	} else {
		ncmp = dir_create_cmps(d, key, cmps, keys);
	}
	rc = dir_commit(d, k, key, &e, cmps, ncmp, cb, arg, err);
	dir_free_keys(keys, ncmp);
out:
	for (size_t i = 0; i < e.nitems; i++)
		free(e.items[i]);
	free(e.items);
	return rc;
}

int
dir_alias_add(struct dir *d, const char *addr, const char *const *targets,
              size_t n, dir_done_fn *cb, void *arg, struct rs_err *err)
{
	return dir_list_add(d, DIR_KIND_ALIAS, addr, NULL, targets, n, cb, arg,
	                    err);
}

int
dir_group_add(struct dir *d, const char *addr, const char *name,
              const char *const *members, size_t n, dir_done_fn *cb,
              void *arg, struct rs_err *err)
{
	return dir_list_add(d, DIR_KIND_GROUP, addr, name, members, n, cb, arg,
	                    err);
}
