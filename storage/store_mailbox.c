/* store_mailbox.c: CREATE, DELETE and SUBSCRIBE on mailboxes (RFC 9051
 * 6.3.4, 6.3.5, 6.3.7), each one operation of the writer's group. A
 * mailbox's id is never reused; its UIDVALIDITY comes from the
 * partition's counter, so a re-created name never repeats an old one.
 * RENAME is in store_rename.c, the reads in store_mbox_read.c. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct store_mbox_op {
	struct store_acct      a;
	char                  *name;  /* owns; store__index_name'd */
	enum store_special_use use;
	bool                   on;    /* subscribe: add, or remove */
	struct store_mailbox  *res;   /* borrowed until cb; may be NULL */
};

static void
store_mbox_op_free(void *arg)
{
	struct store_mbox_op *x = arg;

	free(x->name);
	free(x);
}

/* Checks the arguments and builds the op; NULL with err set. */
static struct store_mbox_op *
store_mbox_op_new(struct store_acct a, const char *name, struct rs_exec *ex,
                  store_done_fn *cb, struct rs_err *err)
{
	struct store_mbox_op *x;

	if (a.part > STORE_PART_MAX || ex == NULL || cb == NULL) {
		rs_err_set(err, RS_EINVAL, "bad arguments");
		return NULL;
	}
	if (store__name_check(name, err) != 0)
		return NULL;
	x = rs_xcalloc(1, sizeof(*x));
	x->a = a;
	x->name = rs_xstrdup(store__index_name(name));
	return x;
}

/* 1 if name is in the subscriptions (through the batch), 0, or RS_EIO. */
int
store__subscribed(struct store_txn *t, struct store_acct a, const char *name,
                  struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	uint8_t key[STORE_KEYS_MAX];

	return store__exists(&v, key, store_keys_subscr(key, a, name,
	                                                strlen(name)), err);
}

/* ---- CREATE ---- */

int
store__mbox_new(struct store_txn *t, struct store_acct a,
                struct store_rec_acct *acct, const char *name,
                enum store_special_use use, struct store_mailbox *mb,
                struct rs_err *err)
{
	int sub;

	if (acct->next_mbox == 0 || acct->next_mbox == UINT32_MAX)
		return store__fail(err, RS_ETOOBIG, "no mailbox ids left");
	sub = store__subscribed(t, a, name, err);
	if (sub < 0)
		return -1;
	memset(mb, 0, sizeof(*mb));
	if (store__next_uidvalidity(t, a.part, &mb->uidvalidity, err) != 0)
		return -1;
	mb->id = acct->next_mbox++;
	/* The caller checked the length: store__name_check. */
	memcpy(mb->name, name, strlen(name) + 1);
	mb->use = use;
	mb->subscribed = sub == 1;
	mb->uidnext = 1;
	acct->nmbox++;
	/* RFC 7162 3.1.2.1: a new mailbox's HIGHESTMODSEQ is its creation
	 * entry's modseq. */
	mb->highestmodseq = store__change_add(t, a, acct, STORE_CHANGE_MAILBOX,
	                                      mb->id, 0);
	store__mbox_save(t, a, mb);
	store__name_put(t, a, mb->name, mb->id);
	return 0;
}

static int
store_create_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_mbox_op *x = arg;
	struct store_view v = store__view_txn(t);
	struct store_rec_acct acct;
	struct store_mailbox mb;
	uint32_t id;
	int rc;

	if (store__acct_ensure(t, x->a, &acct, err) != 0)
		return -1;
	rc = store__mbox_lookup(&v, x->a, x->name, &id, err);
	if (rc == 0)
		return store__fail(err, RS_ECONFLICT, "mailbox %s exists",
		                   x->name);
	if (rc != RS_ENOTFOUND)
		return -1;
	if (store__mbox_new(t, x->a, &acct, x->name, x->use, &mb, err) != 0 ||
	    store__acct_done(t, x->a, &acct, err) != 0)
		return -1;
	if (x->res != NULL)
		*x->res = mb;
	return 0;
}

int
store_mailbox_create(struct store *st, struct store_acct a, const char *name,
                     enum store_special_use use, struct store_mailbox *r,
                     struct rs_exec *ex, store_done_fn *cb, void *arg,
                     struct rs_err *err)
{
	struct store_mbox_op *x;

	if (use == STORE_USE_INBOX || use < STORE_USE_NONE ||
	    use > STORE_USE_ARCHIVE)
		return rs_err_set(err, RS_EINVAL, "bad special use %d",
		                  (int)use);
	x = store_mbox_op_new(a, name, ex, cb, err);
	if (x == NULL)
		return -1;
	x->use = use;
	x->res = r;
	return store__submit_owned(st, store_create_apply, x,
	                           store_mbox_op_free, 0, ex, cb, arg, err);
}

/* ---- DELETE ---- */

struct store_drop {
	struct store_acct      a;
	struct store_rec_acct *acct;
};

/* Deletes one record of the mailbox; a message drops its blob
 * reference and leaves the account's totals. */
static int
store_drop_visit(struct store_txn *t, void *arg, const uint8_t *key,
                 size_t klen, const uint8_t *val, size_t vlen,
                 struct rs_err *err)
{
	struct store_drop *d = arg;
	struct store_msg m;

