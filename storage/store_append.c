/* store_append.c: IMAP APPEND and MULTIAPPEND (RFC 3502): n messages
 * into one mailbox of one account as one atomic operation, so that a
 * failure of any (quota, keyword limit) stores none. Bodies are hashed on
 * the writer thread and stored as blobs like deliveries. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

/* RFC 9208 5.1: the set is refused as a whole when it does not fit. */
static int
store_append_quota(const struct store_append *ap,
                   const struct store_rec_acct *acct, struct rs_err *err)
{
	uint64_t bytes = 0;

	if (!ap->enforce_quota)
		return 0;
	for (size_t i = 0; i < ap->n; i++)
		bytes += ap->msgs[i].msg.len;
	if ((ap->quota.bytes > 0 && (bytes > ap->quota.bytes ||
	                             acct->bytes > ap->quota.bytes - bytes)) ||
	    (ap->quota.messages > 0 &&
	     (ap->n > ap->quota.messages ||
	      acct->messages > ap->quota.messages - ap->n)))
		return store__fail(err, RS_EQUOTA, "append is over quota");
	return 0;
}

/* Adds message i of ap to mb. 0 or -1. */
static int
store_append_one(struct store_txn *t, const struct store_append *ap,
                 const struct store_append_msg *am,
                 struct store_rec_acct *acct, struct store_mailbox *mb,
                 uint32_t *uid_r, struct rs_err *err)
{
	struct store_msg m;
	bool created = false;

	memset(&m, 0, sizeof(m));
	if (store__blob_hash(am->msg.data, am->msg.len, m.blob, err) != 0)
		return -1;
	/* The client chose these keywords: they meet the mailbox's cap. */
	if (store__kwset_add(t, ap->acct, mb, am->keywords, am->nkeywords, true,
	                     err) != 0)
		return -1;
	m.flags = am->flags;
	m.internal_date = am->msg.internal_date;
	m.size = am->msg.len;
	for (size_t k = 0; k < am->nkeywords; k++)
		m.keywords[k] = am->keywords[k];
	m.nkeywords = am->nkeywords;
	if (store__msg_add(t, ap->acct, acct, mb, &m, err) != 0 ||
	    store__blob_ref(t, ap->acct.part, m.blob, 1, am->msg.data,
	                    am->msg.len, &created, err) != 0 ||
	    store__blob_meta_put(t, ap->acct.part, m.blob, am->msg.meta,
	                         am->msg.meta_len, created, err) != 0)
		return -1;
	*uid_r = m.uid;
	return 0;
}

static int
store_append_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_append *ap = arg;
	struct store_view v = store__view_txn(t);
	struct store_rec_acct acct;
	struct store_mailbox mb;
	uint32_t first = 0;

	ap->mailbox_id = ap->uidvalidity = ap->uid_first = 0;
	if (store__acct_ensure(t, ap->acct, &acct, err) != 0 ||
	    store__mbox_lookup(&v, ap->acct, ap->mailbox, &mb.id, err) != 0 ||
	    store__mbox_load(&v, ap->acct, mb.id, &mb, err) != 0 ||
	    store_append_quota(ap, &acct, err) != 0)
		return -1;
	for (size_t i = 0; i < ap->n; i++) {
		uint32_t uid;

		if (store_append_one(t, ap, &ap->msgs[i], &acct, &mb, &uid,
		                     err) != 0)
			return -1;
		if (i == 0)
			first = uid;
	}
	store__mbox_save(t, ap->acct, &mb);
	if (store__acct_done(t, ap->acct, &acct, err) != 0)
		return -1;
	ap->mailbox_id = mb.id;
	ap->uidvalidity = mb.uidvalidity;
	ap->uid_first = first;
	return 0;
}

static int
store_append_check(const struct store_append_msg *am, size_t *cost,
                   struct rs_err *err)
{
	const struct store_message *msg = &am->msg;

	if ((msg->len > 0 && msg->data == NULL) ||
	    (msg->meta_len > 0 && msg->meta == NULL) ||
	    (am->nkeywords > 0 && am->keywords == NULL))
		return rs_err_set(err, RS_EINVAL, "bad message");
	if (msg->len > STORE_BODY_MAX || msg->meta_len > (size_t)STORE_META_MAX)
		return rs_err_set(err, RS_ETOOBIG, "message too big");
	if ((am->flags & ~STORE_REC_FLAGS_ALL) != 0)
		return rs_err_set(err, RS_EINVAL, "unknown flags 0x%x",
		                  (unsigned)am->flags);
	if (am->nkeywords > STORE_KEYWORDS_MAX)
		return rs_err_set(err, RS_EINVAL, "more than %d keywords",
		                  STORE_KEYWORDS_MAX);
	for (size_t k = 0; k < am->nkeywords; k++)
		if (!store_keyword_valid(am->keywords[k]))
			return rs_err_set(err, RS_EINVAL, "bad keyword");
	*cost += msg->len + msg->meta_len;
	return 0;
}

int
store_append(struct store *st, struct store_append *ap, struct rs_exec *ex,
             store_done_fn *cb, void *arg, struct rs_err *err)
{
	size_t cost = 0;

	if (ap == NULL || ap->acct.part > STORE_PART_MAX || ap->n == 0 ||
	    ap->msgs == NULL || ex == NULL || cb == NULL ||
	    (ap->mailbox != NULL &&
	     strlen(ap->mailbox) > STORE_MAILBOX_NAME_MAX))
		return rs_err_set(err, RS_EINVAL, "store_append: bad arguments");
	for (size_t i = 0; i < ap->n; i++)
		if (store_append_check(&ap->msgs[i], &cost, err) != 0)
			return -1;
	/* The caller's struct is the op's argument: borrowed until cb. */
	return store__submit_grow(st, store_append_apply, ap, NULL, cost, ex,
	                          cb, arg, err);
}
