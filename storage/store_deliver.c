/* store_deliver.c: store_deliver, one message for n recipients as one
 * operation of the writer's batch. Arguments are checked on the caller's
 * thread; the body is hashed on the writer thread (a 50 MB body would
 * stall an event loop), and written once per partition. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct store_deliver {
	struct store_message msg;     /* copy; data and meta borrowed */
	struct store_rcpt   *rcpts;   /* borrowed until the completion */
	size_t               n;
};

/* Copies of the body per partition, for one reference update each. */
struct store_deliver_part {
	uint32_t part;
	uint64_t copies;
};

/* True if the account may take one more message of len octets. */
static bool
store_deliver_fits(const struct store_rcpt *r,
                   const struct store_rec_acct *acct, size_t len)
{
	if (!r->enforce_quota)
		return true;
	if (r->quota > 0 && (len > r->quota || acct->bytes > r->quota - len))
		return false;
	return r->quota_messages == 0 || acct->messages < r->quota_messages;
}

/* Adds the message for one recipient. 0 with r->rc telling whether it
 * was stored (0, RS_ENOTFOUND, RS_EQUOTA, RS_ETOOBIG); 1 when it was
 * stored before under the message's idempotency key (r filled, nothing
 * written); or -1 when the whole operation has to be rolled back. */
static int
store_deliver_one(struct store_txn *t, const struct store_message *msg,
                  const uint8_t hash[STORE_HASH_LEN], struct store_rcpt *r,
                  struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	struct store_rec_acct acct;
	struct store_mailbox mb;
	struct store_msg m;
	uint32_t today = msg->idem != NULL ? store__idem_today() : 0;
	int rc;

	if (msg->idem != NULL) {
		rc = store__idem_find(t, r->acct, msg->idem, msg->idem_len,
		                      today, r, err);
		if (rc != 0)
			return rc > 0 ? 1 : -1;   /* stored before: no copy */
	}
	if (store__acct_ensure(t, r->acct, &acct, err) != 0)
		return -1;
	if (msg->idem != NULL &&
	    store__idem_trim(t, r->acct, &acct, today, err) != 0)
		return -1;
	rc = store__mbox_lookup(&v, r->acct, r->mailbox, &mb.id, err);
	if (rc == 0)
		rc = store__mbox_load(&v, r->acct, mb.id, &mb, err);
	if (rc == RS_ENOTFOUND) {
		r->rc = RS_ENOTFOUND;
		return 0;
	}
	if (rc != 0)
		return -1;
	if (!store_deliver_fits(r, &acct, msg->len)) {
		r->rc = RS_EQUOTA;
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.flags = r->flags;
	m.internal_date = msg->internal_date;
	m.size = msg->len;
	memcpy(m.blob, hash, STORE_HASH_LEN);
	for (size_t i = 0; i < r->nkeywords; i++)
		m.keywords[i] = r->keywords[i];
	m.nkeywords = r->nkeywords;
	rc = store__msg_add(t, r->acct, &acct, &mb, &m, err);
	if (rc == RS_ETOOBIG) {
		r->rc = RS_ETOOBIG;
		return 0;
	}
	if (rc != 0)
		return -1;
	store__mbox_save(t, r->acct, &mb);
	if (store__acct_done(t, r->acct, &acct, err) != 0)
		return -1;
	r->mailbox_id = mb.id;
	r->uidvalidity = mb.uidvalidity;
	r->uid = m.uid;
	if (msg->idem != NULL)
		store__idem_put(t, r->acct, msg->idem, msg->idem_len, today, r);
	return 0;
}

static void
store_deliver_count(struct store_deliver_part *parts, size_t *nparts,
                    uint32_t part)
{
	for (size_t i = 0; i < *nparts; i++)
		if (parts[i].part == part) {
			parts[i].copies++;
			return;
		}
	parts[*nparts].part = part;
	parts[*nparts].copies = 1;
	(*nparts)++;
}

/* Runs on the writer thread. */
static int
store_deliver_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_deliver *d = arg;
	struct store_deliver_part *parts;
	uint8_t hash[STORE_HASH_LEN];
	size_t nparts = 0;
	int rc = 0;

	if (store__blob_hash(d->msg.data, d->msg.len, hash, err) != 0)
		return -1;
	parts = rs_xcalloc(d->n, sizeof(*parts));
	for (size_t i = 0; i < d->n && rc == 0; i++) {
		struct store_rcpt *r = &d->rcpts[i];

		r->rc = 0;
		r->mailbox_id = r->uidvalidity = r->uid = 0;
		rc = store_deliver_one(t, &d->msg, hash, r, err);
		if (rc == 0 && r->rc == 0)
			store_deliver_count(parts, &nparts, r->acct.part);
		if (rc > 0)
			rc = 0;               /* an earlier copy counts */
	}
	for (size_t i = 0; i < nparts && rc == 0; i++) {
		bool created = false;

		rc = store__blob_ref(t, parts[i].part, hash, parts[i].copies,
		                     d->msg.data, d->msg.len, &created, err);
		if (rc == 0)
			rc = store__blob_meta_put(t, parts[i].part, hash,
			                          d->msg.meta, d->msg.meta_len,
			                          created, err);
	}
	free(parts);
	return rc == 0 ? 0 : -1;
}

