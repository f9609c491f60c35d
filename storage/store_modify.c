/* store_modify.c: the write operations on existing messages: expunge,
 * system-flag changes and account deletion. Each runs on the writer
 * thread as one operation of a group; every changed message gets its own
 * modseq and its own change-log entry. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"

/* Expunge and set_flags share their arguments. */
struct store_modify {
	struct store_acct  a;
	uint32_t           mailbox;
	uint32_t          *uids;      /* owns */
	size_t             n;
	enum store_flag_op op;
	uint32_t           flags;
};

static void
store_modify_free(void *arg)
{
	struct store_modify *x = arg;

	free(x->uids);
	free(x);
}

/* Loads the account and mailbox an operation works on. 1: loaded; 0: the
 * account has no state, so there is nothing to change; -1: err set (the
 * mailbox does not exist, or a record is damaged). */
static int
store_modify_begin(struct store_txn *t, const struct store_modify *x,
                   struct store_rec_acct *acct, struct store_mailbox *mb,
                   struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	int rc;

	rc = store__acct_load(&v, x->a, acct, err);
	if (rc == RS_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = store__mbox_load(&v, x->a, x->mailbox, mb, err);
	return rc == 0 ? 1 : -1;
}

/* Reads message uid through the batch: 0 with *val_r (returns owned) and
 * m decoded from it; RS_ENOTFOUND; or RS_EIO. */
static int
store_modify_msg(struct store_txn *t, const struct store_modify *x,
                 uint32_t uid, struct store_msg *m, uint8_t **val_r,
                 struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	uint8_t key[STORE_KEYS_MSG_LEN];
	size_t len;
	int rc;

	rc = store__get(&v, key, store_keys_msg(key, x->a, x->mailbox, uid),
	                val_r, &len, err);
	if (rc != 0)
		return rc;
	if (store_rec_msg_dec(*val_r, len, m) != 0) {
		RS_FREE(val_r);
		return store__fail(err, RS_EIO, "corrupt message %u/%u",
		                   x->mailbox, uid);
	}
	m->mailbox = x->mailbox;
	m->uid = uid;
	return 0;
}

static int
store_expunge_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_modify *x = arg;
	struct store_rec_acct acct;
	struct store_mailbox mb;
	bool changed = false;
	int rc;

	rc = store_modify_begin(t, x, &acct, &mb, err);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < x->n; i++) {
		uint8_t key[STORE_KEYS_MSG_LEN], *val;
		struct store_msg m;

		rc = store_modify_msg(t, x, x->uids[i], &m, &val, err);
		if (rc == RS_ENOTFOUND)
			continue;       /* gone already, or listed twice */
		if (rc != 0)
			return -1;
		store__del(t, key, store_keys_msg(key, x->a, x->mailbox,
		                                  m.uid));
		rc = store__blob_unref(t, x->a.part, m.blob, err);
		free(val);
		if (rc != 0)
			return -1;
		mb.messages = (uint32_t)store__sub_sat(mb.messages, 1);
		if ((m.flags & STORE_FLAG_SEEN) == 0)
			mb.unseen = (uint32_t)store__sub_sat(mb.unseen, 1);
		mb.bytes = store__sub_sat(mb.bytes, m.size);
		acct.messages = store__sub_sat(acct.messages, 1);
		acct.bytes = store__sub_sat(acct.bytes, m.size);
		mb.highestmodseq = ++acct.modseq;
		store__change_put(t, x->a, acct.modseq, STORE_CHANGE_EXPUNGE,
		                  x->mailbox, m.uid);
		changed = true;
	}
	if (changed) {
		store__mbox_save(t, x->a, &mb);
		store__acct_save(t, x->a, &acct);
		store_txn_touch(t, x->a, acct.modseq);
	}
	return 0;
}

static uint32_t
store_flags_apply_op(enum store_flag_op op, uint32_t old, uint32_t flags)
{
	switch (op) {
	case STORE_FLAGS_SET:
		return flags;
	case STORE_FLAGS_ADD:
		return old | flags;
	case STORE_FLAGS_REMOVE:
		return old & ~flags;
	}
	return old;
}

