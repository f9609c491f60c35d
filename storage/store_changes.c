/* store_changes.c: the change log. Each modseq of an account has one
 * entry in the account log (P 'a' acct 'C' modseq) and, when it concerns
 * a mailbox that still exists, a twin in that mailbox's index (P 'a' acct
 * 'c' mbox modseq), so that a selected mailbox reads its own changes
 * without the rest of the account's.
 *
 * Retention: an account keeps at least its newest changes_keep entries
 * (store_opts). Once it holds a step more (changes_keep / 8 + 1, at most
 * 1,024), the write that adds the entry trims the oldest ones down to
 * changes_keep, twins included, and raises the account's log_floor to the
 * last trimmed modseq. Reads from a modseq at or above log_floor are
 * complete; below it, they miss trimmed entries (see changes_floor in
 * store.h). Nothing here knows the protocols that read the log. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

#define STORE_TRIM_STEP_MAX 1024

static void
store_change_write(struct store_txn *t, struct store_acct a, uint64_t modseq,
                   enum store_change_kind kind, uint32_t mbox, uint32_t uid,
                   bool index)
{
	uint8_t key[STORE_KEYS_MCHANGE_LEN], val[STORE_REC_CHANGE_MAX];
	struct store_change c = { .modseq = modseq, .kind = kind,
	                          .mailbox = mbox, .uid = uid };
	size_t vlen = store_rec_change_enc(val, &c);

	store__put(t, key, store_keys_change(key, a, modseq), val, vlen);
	if (index && mbox != 0)
		store__put(t, key, store_keys_mchange(key, a, mbox, modseq), val,
		           vlen);
}

uint64_t
store__change_add(struct store_txn *t, struct store_acct a,
                  struct store_rec_acct *acct, enum store_change_kind kind,
                  uint32_t mbox, uint32_t uid)
{
	uint64_t modseq = ++acct->modseq;

	store_change_write(t, a, modseq, kind, mbox, uid, true);
	return modseq;
}

uint64_t
store__change_add_acct(struct store_txn *t, struct store_acct a,
                       struct store_rec_acct *acct,
                       enum store_change_kind kind, uint32_t mbox)
{
	uint64_t modseq = ++acct->modseq;

	store_change_write(t, a, modseq, kind, mbox, 0, false);
	return modseq;
}

/* ---- retention ---- */

struct store_trim {
	struct store_acct a;
	uint64_t          upto;       /* last modseq to trim */
};

static int
store_trim_visit(struct store_txn *t, void *arg, const uint8_t *key,
                 size_t klen, const uint8_t *val, size_t vlen,
                 struct rs_err *err)
{
	struct store_trim *x = arg;
	struct store_change c;
	uint8_t twin[STORE_KEYS_MCHANGE_LEN];
	uint64_t modseq;

	if (klen != STORE_KEYS_CHANGE_LEN) {
		store__fail(err, RS_EIO, "bad change-log key");
		return -1;
	}
	modseq = store_keys_get64(key + STORE_KEYS_ACCT_LEN);
	if (modseq > x->upto)
		return 1;
	store__del(t, key, klen);
	/* XXX(storage): a damaged entry is trimmed without its twin (its
	 * mailbox is unknown); the twin stays until the mailbox goes. */
	if (store_rec_change_dec(val, vlen, &c) == 0 && c.mailbox != 0)
		store__del(t, twin, store_keys_mchange(twin, x->a, c.mailbox,
		                                       modseq));
	return 0;
}

static int
store_changes_trim(struct store_txn *t, struct store_acct a,
                   struct store_rec_acct *acct, struct rs_err *err)
{
	uint64_t keep = t->st->changes_keep, step = keep / 8 + 1;
	uint8_t prefix[STORE_KEYS_ACCT_LEN], from[STORE_KEYS_CHANGE_LEN];
	struct store_trim x = { a, 0 };

	if (step > STORE_TRIM_STEP_MAX)
		step = STORE_TRIM_STEP_MAX;
	if (acct->modseq <= acct->log_floor ||
	    acct->modseq - acct->log_floor <= keep + step)
		return 0;
	x.upto = acct->modseq - keep;
	/* Modseqs are dense, so the oldest entry is log_floor + 1. */
	if (store__walk(t, prefix,
	                store_keys_acct_tag(prefix, a, STORE_KEYS_CHANGE),
	                from, store_keys_change(from, a, acct->log_floor + 1),
	                store_trim_visit, &x, err) != 0)
		return -1;
	acct->log_floor = x.upto;
	return 0;
}

int
store__acct_done(struct store_txn *t, struct store_acct a,
                 struct store_rec_acct *acct, struct rs_err *err)
{
	if (store_changes_trim(t, a, acct, err) != 0)
		return -1;
	store__acct_save(t, a, acct);
	store_txn_touch(t, a, acct->modseq);
	return 0;
}

/* ---- reads ---- */

/* Reads entries of one log (account or mailbox) from seek on into out.
 * The modseq is the last 8 octets of each key. */
