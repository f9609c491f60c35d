/* store_rename.c: RENAME (RFC 9051 6.3.6) as one operation of the
 * writer's group. A mailbox and its inferiors change name and keep
 * everything else; renaming INBOX instead moves its messages into a new
 * mailbox and leaves INBOX, empty, in place. Subscriptions are names,
 * not mailboxes: they stay as they were. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct store_rename_op {
	struct store_acct a;
	char             *from;       /* owns; store__index_name'd */
	char             *to;         /* owns; store__index_name'd */
};

static void
store_rename_op_free(void *arg)
{
	struct store_rename_op *x = arg;

	free(x->from);
	free(x->to);
	free(x);
}

/* ---- INBOX ---- */

static int
store_inbox_visit(struct store_txn *t, void *arg, const uint8_t *key,
                  size_t klen, const uint8_t *val, size_t vlen,
                  struct rs_err *err)
{
	struct store_xfer *xf = arg;
	struct store_msg m;

	if (klen != STORE_KEYS_MSG_LEN ||
	    store_rec_msg_dec(val, vlen, &m) != 0) {
		store__fail(err, RS_EIO, "corrupt message record in INBOX");
		return -1;
	}
	m.mailbox = xf->src->id;
	m.uid = store_keys_get32(key + STORE_KEYS_MSG_LEN - 4);
	return store__xfer_one(t, xf, &m, err) != 0 ? -1 : 0;
}

/* RFC 9051 6.3.6: renaming INBOX moves all its messages into a new
 * mailbox of the new name; INBOX stays, with its UIDVALIDITY, and its
 * inferiors are not renamed. */
static int
store_rename_inbox(struct store_txn *t, const struct store_rename_op *x,
                   struct store_rec_acct *acct, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	struct store_mailbox inbox, dst;
	struct store_xfer xf;
	uint8_t prefix[STORE_KEYS_MBOX_LEN];
	size_t plen;
	uint32_t id;

	if (store__mbox_lookup(&v, x->a, "INBOX", &id, err) != 0 ||
	    store__mbox_load(&v, x->a, id, &inbox, err) != 0 ||
	    store__mbox_new(t, x->a, acct, x->to, STORE_USE_NONE, &dst,
	                    err) != 0)
		return -1;
	memset(&xf, 0, sizeof(xf));
	xf.a = x->a;
	xf.acct = acct;
	xf.src = &inbox;
	xf.dst = &dst;
	xf.move = true;
	plen = store_keys_msg_prefix(prefix, x->a, id);
	if (store__walk(t, prefix, plen, prefix, plen, store_inbox_visit, &xf,
	                err) != 0)
		return -1;
	store__mbox_save(t, x->a, &inbox);
	store__mbox_save(t, x->a, &dst);
	return 0;
}

/* ---- other mailboxes ---- */

/* A mailbox to rename: its id and its old name. */
struct store_rename_item {
	uint32_t id;
	char    *name;                /* owns */
};

struct store_rename_list {
	struct store_rename_item *v;  /* owns */
	size_t                    n, cap;
};

static void
store_rename_list_free(struct store_rename_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

static void
store_rename_list_add(struct store_rename_list *l, uint32_t id,
                      const char *name, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap != 0 ? l->cap * 2 : 8;
		l->v = rs_xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].id = id;
	l->v[l->n].name = rs_xcalloc(1, len + 1);
	memcpy(l->v[l->n].name, name, len);
	l->n++;
}

/* Collects an inferior "from/..." from the name index. */
static int
store_rename_collect(struct store_txn *t, void *arg, const uint8_t *key,
                     size_t klen, const uint8_t *val, size_t vlen,
                     struct rs_err *err)
{
	struct store_rename_list *l = arg;

	(void)t;
	if (vlen != 4 || klen <= STORE_KEYS_ACCT_LEN) {
		store__fail(err, RS_EIO, "corrupt mailbox index");
		return -1;
	}
	store_rename_list_add(l, store_keys_get32(val),
	                      (const char *)key + STORE_KEYS_ACCT_LEN,
	                      klen - STORE_KEYS_ACCT_LEN);
	return 0;
}

/* from and every "from/..." from the name index, in name order. */
static int
store_rename_find(struct store_txn *t, const struct store_rename_op *x,
                  struct store_rename_list *l, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	uint8_t prefix[STORE_KEYS_MAX_RANGE];
	size_t plen, flen = strlen(x->from);
	uint32_t id;

	if (store__mbox_lookup(&v, x->a, x->from, &id, err) != 0)
		return -1;
	store_rename_list_add(l, id, x->from, flen);
	/* flen <= STORE_MAILBOX_NAME_MAX: the '/' still fits the range. */
	plen = store_keys_name(prefix, x->a, x->from, flen);
	prefix[plen++] = '/';
	return store__walk(t, prefix, plen, prefix, plen, store_rename_collect,
	                   l, err);
}