static int
store_flags_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_modify *x = arg;
	struct store_rec_acct acct;
	struct store_mailbox mb;
	bool changed = false;
	int rc;

	rc = store_modify_begin(t, x, &acct, &mb, err);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < x->n; i++) {
		uint8_t key[STORE_KEYS_MSG_LEN], *val, *enc;
		struct store_msg m;
		uint32_t nf;
		size_t len;

		rc = store_modify_msg(t, x, x->uids[i], &m, &val, err);
		if (rc == RS_ENOTFOUND)
			continue;
		if (rc != 0)
			return -1;
		nf = store_flags_apply_op(x->op, m.flags, x->flags);
		if (nf == m.flags) {
			/* RFC 7162 3.1.3: no change, no new modseq. */
			free(val);
			continue;
		}
		if ((m.flags & STORE_FLAG_SEEN) != (nf & STORE_FLAG_SEEN)) {
			if ((nf & STORE_FLAG_SEEN) != 0)
				mb.unseen = (uint32_t)store__sub_sat(mb.unseen,
				                                     1);
			else
				mb.unseen++;
		}
		m.flags = nf;
		m.modseq = ++acct.modseq;
		mb.highestmodseq = m.modseq;
		/* m's keywords and meta point into val: encode before free. */
		enc = rs_xmalloc(store_rec_msg_bound(&m));
		len = store_rec_msg_enc(enc, &m);
		store__put(t, key, store_keys_msg(key, x->a, x->mailbox, m.uid),
		           enc, len);
		free(enc);
		free(val);
		store__change_put(t, x->a, m.modseq, STORE_CHANGE_FLAGS,
		                  x->mailbox, m.uid);
		changed = true;
	}
	if (changed) {
		store__mbox_save(t, x->a, &mb);
		store__acct_save(t, x->a, &acct);
		store_txn_touch(t, x->a, acct.modseq);
	}
	return 0;
}

static int
store_modify_queue(struct store *st, store_apply_fn *apply,
                   struct store_acct a, uint32_t mailbox,
                   const uint32_t *uids, size_t n, enum store_flag_op op,
                   uint32_t flags, struct rs_exec *ex, store_done_fn *cb,
                   void *arg, struct rs_err *err)
{
	struct store_modify *x;

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
	x->op = op;
	x->flags = flags;
	return store__submit_owned(st, apply, x, store_modify_free,
	                           n * sizeof(*uids), ex, cb, arg, err);
}

int
store_expunge(struct store *st, struct store_acct a, uint32_t mailbox,
              const uint32_t *uids, size_t n, struct rs_exec *ex,
              store_done_fn *cb, void *arg, struct rs_err *err)
{
	return store_modify_queue(st, store_expunge_apply, a, mailbox, uids, n,
	                          STORE_FLAGS_SET, 0, ex, cb, arg, err);
}

int
store_set_flags(struct store *st, struct store_acct a, uint32_t mailbox,
                const uint32_t *uids, size_t n, enum store_flag_op op,
                uint32_t flags, struct rs_exec *ex, store_done_fn *cb,
                void *arg, struct rs_err *err)
{
	if ((flags & ~STORE_REC_FLAGS_ALL) != 0)
		return rs_err_set(err, RS_EINVAL, "unknown flags 0x%x",
		                  (unsigned)flags);
	if (op != STORE_FLAGS_SET && op != STORE_FLAGS_ADD &&
	    op != STORE_FLAGS_REMOVE)
		return rs_err_set(err, RS_EINVAL, "bad flag operation");
	return store_modify_queue(st, store_flags_apply, a, mailbox, uids, n,
	                          op, flags, ex, cb, arg, err);
}

/* ---- account deletion ---- */

/* Keys are collected this many at a time: a batch must not change under
 * an iterator that reads it, and memory stays bounded. */
#define STORE_DELETE_STEP 1024

struct store_del_item {
	uint8_t *key;                 /* owns */
	size_t   klen;
	bool     msg;                 /* a message record: drop its blob */
	uint8_t  hash[STORE_HASH_LEN];
};

/* Collects up to STORE_DELETE_STEP keys of the account from "from" on,
 * through the batch. Returns the count, or -1 with err set. */