static int
store_changes_read(struct store *st, const uint8_t *prefix, size_t plen,
                   const uint8_t *seek, size_t slen, size_t want_klen,
                   struct store_change *out, size_t max, size_t *n_r,
                   struct rs_err *err)
{
	struct store_range r;
	size_t n = 0;
	int rc = 0;

	store__range_open(st, &r, prefix, plen, seek, slen, NULL);
	for (; n < max && rocksdb_iter_valid(r.it); rocksdb_iter_next(r.it)) {
		size_t klen, vlen;
		const uint8_t *k = store__iter_key(r.it, &klen);
		const uint8_t *val = store__iter_val(r.it, &vlen);

		if (klen != want_klen ||
		    store_rec_change_dec(val, vlen, &out[n]) != 0) {
			rc = store__fail(err, RS_EIO, "corrupt change record");
			break;
		}
		out[n++].modseq = store_keys_get64(k + klen - 8);
	}
	if (rc == 0 && n < max)
		rc = store__range_status(&r, err);
	store__range_close(&r);
	if (rc != 0)
		return rc;
	*n_r = n;
	return 0;
}

int
store_changes_since(struct store *st, struct store_acct a, uint64_t since,
                    struct store_change *out, size_t max, size_t *n_r,
                    struct rs_err *err)
{
	uint8_t prefix[STORE_KEYS_ACCT_LEN], seek[STORE_KEYS_CHANGE_LEN];
	size_t plen = store_keys_acct_tag(prefix, a, STORE_KEYS_CHANGE);

	*n_r = 0;
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	if (since == UINT64_MAX || max == 0)
		return 0;
	return store_changes_read(st, prefix, plen, seek,
	                          store_keys_change(seek, a, since + 1),
	                          STORE_KEYS_CHANGE_LEN, out, max, n_r, err);
}

int
store_mailbox_changes(struct store *st, struct store_acct a, uint32_t mailbox,
                      uint64_t since, struct store_change *out, size_t max,
                      size_t *n_r, struct rs_err *err)
{
	uint8_t prefix[STORE_KEYS_MBOX_LEN], seek[STORE_KEYS_MCHANGE_LEN];
	size_t plen = store_keys_mbox_tag(prefix, a, STORE_KEYS_MCHANGE,
	                                  mailbox);

	*n_r = 0;
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	if (since == UINT64_MAX || max == 0)
		return 0;
	return store_changes_read(st, prefix, plen, seek,
	                          store_keys_mchange(seek, a, mailbox,
	                                             since + 1),
	                          STORE_KEYS_MCHANGE_LEN, out, max, n_r, err);
}

/* Collects the expunged UIDs of the mailbox range r into *uids_r. */
static int
store_vanished_scan(struct store_range *r, uint32_t **uids_r, size_t *n_r,
                    struct rs_err *err)
{
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (; rocksdb_iter_valid(r->it); rocksdb_iter_next(r->it)) {
		size_t klen, vlen;
		struct store_change c;
		const uint8_t *val = store__iter_val(r->it, &vlen);

		(void)store__iter_key(r->it, &klen);
		if (klen != STORE_KEYS_MCHANGE_LEN ||
		    store_rec_change_dec(val, vlen, &c) != 0) {
			rc = store__fail(err, RS_EIO, "corrupt change record");
			break;
		}
		if (c.kind != STORE_CHANGE_EXPUNGE)
			continue;
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			v = rs_xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = c.uid;
	}
	if (rc == 0)
		rc = store__range_status(r, err);
	if (rc != 0) {
		free(v);
		return rc;
	}
	/* A UID is expunged once: sorting is all that is left to do. */
	*uids_r = store__uids_sorted(v, n, n_r);
	free(v);
	return 0;
}

int
store_mailbox_vanished(struct store *st, struct store_acct a,
                       uint32_t mailbox, uint64_t since, uint32_t **uids_r,
                       size_t *n_r, bool *complete_r, struct rs_err *err)
{
	struct store_snap *sn;
	struct store_view v;
	struct store_rec_acct acct;
	uint8_t prefix[STORE_KEYS_MBOX_LEN], seek[STORE_KEYS_MCHANGE_LEN];
	struct store_range r;
	int rc;

	*uids_r = NULL;
	*n_r = 0;
	*complete_r = true;
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	if (since == UINT64_MAX)
		return 0;
	/* The floor and the entries from one state: a trim in between
	 * would otherwise pass for a complete answer. */
	sn = store__snap_get_part(st, a.part);
	v = store__view_db(st, sn->ro);
	rc = store__acct_load(&v, a, &acct, err);
	if (rc == 0) {
		*complete_r = since >= acct.log_floor;
		store__range_open(st, &r, prefix,
		                  store_keys_mbox_tag(prefix, a,
		                                      STORE_KEYS_MCHANGE,
		                                      mailbox),
		                  seek, store_keys_mchange(seek, a, mailbox,
		                                           since + 1), sn->snap);
		rc = store_vanished_scan(&r, uids_r, n_r, err);
		store__range_close(&r);
	} else if (rc == RS_ENOTFOUND) {
		rc = 0;                 /* no state: nothing ever expunged */
	}
	store__snap_put(st, sn);
	return rc;
}