/* The new name of old: to in place of from. 0 or RS_ETOOBIG. */
static int
store_rename_target(const struct store_rename_op *x, const char *old,
                    char out[STORE_MAILBOX_NAME_MAX + 1], struct rs_err *err)
{
	size_t tlen = strlen(x->to), rest = strlen(old) - strlen(x->from);

	if (tlen + rest > STORE_MAILBOX_NAME_MAX)
		return store__fail(err, RS_ETOOBIG, "renamed name too long");
	memcpy(out, x->to, tlen);
	memcpy(out + tlen, old + strlen(x->from), rest + 1);
	return 0;
}

/* Every target must be free and short enough before anything moves. */
static int
store_rename_check(struct store_txn *t, const struct store_rename_op *x,
                   const struct store_rename_list *l, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	char name[STORE_MAILBOX_NAME_MAX + 1];

	for (size_t i = 0; i < l->n; i++) {
		uint32_t id;
		int rc;

		if (store_rename_target(x, l->v[i].name, name, err) != 0)
			return RS_ETOOBIG;
		rc = store__mbox_lookup(&v, x->a, name, &id, err);
		if (rc == 0)
			return store__fail(err, RS_ECONFLICT, "mailbox %s "
			                   "exists", name);
		if (rc != RS_ENOTFOUND)
			return -1;
	}
	rs_err_clear(err);
	return 0;
}

static int
store_rename_one(struct store_txn *t, const struct store_rename_op *x,
                 struct store_rec_acct *acct,
                 const struct store_rename_item *it, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	struct store_mailbox mb;
	int sub;

	if (store__mbox_load(&v, x->a, it->id, &mb, err) != 0 ||
	    store_rename_target(x, it->name, mb.name, err) != 0)
		return -1;
	sub = store__subscribed(t, x->a, mb.name, err);
	if (sub < 0)
		return -1;
	mb.subscribed = sub == 1;
	mb.highestmodseq = store__change_add(t, x->a, acct,
	                                     STORE_CHANGE_MAILBOX, mb.id, 0);
	store__name_del(t, x->a, it->name);
	store__name_put(t, x->a, mb.name, mb.id);
	store__mbox_save(t, x->a, &mb);
	return 0;
}

static int
store_rename_tree(struct store_txn *t, const struct store_rename_op *x,
                  struct store_rec_acct *acct, struct rs_err *err)
{
	struct store_rename_list l = { NULL, 0, 0 };
	int rc;

	rc = store_rename_find(t, x, &l, err);
	if (rc == 0)
		rc = store_rename_check(t, x, &l, err);
	/* Old names are deleted and new ones written in one pass: no new
	 * name is an old one, the check saw to that. */
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = store_rename_one(t, x, acct, &l.v[i], err);
	store_rename_list_free(&l);
	return rc;
}

static int
store_rename_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_rename_op *x = arg;
	struct store_view v = store__view_txn(t);
	struct store_rec_acct acct;
	uint32_t id;
	int rc;

	if (store__acct_ensure(t, x->a, &acct, err) != 0)
		return -1;
	if (strcmp(x->from, "INBOX") == 0) {
		rc = store__mbox_lookup(&v, x->a, x->to, &id, err);
		if (rc == 0)
			return store__fail(err, RS_ECONFLICT, "mailbox %s "
			                   "exists", x->to);
		if (rc != RS_ENOTFOUND)
			return -1;
		rc = store_rename_inbox(t, x, &acct, err);
	} else {
		rc = store_rename_tree(t, x, &acct, err);
	}
	if (rc != 0)
		return -1;
	return store__acct_done(t, x->a, &acct, err);
}

int
store_mailbox_rename(struct store *st, struct store_acct a, const char *from,
                     const char *to, struct rs_exec *ex, store_done_fn *cb,
                     void *arg, struct rs_err *err)
{
	struct store_rename_op *x;
	size_t flen;

	if (a.part > STORE_PART_MAX || ex == NULL || cb == NULL)
		return rs_err_set(err, RS_EINVAL, "bad arguments");
	if (store__name_check(from, err) != 0 ||
	    store__name_check(to, err) != 0)
		return -1;
	from = store__index_name(from);
	to = store__index_name(to);
	flen = strlen(from);
	/* A mailbox cannot become its own inferior. INBOX's inferiors do
	 * not move with it, so "INBOX/old" is a fine target. */
	if (strcmp(from, "INBOX") != 0 && strncmp(to, from, flen) == 0 &&
	    to[flen] == '/')
		return rs_err_set(err, RS_EINVAL, "cannot rename %s into "
		                  "itself", from);
	x = rs_xcalloc(1, sizeof(*x));
	x->a = a;
	x->from = rs_xstrdup(from);
	x->to = rs_xstrdup(to);
	return store__submit_owned(st, store_rename_apply, x,
	                           store_rename_op_free, 0, ex, cb, arg, err);
}
