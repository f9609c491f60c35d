/* dir_import.c: creating many accounts at once (dir_accounts_import).
 * Each account is checked and placed as dir_account_add does it, then
 * they go to the store many to a transaction, each with the compares of
 * its own creation; a transaction that loses a compare is redone through
 * dir_account_add, one account at a time. Batches run one after another:
 * each is planned against the copy as the previous one left it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/coord.h"
#include "lib/rs_map.h"
#include "lib/rs_mem.h"
#include "node/dir/dir_int.h"

/* Compares, and operations, in one transaction. etcd refuses more than
 * 128 of either by default and coord.h allows COORD_TXN_MAX: an account
 * takes three compares (its address is no account, alias or group) and
 * one put, its domain's compare and its partition's guard are shared by
 * the batch, so about 19 accounts fit. */
#define DIR_IMPORT_TXN_MAX 60
_Static_assert(DIR_IMPORT_TXN_MAX <= COORD_TXN_MAX, "txn too large");

enum dir_import_state {
	DIR_IMPORT_WAITING,       /* checked, not yet committed */
	DIR_IMPORT_DONE,          /* v[i].rc is the outcome */
};

struct dir_import_run {
	struct dir          *d;
	struct dir_import   *v;          /* borrowed: the caller's */
	size_t               n;
	char               (*keys)[RS_ADDR_TEXT_MAX]; /* owns: lookup keys */
	uint8_t             *state;      /* owns: enum dir_import_state */
	size_t               next;       /* first item not yet planned */
	/* create_domains: the domains still to create, one at a time */
	char               **domains;    /* owns */
	size_t               ndomains, domain_pos;
	/* the batch in flight, and its one-by-one redo after a conflict */
	size_t               batch[DIR_IMPORT_TXN_MAX];
	size_t               nbatch, redo_pos;
	dir_done_fn         *cb;
	void                *arg;
};

/* One transaction being put together; strings are owned until sent. */
struct dir_import_txn {
	struct coord_cmp cmps[DIR_IMPORT_TXN_MAX];
	struct coord_op  ops[DIR_IMPORT_TXN_MAX];
	size_t           ncmp, nops;
	char            *strs[3 * DIR_IMPORT_TXN_MAX + 4];
	size_t           nstrs;
	const char      *domains[DIR_IMPORT_TXN_MAX]; /* borrowed: keys */
	size_t           ndomains;
	uint32_t         parts[DIR_IMPORT_TXN_MAX];
	size_t           nparts;
};

static void dir_import_next(struct dir_import_run *x);
static void dir_import_redo(struct dir_import_run *x);

static void
dir_import_set(struct dir_import_run *x, size_t i, int rc,
               const struct rs_err *err)
{
	x->state[i] = DIR_IMPORT_DONE;
	x->v[i].rc = rc;
	if (rc == 0)
		rs_err_clear(&x->v[i].err);
	else if (err != NULL && err->msg[0] != '\0')
		x->v[i].err = *err;
	else
		rs_err_set(&x->v[i].err, rc, "%s", rs_err_name(rc));
}

static void
dir_import_finish(struct dir_import_run *x)
{
	dir_done_fn *cb = x->cb;
	void *arg = x->arg;

	for (size_t i = 0; i < x->ndomains; i++)
		free(x->domains[i]);
	free(x->domains);
	free(x->keys);
	free(x->state);
	free(x);
	cb(arg, 0, NULL);
}

/* Checks item i against the copy as it is now, as dir_account_add would;
 * the key is already normalised. 0, or -1 with the item's outcome set. */
static int
dir_import_recheck(struct dir_import_run *x, size_t i)
{
	const char *key = x->keys[i];
	struct rs_err err;

	if (!dir_domain_exists(x->d, dir__domain_of(key))) {
		rs_err_set(&err, RS_ENOTFOUND, "no domain %s", dir__domain_of(key));
		dir_import_set(x, i, err.code, &err);
		return -1;
	}
	if (dir__taken(x->d, key)) {
		rs_err_set(&err, RS_ECONFLICT, "exists already");
		dir_import_set(x, i, err.code, &err);
		return -1;
	}
	return 0;
}

/* ---- first: every item on its own ---- */

static void
dir_import_check(struct dir_import_run *x, struct rs_map *seen,
                 struct rs_map *missing, bool create_domains, size_t i)
{
	struct dir_import *it = &x->v[i];
	const char *dom;
	struct rs_err err;