static int
store_deliver_check_rcpt(const struct store_rcpt *r, struct rs_err *err)
{
	if (r->acct.part > STORE_PART_MAX)
		return rs_err_set(err, RS_EINVAL, "partition %u is not for "
		                  "accounts", r->acct.part);
	if (r->mailbox != NULL && strlen(r->mailbox) > STORE_MAILBOX_NAME_MAX)
		return rs_err_set(err, RS_EINVAL, "mailbox name too long");
	if ((r->flags & ~STORE_REC_FLAGS_ALL) != 0)
		return rs_err_set(err, RS_EINVAL, "unknown flags 0x%x",
		                  (unsigned)r->flags);
	if (r->nkeywords > STORE_KEYWORDS_MAX ||
	    (r->nkeywords > 0 && r->keywords == NULL))
		return rs_err_set(err, RS_EINVAL, "bad keyword list");
	for (size_t i = 0; i < r->nkeywords; i++)
		if (!store_keyword_valid(r->keywords[i]))
			return rs_err_set(err, RS_EINVAL, "bad keyword");
	return 0;
}

int
store_deliver(struct store *st, const struct store_message *msg,
              struct store_rcpt *rcpts, size_t n, struct rs_exec *ex,
              store_done_fn *cb, void *arg, struct rs_err *err)
{
	struct store_deliver *d;

	if (msg == NULL || rcpts == NULL || n == 0 || ex == NULL ||
	    cb == NULL || (msg->len > 0 && msg->data == NULL) ||
	    (msg->meta_len > 0 && msg->meta == NULL))
		return rs_err_set(err, RS_EINVAL, "store_deliver: bad "
		                  "arguments");
	if (msg->len > STORE_BODY_MAX || msg->meta_len > (size_t)STORE_META_MAX)
		return rs_err_set(err, RS_ETOOBIG, "message too big");
	if (msg->idem != NULL && (msg->idem_len == 0 ||
	                          msg->idem_len > STORE_IDEM_MAX))
		return rs_err_set(err, RS_EINVAL, "store_deliver: bad "
		                  "idempotency key");
	for (size_t i = 0; i < n; i++)
		if (store_deliver_check_rcpt(&rcpts[i], err) != 0)
			return -1;
	d = rs_xcalloc(1, sizeof(*d));
	d->msg = *msg;
	d->rcpts = rcpts;
	d->n = n;
	return store__submit_grow(st, store_deliver_apply, d, free,
	                          msg->len + msg->meta_len, ex, cb, arg, err);
}