static int
store_delete_collect(struct store_txn *t, const uint8_t *prefix, size_t plen,
                     const uint8_t *from, size_t flen,
                     struct store_del_item *items, struct rs_err *err)
{
	rocksdb_iterator_t *base = rocksdb_create_iterator(t->st->db,
	                                                   t->st->ropts);
	/* Takes base. Sees the batch too: an earlier op of the group may
	 * have delivered to this account. */
	rocksdb_iterator_t *it =
	    rocksdb_writebatch_wi_create_iterator_with_base(t->wb, base);
	char *e = NULL;
	int n = 0, rc = 0;

	for (rocksdb_iter_seek(it, (const char *)from, flen);
	     rocksdb_iter_valid(it) && n < STORE_DELETE_STEP;
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *k = store__iter_key(it, &klen);
		const uint8_t *v = store__iter_val(it, &vlen);
		struct store_del_item *d = &items[n];

		if (klen < plen || memcmp(k, prefix, plen) != 0)
			break;
		d->msg = klen == STORE_KEYS_MSG_LEN &&
		         k[plen] == STORE_KEYS_MSG;
		if (d->msg) {
			struct store_msg m;

			/* XXX(storage): a damaged message record blocks the
			 * delete (its blob reference cannot be dropped); an
			 * admin override may be wanted. */
			if (store_rec_msg_dec(v, vlen, &m) != 0) {
				rc = store__fail(err, RS_EIO, "corrupt message "
				                 "record in deleted account");
				break;
			}
			memcpy(d->hash, m.blob, STORE_HASH_LEN);
		}
		d->key = rs_xmemdup(k, klen);
		d->klen = klen;
		n++;
	}
	if (rc == 0) {
		rocksdb_iter_get_error(it, &e);
		if (e != NULL) {
			rc = store__fail(err, RS_EIO, "account scan: %s", e);
			free(e);
		}
	}
	rocksdb_iter_destroy(it);
	if (rc != 0) {
		while (n > 0)
			free(items[--n].key);
		return -1;
	}
	return n;
}

/* Deletes collected keys and drops the blob references of messages. */
static int
store_delete_items(struct store_txn *t, uint32_t part,
                   struct store_del_item *items, int n, struct rs_err *err)
{
	int rc = 0;

	for (int i = 0; i < n; i++) {
		store__del(t, items[i].key, items[i].klen);
		if (rc == 0 && items[i].msg)
			rc = store__blob_unref(t, part, items[i].hash, err);
	}
	return rc;
}

static int
store_delete_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	const struct store_acct *a = arg;
	struct store_del_item *items = rs_xcalloc(STORE_DELETE_STEP,
	                                          sizeof(*items));
	uint8_t prefix[STORE_KEYS_ACCT_LEN];
	size_t plen = store_keys_acct(prefix, *a);
	uint8_t *from = rs_xmemdup(prefix, plen);
	size_t flen = plen;
	bool any = false;
	int n, rc = 0;

	/* XXX(storage): the whole account goes into one batch (atomic, but
	 * as large as the account's record count); a range delete would be
	 * cheaper but WriteBatchWithIndex cannot hold one. */
	do {
		n = store_delete_collect(t, prefix, plen, from, flen, items,
		                         err);
		if (n < 0) {
			rc = -1;
			break;
		}
		any = any || n > 0;
		rc = store_delete_items(t, a->part, items, n, err);
		if (n > 0) {
			/* Next round starts just after the last key. */
			free(from);
			flen = items[n - 1].klen + 1;
			from = rs_xcalloc(1, flen);
			memcpy(from, items[n - 1].key, flen - 1);
		}
		for (int i = 0; i < n; i++)
			free(items[i].key);
	} while (rc == 0 && n == STORE_DELETE_STEP);
	free(from);
	free(items);
	if (rc != 0)
		return -1;
	if (any)
		store_txn_touch(t, *a, 0);
	return 0;
}

int
store_account_delete(struct store *st, struct store_acct a,
                     struct rs_exec *ex, store_done_fn *cb, void *arg,
                     struct rs_err *err)
{
	struct store_acct *x;

	if (a.part > STORE_PART_MAX || ex == NULL || cb == NULL)
		return rs_err_set(err, RS_EINVAL, "bad arguments");
	x = rs_xmemdup(&a, sizeof(a));
	return store__submit_owned(st, store_delete_apply, x, free, 0, ex, cb,
	                           arg, err);
}
