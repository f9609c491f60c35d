/* store_copy.c: COPY and MOVE between mailboxes of one account (RFC 9051
 * 6.4.7, RFC 6851), each one atomic operation: every copy is a new
 * message of the destination with the source's flags, keywords, internal
 * date and body; MOVE expunges the source in the same write. The copying
 * of one message (store__xfer_one) also serves the INBOX rename of
 * store_mailbox.c. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct store_copy_op {
	struct store_acct  a;
	uint32_t           src;
	char              *dst;       /* owns */
	uint32_t          *uids;      /* owns; ascending, no duplicates */
	size_t             n;
	bool               move;
	struct store_quota quota;
	struct store_copy *res;       /* borrowed until cb */
};

static void
store_copy_op_free(void *arg)
{
	struct store_copy_op *x = arg;

	free(x->dst);
	free(x->uids);
	free(x);
}

int
store__xfer_one(struct store_txn *t, struct store_xfer *x,
                const struct store_msg *m, struct rs_err *err)
{
	struct store_msg c = *m;
	int rc;

	rc = store__msg_add(t, x->a, x->acct, x->dst, &c, err);
	if (rc != 0)
		return rc;
	if (x->move) {
		uint8_t key[STORE_KEYS_MSG_LEN];

		/* The body keeps its one reference: it changes mailbox,
		 * not account, and the account's totals stay. */
		store__del(t, key, store_keys_msg(key, x->a, m->mailbox,
		                                  m->uid));
		store__idx_del(t, x->a, m->mailbox, m->uid);
		store__mbox_count(x->src, m->flags, m->size, -1);
		x->acct->messages = store__sub_sat(x->acct->messages, 1);
		x->acct->bytes = store__sub_sat(x->acct->bytes, m->size);
		x->src->highestmodseq = store__change_add(
		    t, x->a, x->acct, STORE_CHANGE_EXPUNGE, m->mailbox, m->uid);
	} else {
		if (store__blob_addref(t, x->a.part, m->blob, err) != 0)
			return -1;
		x->bytes += m->size;
	}
	if (x->src_uids != NULL) {
		if (x->n == x->cap) {
			x->cap = x->cap != 0 ? x->cap * 2 : 64;
			x->src_uids = rs_xreallocarray(x->src_uids, x->cap,
			                               sizeof(*x->src_uids));
			x->dst_uids = rs_xreallocarray(x->dst_uids, x->cap,
			                               sizeof(*x->dst_uids));
		}
		x->src_uids[x->n] = m->uid;
		x->dst_uids[x->n] = c.uid;
	}
	x->n++;
	return 0;
}

/* Loads source and destination; a mailbox copied into itself is one
 * struct, so that both sides count in the same record. */
static int
store_copy_begin(struct store_txn *t, const struct store_copy_op *x,
                 struct store_mailbox *src, struct store_mailbox *dst,
                 struct store_xfer *xf, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	int rc;

	if (store__mbox_load(&v, x->a, x->src, src, err) != 0)
		return -1;
	rc = store__mbox_lookup(&v, x->a, x->dst, &dst->id, err);
	if (rc == RS_ENOTFOUND)
		x->res->dst_missing = true;
	if (rc != 0)
		return -1;
	xf->src = src;
	xf->dst = dst;
	if (dst->id == src->id) {
		xf->dst = src;
		return 0;
	}
	return store__mbox_load(&v, x->a, dst->id, dst, err) != 0 ? -1 : 0;
}

/* RFC 9208 5.2: a COPY that would pass a limit fails as a whole. */
static int
store_copy_quota(const struct store_copy_op *x,
                 const struct store_rec_acct *acct, struct rs_err *err)
{
	if (x->move)
		return 0;
	if ((x->quota.bytes > 0 && acct->bytes > x->quota.bytes) ||
	    (x->quota.messages > 0 && acct->messages > x->quota.messages))
		return store__fail(err, RS_EQUOTA, "copy is over quota");
	return 0;
}

static int
store_copy_run(struct store_txn *t, struct store_copy_op *x,
               struct store_xfer *xf, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);

	for (size_t i = 0; i < x->n; i++) {
		struct store_msg m;
		uint8_t *val;
		int rc;

		rc = store__msg_load(&v, x->a, x->src, x->uids[i], &m, &val,
		                     err);
		if (rc == RS_ENOTFOUND)
			continue;
		if (rc != 0)
			return -1;
		rc = store__xfer_one(t, xf, &m, err);
		free(val);
		if (rc != 0)
			return -1;
	}
	if (xf->n == 0)
		return 0;
	if (store_copy_quota(x, xf->acct, err) != 0)
		return -1;
	if (xf->dst != xf->src)
		store__mbox_save(t, x->a, xf->dst);
	store__mbox_save(t, x->a, xf->src);
	return store__acct_done(t, x->a, xf->acct, err);
}

static int
store_copy_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_copy_op *x = arg;
	struct store_rec_acct acct;
	struct store_mailbox src, dst;
	struct store_xfer xf;
	int rc;

	memset(&xf, 0, sizeof(xf));
	if (store__acct_ensure(t, x->a, &acct, err) != 0 ||
	    store_copy_begin(t, x, &src, &dst, &xf, err) != 0)
		return -1;
	xf.a = x->a;
	xf.acct = &acct;
	xf.move = x->move;
	xf.cap = x->n > 0 ? x->n : 1;
	xf.src_uids = rs_xreallocarray(NULL, xf.cap, sizeof(*xf.src_uids));
	xf.dst_uids = rs_xreallocarray(NULL, xf.cap, sizeof(*xf.dst_uids));
	rc = store_copy_run(t, x, &xf, err);
	if (rc != 0) {
		free(xf.src_uids);
		free(xf.dst_uids);
		return -1;
	}
	x->res->dst_id = xf.dst->id;
	x->res->uidvalidity = xf.dst->uidvalidity;
	x->res->src_uids = xf.src_uids;
	x->res->dst_uids = xf.dst_uids;
	x->res->ncopied = xf.n;
	return 0;
}

int
store_copy(struct store *st, struct store_copy *c, struct rs_exec *ex,
           store_done_fn *cb, void *arg, struct rs_err *err)
{
	struct store_copy_op *x;
	if (c == NULL || c->acct.part > STORE_PART_MAX ||
	    (c->n > 0 && c->uids == NULL) || ex == NULL || cb == NULL)
		return rs_err_set(err, RS_EINVAL, "bad arguments");
	if (store__name_check(c->dst, err) != 0)
		return -1;
	c->dst_missing = false;
	c->dst_id = c->uidvalidity = 0;
	c->src_uids = c->dst_uids = NULL;
	c->ncopied = 0;
	x = rs_xcalloc(1, sizeof(*x));
	x->a = c->acct;
	x->src = c->src;
	x->dst = rs_xstrdup(store__index_name(c->dst));
	/* RFC 4315 3: the copies take their UIDs in the order of the
	 * source UIDs. */
	x->uids = store__uids_sorted(c->uids, c->n, &x->n);
	x->move = c->move;
	x->quota = c->quota;
	x->res = c;
	return store__submit_owned(st, store_copy_apply, x, store_copy_op_free,
	                           x->n * sizeof(*x->uids), ex, cb, arg, err);
}

void
store_copy_free(struct store_copy *c)
{
	free(c->src_uids);
	free(c->dst_uids);
	c->src_uids = c->dst_uids = NULL;
	c->ncopied = 0;
}