	if (it->addr == NULL ||
	    dir__norm_addr(it->addr, false, x->keys[i], sizeof(x->keys[i]),
	                   &err) != 0) {
		if (it->addr == NULL)
			rs_err_set(&err, RS_EINVAL, "no address");
		dir_import_set(x, i, RS_EINVAL, &err);
		return;
	}
	if (it->name != NULL && strlen(it->name) > DIR_NAME_MAX) {
		rs_err_set(&err, RS_EINVAL, "name too long");
		dir_import_set(x, i, err.code, &err);
		return;
	}
	if (it->password_hash != NULL &&
	    strlen(it->password_hash) > DIR_PASSWORD_MAX) {
		rs_err_set(&err, RS_EINVAL, "password hash too long");
		dir_import_set(x, i, err.code, &err);
		return;
	}
	if (rs_map_put(seen, x->keys[i], it) != NULL) {
		rs_err_set(&err, RS_ECONFLICT, "listed twice");
		dir_import_set(x, i, err.code, &err);
		return;
	}
	dom = dir__domain_of(x->keys[i]);
	if (create_domains && !dir_domain_exists(x->d, dom)) {
		if (rs_map_put(missing, dom, x) == NULL)
			x->domains[x->ndomains++] = rs_xstrdup(dom);
		return;         /* checked again once the domain exists */
	}
	(void)dir_import_recheck(x, i);
}

/* ---- then: the missing domains, one transaction each ---- */

static void dir_import_domains(struct dir_import_run *x);

static void
dir_import_domain_done(void *arg, int rc, const struct rs_err *err)
{
	struct dir_import_run *x = arg;

	/* A domain created meanwhile by someone else is as good; any other
	 * failure shows as "no domain" on its accounts. */
	(void)rc;
	(void)err;
	dir_import_domains(x);
}

static void
dir_import_domains(struct dir_import_run *x)
{
	while (x->domain_pos < x->ndomains) {
		const char *dom = x->domains[x->domain_pos++];
		struct rs_err err;

		if (dir_domain_exists(x->d, dom))
			continue;
		if (dir_domain_add(x->d, dom, dir_import_domain_done, x,
		                   &err) == 0)
			return;
	}
	dir_import_next(x);
}

/* ---- then: the accounts, in batches ---- */

static char *
dir_import_keep(struct dir_import_txn *t, char *s)
{
	t->strs[t->nstrs++] = s;
	return s;
}

static bool
dir_import_has_domain(const struct dir_import_txn *t, const char *dom)
{
	for (size_t i = 0; i < t->ndomains; i++)
		if (strcmp(t->domains[i], dom) == 0)
			return true;
	return false;
}

static bool
dir_import_has_part(const struct dir_import_txn *t, uint32_t part)
{
	for (size_t i = 0; i < t->nparts; i++)
		if (t->parts[i] == part)
			return true;
	return false;
}

/* The guard's compare and operation for a partition new to the batch,
 * copied: the guard's own strings last only until its next call. */
static int
dir_import_guard(struct dir_import_run *x, struct dir_import_txn *t,
                 uint32_t part, struct rs_err *err)
{
	struct coord_cmp cmp;
	struct coord_op op;

	if (x->d->guard.part(x->d->guard.arg, part, &cmp, &op, err) != 0)
		return -1;
	cmp.key = dir_import_keep(t, rs_xstrdup(cmp.key));
	op.key = dir_import_keep(t, rs_xstrdup(op.key));
	if (op.value != NULL) {
		char *v = dir_import_keep(t, rs_xmalloc(op.len + 1));

		memcpy(v, op.value, op.len);
		op.value = v;
	}
	t->cmps[t->ncmp++] = cmp;
	t->ops[t->nops++] = op;
	t->parts[t->nparts++] = part;
	return 0;
}

/* Adds item i to the batch. 1 added; 0 does not fit (try it in the next
 * batch); -1 failed (its outcome is set). */