	store__del(t, key, klen);
	if (key[STORE_KEYS_ACCT_LEN - 1] != STORE_KEYS_MSG)
		return 0;
	if (klen != STORE_KEYS_MSG_LEN ||
	    store_rec_msg_dec(val, vlen, &m) != 0) {
		store__fail(err, RS_EIO, "corrupt message record in deleted "
		            "mailbox");
		return -1;
	}
	if (store__blob_unref(t, d->a.part, m.blob, err) != 0)
		return -1;
	d->acct->messages = store__sub_sat(d->acct->messages, 1);
	d->acct->bytes = store__sub_sat(d->acct->bytes, m.size);
	return 0;
}

/* Every record of family tag of mailbox id goes. */
static int
store_drop_family(struct store_txn *t, struct store_drop *d, uint32_t id,
                  enum store_keys_tag tag, struct rs_err *err)
{
	uint8_t prefix[STORE_KEYS_MBOX_LEN];
	size_t plen = store_keys_mbox_tag(prefix, d->a, tag, id);

	return store__walk(t, prefix, plen, prefix, plen, store_drop_visit, d,
	                   err);
}

static int
store_delete_mbox_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_mbox_op *x = arg;
	struct store_view v = store__view_txn(t);
	struct store_rec_acct acct;
	struct store_drop d = { x->a, &acct };
	uint8_t key[STORE_KEYS_MBOX_LEN];
	uint32_t id;
	int rc;

	/* RFC 9051 6.3.5: deleting INBOX is an error. */
	if (strcmp(x->name, "INBOX") == 0)
		return store__fail(err, RS_EPERM, "INBOX cannot be deleted");
	/* A never-used account shows its defaults: they can go too. */
	if (store__acct_ensure(t, x->a, &acct, err) != 0)
		return -1;
	rc = store__mbox_lookup(&v, x->a, x->name, &id, err);
	if (rc != 0)
		return rc == RS_ENOTFOUND ? rc : -1;
	if (store_drop_family(t, &d, id, STORE_KEYS_MSG, err) != 0 ||
	    store_drop_family(t, &d, id, STORE_KEYS_IDX, err) != 0 ||
	    store_drop_family(t, &d, id, STORE_KEYS_KEYWORD, err) != 0 ||
	    store_drop_family(t, &d, id, STORE_KEYS_MCHANGE, err) != 0 ||
	    store__recent_drop(t, x->a, id) != 0)
		return -1;
	store__del(t, key, store_keys_mbox(key, x->a, id));
	store__name_del(t, x->a, x->name);
	acct.nmbox = (uint32_t)store__sub_sat(acct.nmbox, 1);
	/* The mailbox's own index went with it: the entry is the
	 * account's only. */
	(void)store__change_add_acct(t, x->a, &acct, STORE_CHANGE_MAILBOX, id);
	return store__acct_done(t, x->a, &acct, err);
}

int
store_mailbox_delete(struct store *st, struct store_acct a, const char *name,
                     struct rs_exec *ex, store_done_fn *cb, void *arg,
                     struct rs_err *err)
{
	struct store_mbox_op *x = store_mbox_op_new(a, name, ex, cb, err);

	if (x == NULL)
		return -1;
	return store__submit_owned(st, store_delete_mbox_apply, x,
	                           store_mbox_op_free, 0, ex, cb, arg, err);
}

/* ---- SUBSCRIBE and UNSUBSCRIBE ---- */

/* The mailbox of that name, if any, follows the subscription. */
static int
store_subscribe_mbox(struct store_txn *t, const struct store_mbox_op *x,
                     struct store_rec_acct *acct, bool *changed,
                     struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	struct store_mailbox mb;
	uint32_t id;
	int rc;

	rc = store__mbox_lookup(&v, x->a, x->name, &id, err);
	if (rc == RS_ENOTFOUND) {
		rs_err_clear(err);
		return 0;
	}
	if (rc != 0 || store__mbox_load(&v, x->a, id, &mb, err) != 0)
		return -1;
	if (mb.subscribed == x->on)
		return 0;
	mb.subscribed = x->on;
	mb.highestmodseq = store__change_add(t, x->a, acct,
	                                     STORE_CHANGE_MAILBOX, id, 0);
	store__mbox_save(t, x->a, &mb);
	*changed = true;
	return 0;
}

static int
store_subscribe_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_mbox_op *x = arg;
	struct store_rec_acct acct;
	uint8_t key[STORE_KEYS_MAX];
	size_t klen = store_keys_subscr(key, x->a, x->name, strlen(x->name));
	bool changed = false;
	int sub;

	/* An account without state has its defaults subscribed: it is
	 * created first, so that removing one of them sticks. */
	if (store__acct_ensure(t, x->a, &acct, err) != 0)
		return -1;
	sub = store__subscribed(t, x->a, x->name, err);
	if (sub < 0)
		return -1;
	if ((sub == 1) != x->on) {
		if (x->on)
			store__put(t, key, klen, "", 0);
		else
			store__del(t, key, klen);
		changed = true;
	}
	if (store_subscribe_mbox(t, x, &acct, &changed, err) != 0)
		return -1;
	return changed ? store__acct_done(t, x->a, &acct, err) : 0;
}

int
store_mailbox_subscribe(struct store *st, struct store_acct a,
                        const char *name, bool on, struct rs_exec *ex,
                        store_done_fn *cb, void *arg, struct rs_err *err)
{
	struct store_mbox_op *x = store_mbox_op_new(a, name, ex, cb, err);

	if (x == NULL)
		return -1;
	x->on = on;
	return store__submit_owned(st, store_subscribe_apply, x,
	                           store_mbox_op_free, 0, ex, cb, arg, err);
}
