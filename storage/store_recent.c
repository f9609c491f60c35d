/* store_recent.c: IMAP4rev1's \Recent (RFC 3501 2.3.2) as the store keeps
 * it: per mailbox, the first UID no session has claimed yet (key P 'a'
 * acct 'R' mbox). A session that selects a mailbox read-write claims
 * every UID from there up to what it sees, in one write on the writer
 * thread, so that two sessions can never both claim a message: the
 * messages a claim returns are recent for that session only. Not logged
 * in the change log and no modseq: \Recent is no stored flag (RFC 7162
 * 3.1.2 lets it change without one). */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct store_recent_op {
	struct store_recent *r;       /* borrowed until cb */
	struct store_acct    a;
	uint32_t             mailbox;
	uint32_t             upto;
};

/* The mark in a value, 1 (nothing claimed yet) when absent. */
static int
store_recent_read(const struct store_view *v, struct store_acct a,
                  uint32_t mailbox, uint32_t *uid_r, struct rs_err *err)
{
	uint8_t key[STORE_KEYS_MBOX_LEN];
	uint8_t *val = NULL;
	size_t len = 0;
	int rc;

	*uid_r = 1;
	rc = store__get(v, key, store_keys_mbox_tag(key, a, STORE_KEYS_RECENT,
	                                            mailbox), &val, &len, err);
	if (rc == RS_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (len != 4) {
		free(val);
		return store__fail(err, RS_EIO, "recent mark: bad value");
	}
	*uid_r = store_keys_get32(val);
	free(val);
	if (*uid_r == 0)
		*uid_r = 1;
	return 0;
}

static int
store_recent_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_recent_op *x = arg;
	struct store_view v = store__view_txn(t);
	struct store_mailbox mb;
	uint8_t key[STORE_KEYS_MBOX_LEN], val[4];
	uint32_t first = 1;
	int rc;

	/* A deleted mailbox keeps no mark (its keys went with it). */
	rc = store__mbox_load(&v, x->a, x->mailbox, &mb, err);
	if (rc != 0)
		return rc == RS_ENOTFOUND ? rc : -1;
	if (store_recent_read(&v, x->a, x->mailbox, &first, err) != 0)
		return -1;
	x->r->first = first;
	/* Never past UIDNEXT: UIDs above it are not given out yet. */
	if (x->upto > mb.uidnext)
		x->upto = mb.uidnext;
	if (x->upto <= first)
		return 0;
	store_keys_put32(val, x->upto);
	store__put(t, key, store_keys_mbox_tag(key, x->a, STORE_KEYS_RECENT,
	                                       x->mailbox), val, sizeof(val));
	return 0;
}

int
store_recent_claim(struct store *st, struct store_recent *r,
                   struct rs_exec *ex, store_done_fn *cb, void *arg,
                   struct rs_err *err)
{
	struct store_recent_op *x;

	if (r->acct.part > STORE_PART_MAX || r->mailbox == 0)
		return rs_err_set(err, RS_EINVAL, "recent: bad mailbox");
	x = rs_xcalloc(1, sizeof(*x));
	x->r = r;
	x->a = r->acct;
	x->mailbox = r->mailbox;
	x->upto = r->upto;
	r->first = r->upto;
	return store__submit_owned(st, store_recent_apply, x, free, 0, ex, cb,
	                           arg, err);
}

int
store_recent_first(struct store *st, struct store_acct a, uint32_t mailbox,
                   uint32_t *uid_r, struct rs_err *err)
{
	struct store_snap *sn;
	struct store_view v;
	int rc;

	*uid_r = 1;
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	sn = store__snap_get_part(st, a.part);
	v = store__view_db(st, sn->ro);
	rc = store_recent_read(&v, a, mailbox, uid_r, err);
	store__snap_put(st, sn);
	return rc;
}

int
store__recent_drop(struct store_txn *t, struct store_acct a, uint32_t mailbox)
{
	uint8_t key[STORE_KEYS_MBOX_LEN];

	store__del(t, key, store_keys_mbox_tag(key, a, STORE_KEYS_RECENT,
	                                       mailbox));
	return 0;
}