static int
dir_import_add(struct dir_import_run *x, struct dir_import_txn *t, size_t i)
{
	const struct dir_import *it = &x->v[i];
	const char *key = x->keys[i], *dom = dir__domain_of(key);
	bool guard = x->d->guard.part != NULL;
	struct dir_entry e;
	struct rs_err err;
	char *json, *akey;
	bool new_dom, new_part;

	dir__account_init(x->d, &e, key, it->name, it->quota, it->password_hash);
	new_dom = !dir_import_has_domain(t, dom);
	new_part = guard && !dir_import_has_part(t, e.acct.part);
	if (t->ncmp + 3 + new_dom + new_part > DIR_IMPORT_TXN_MAX ||
	    t->nops + 1 + new_part > DIR_IMPORT_TXN_MAX)
		return 0;
	if (new_part && dir_import_guard(x, t, e.acct.part, &err) != 0) {
		dir_import_set(x, i, err.code, &err);
		return -1;
	}
	if (new_dom) {
		dir__domain_cmp(x->d, dom, &t->cmps[t->ncmp++],
		                &t->strs[t->nstrs]);
		t->nstrs++;
		t->domains[t->ndomains++] = dom;
	}
	t->ncmp += dir__free_cmps(x->d, key, &t->cmps[t->ncmp],
	                          &t->strs[t->nstrs]);
	/* The first of them is the account's own key: the put's. */
	akey = t->strs[t->nstrs];
	t->nstrs += 3;
	json = dir_import_keep(t, dir__entry_json(DIR_KIND_ACCOUNT, &e));
	t->ops[t->nops++] = (struct coord_op){
		.type = COORD_OP_PUT, .key = akey, .value = json,
		.len = strlen(json),
	};
	x->batch[x->nbatch++] = i;
	return 1;
}

static void
dir_import_batch_done(void *arg, int rc, const struct rs_err *err)
{
	struct dir_import_run *x = arg;

	if (rc == RS_ECONFLICT) {
		x->redo_pos = 0;
		dir_import_redo(x);
		return;
	}
	for (size_t k = 0; k < x->nbatch; k++)
		dir_import_set(x, x->batch[k], rc, err);
	x->nbatch = 0;
	dir_import_next(x);
}

static void
dir_import_txn_done(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct dir_import_run *x = arg;

	/* The outcome counts once the copy shows it (dir__wait). */
	dir__wait(x->d, rev, rc, err, dir_import_batch_done, x);
}

/* Plans and sends the next batch; finishes when nothing is left. */
static void
dir_import_next(struct dir_import_run *x)
{
	for (;;) {
		struct dir_import_txn *t = rs_xcalloc(1, sizeof(*t));
		struct rs_err err;
		int rc = 1;

		x->nbatch = 0;
		for (; x->next < x->n; x->next++) {
			if (x->state[x->next] != DIR_IMPORT_WAITING ||
			    dir_import_recheck(x, x->next) != 0)
				continue;
			if ((rc = dir_import_add(x, t, x->next)) == 0)
				break;
		}
		if (x->nbatch > 0)
			rc = coord_txn(x->d->coord, t->cmps, t->ncmp, t->ops,
			               t->nops, dir_import_txn_done, x, &err);
		for (size_t k = 0; k < t->nstrs; k++)
			free(t->strs[k]);
		free(t);
		if (x->nbatch == 0) {
			dir_import_finish(x);
			return;
		}
		if (rc == 0)
			return;                 /* dir_import_txn_done goes on */
		for (size_t k = 0; k < x->nbatch; k++)
			dir_import_set(x, x->batch[k], err.code, &err);
	}
}

/* ---- a batch that lost a compare: one account at a time ---- */

static void
dir_import_redo_done(void *arg, int rc, const struct rs_err *err)
{
	struct dir_import_run *x = arg;

	dir_import_set(x, x->batch[x->redo_pos++], rc, err);
	dir_import_redo(x);
}

static void
dir_import_redo(struct dir_import_run *x)
{
	while (x->redo_pos < x->nbatch) {
		size_t i = x->batch[x->redo_pos];
		const struct dir_import *it = &x->v[i];
		struct rs_err err;

		if (dir_account_add(x->d, x->keys[i], it->name, it->quota,
		                    it->password_hash, dir_import_redo_done, x,
		                    &err) == 0)
			return;
		dir_import_set(x, i, err.code, &err);
		x->redo_pos++;
	}
	x->nbatch = 0;
	dir_import_next(x);
}

int
dir_accounts_import(struct dir *d, struct dir_import *v, size_t n,
                    bool create_domains, dir_done_fn *cb, void *arg,
                    struct rs_err *err)
{
	struct dir_import_run *x;
	struct rs_map *seen, *missing;

	if (n == 0)
		return rs_err_set(err, RS_EINVAL, "nothing to import");
	x = rs_xcalloc(1, sizeof(*x));
	x->d = d;
	x->v = v;
	x->n = n;
	x->cb = cb;
	x->arg = arg;
	x->keys = rs_xcalloc(n, sizeof(*x->keys));
	x->state = rs_xcalloc(n, sizeof(*x->state));
	x->domains = rs_xcalloc(n, sizeof(*x->domains));
	seen = rs_map_new();
	missing = rs_map_new();
	for (size_t i = 0; i < n; i++)
		dir_import_check(x, seen, missing, create_domains, i);
	rs_map_free(&seen);
	rs_map_free(&missing);
	dir_import_domains(x);
	return 0;
}
