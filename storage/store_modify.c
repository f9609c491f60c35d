/* store_modify.c: expunge and account deletion. Each runs on the writer
 * thread as one operation of a group; every expunged message gets its own
 * modseq and change-log entry. Flag changes are in store_flags.c, copies
 * in store_copy.c, mailbox operations in store_mailbox.c. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct store_expunge {
	struct store_acct  a;
	uint32_t           mailbox;
	uint32_t          *uids;      /* owns */
	size_t             n;
};

static void
store_expunge_free(void *arg)
{
	struct store_expunge *x = arg;

	free(x->uids);
	free(x);
}

static int
store_expunge_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_expunge *x = arg;
	struct store_view v = store__view_txn(t);
	struct store_rec_acct acct;
	struct store_mailbox mb;
	bool changed = false;
	int rc;

	rc = store__acct_load(&v, x->a, &acct, err);
	if (rc == RS_ENOTFOUND)
		return 0;               /* no state: nothing to expunge */
	if (rc != 0 || store__mbox_load(&v, x->a, x->mailbox, &mb, err) != 0)
		return -1;
	for (size_t i = 0; i < x->n; i++) {
		uint8_t key[STORE_KEYS_MSG_LEN], *val;
		struct store_msg m;

		rc = store__msg_load(&v, x->a, x->mailbox, x->uids[i], &m, &val,
		                     err);
		if (rc == RS_ENOTFOUND)
			continue;       /* gone already, or listed twice */
		if (rc != 0)
			return -1;
		store__del(t, key, store_keys_msg(key, x->a, x->mailbox,
		                                  m.uid));
		store__idx_del(t, x->a, x->mailbox, m.uid);
		rc = store__blob_unref(t, x->a.part, m.blob, err);
		free(val);
		if (rc != 0)
			return -1;
		store__mbox_count(&mb, m.flags, m.size, -1);
		acct.messages = store__sub_sat(acct.messages, 1);
		acct.bytes = store__sub_sat(acct.bytes, m.size);
		mb.highestmodseq = store__change_add(t, x->a, &acct,
		                                     STORE_CHANGE_EXPUNGE,
		                                     x->mailbox, m.uid);
		changed = true;
	}
	if (!changed)
		return 0;
	store__mbox_save(t, x->a, &mb);
	return store__acct_done(t, x->a, &acct, err);
}

int
store_expunge(struct store *st, struct store_acct a, uint32_t mailbox,
              const uint32_t *uids, size_t n, struct rs_exec *ex,
              store_done_fn *cb, void *arg, struct rs_err *err)
{
	struct store_expunge *x;

	if (a.part > STORE_PART_MAX || (n > 0 && uids == NULL) ||
	    ex == NULL || cb == NULL)
		return rs_err_set(err, RS_EINVAL, "bad arguments");
	x = rs_xcalloc(1, sizeof(*x));
	x->a = a;
	x->mailbox = mailbox;
	/* Copied: the caller's array may be gone before the writer runs. */
	x->uids = rs_xreallocarray(NULL, n > 0 ? n : 1, sizeof(*x->uids));
	if (n > 0)
		memcpy(x->uids, uids, n * sizeof(*uids));
	x->n = n;
	return store__submit_owned(st, store_expunge_apply, x,
	                           store_expunge_free, n * sizeof(*uids), ex,
	                           cb, arg, err);
}

/* ---- account deletion ---- */

struct store_delete {
	struct store_acct a;
	bool              any;        /* some key was there */
};

/* Deletes one key of the account; a message drops its blob reference. */
static int
store_delete_visit(struct store_txn *t, void *arg, const uint8_t *key,
                   size_t klen, const uint8_t *val, size_t vlen,
                   struct rs_err *err)
{
	struct store_delete *d = arg;

	d->any = true;
	store__del(t, key, klen);
	if (klen == STORE_KEYS_MSG_LEN &&
	    key[STORE_KEYS_ACCT_LEN - 1] == STORE_KEYS_MSG) {
		struct store_msg m;

		/* XXX(storage): a damaged message record blocks the
		 * delete (its blob reference cannot be dropped); an
		 * admin override may be wanted. */
		if (store_rec_msg_dec(val, vlen, &m) != 0) {
			store__fail(err, RS_EIO, "corrupt message record in "
			            "deleted account");
			return -1;
		}
		if (store__blob_unref(t, d->a.part, m.blob, err) != 0)
			return -1;
	}
	return 0;
}

static int
store_delete_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_delete *d = arg;
	uint8_t prefix[STORE_KEYS_ACCT_LEN];
	size_t plen = store_keys_acct(prefix, d->a);

	/* XXX(storage): the whole account goes into one batch (atomic, but
	 * as large as the account's record count); a range delete would be
	 * cheaper but WriteBatchWithIndex cannot hold one. */
	d->any = false;
	if (store__walk(t, prefix, plen, prefix, plen, store_delete_visit, d,
	                err) != 0)
		return -1;
	if (d->any)
		store_txn_touch(t, d->a, 0);
	return 0;
}

int
store_account_delete(struct store *st, struct store_acct a,
                     struct rs_exec *ex, store_done_fn *cb, void *arg,
                     struct rs_err *err)
{
	struct store_delete *d;

	if (a.part > STORE_PART_MAX || ex == NULL || cb == NULL)
		return rs_err_set(err, RS_EINVAL, "bad arguments");
	d = rs_xcalloc(1, sizeof(*d));
	d->a = a;
	return store__submit_owned(st, store_delete_apply, d, free, 0, ex, cb,
	                           arg, err);
}
