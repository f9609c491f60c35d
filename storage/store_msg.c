/* store_msg.c: what every write on messages shares: the mailbox counters
 * (STATUS), reading and writing message records, adding a message to a
 * mailbox, and the per-mailbox keyword set behind FLAGS/PERMANENTFLAGS.
 * Runs on the writer thread, inside an apply function; the operations
 * themselves are in store_deliver.c, store_append.c, store_flags.c and
 * store_copy.c. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"

bool
store_keyword_valid(const char *kw)
{
	size_t n = kw != NULL ? strlen(kw) : 0;

	if (n == 0 || n > STORE_KEYWORD_MAX)
		return false;
	/* RFC 9051 9: flag-keyword is an atom; ATOM-CHAR is any CHAR but
	 * atom-specials, which exclude "\\", so no system flag gets here. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)kw[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	/* RFC 9051 9: "NIL" is an atom, but it is also the nil token, and
	 * "FLAGS (NIL)" reads as nothing to clients that parse generically:
	 * no keyword may be named so (IMAP answers BAD). */
	return strcasecmp(kw, "NIL") != 0;
}

static int
store_uid_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

uint32_t *
store__uids_sorted(const uint32_t *uids, size_t n, size_t *n_r)
{
	uint32_t *v = rs_xreallocarray(NULL, n > 0 ? n : 1, sizeof(*v));
	size_t k = 0;

	if (n > 0)
		memcpy(v, uids, n * sizeof(*uids));
	qsort(v, n, sizeof(*v), store_uid_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	*n_r = k;
	return v;
}

void
store__mbox_count(struct store_mailbox *mb, uint32_t flags, uint64_t size,
                  int dir)
{
	bool seen = (flags & STORE_FLAG_SEEN) != 0;
	bool del = (flags & STORE_FLAG_DELETED) != 0;

	if (dir > 0) {
		mb->messages++;
		mb->bytes += size;
		mb->unseen += seen ? 0 : 1;
		if (del) {
			mb->deleted++;
			mb->deleted_bytes += size;
		}
		return;
	}
	mb->messages = (uint32_t)store__sub_sat(mb->messages, 1);
	mb->bytes = store__sub_sat(mb->bytes, size);
	if (!seen)
		mb->unseen = (uint32_t)store__sub_sat(mb->unseen, 1);
	if (del) {
		mb->deleted = (uint32_t)store__sub_sat(mb->deleted, 1);
		mb->deleted_bytes = store__sub_sat(mb->deleted_bytes, size);
	}
}

void
store__mbox_reflag(struct store_mailbox *mb, uint32_t old, uint32_t nf,
                   uint64_t size)
{
	/* Out with the old flags, in with the new: the message count and
	 * size come back to where they were. */
	store__mbox_count(mb, old, size, -1);
	store__mbox_count(mb, nf, size, 1);
}

void
store__msg_put(struct store_txn *t, struct store_acct a,
               const struct store_msg *m)
{
	uint8_t key[STORE_KEYS_MSG_LEN], *val;
	size_t vlen;

	val = rs_xmalloc(store_rec_msg_bound(m));
	vlen = store_rec_msg_enc(val, m);
	store__put(t, key, store_keys_msg(key, a, m->mailbox, m->uid), val,
	           vlen);
	free(val);
	store__idx_set(t, a, m);
}

int
store__msg_load(const struct store_view *v, struct store_acct a,
                uint32_t mbox, uint32_t uid, struct store_msg *m,
                uint8_t **val_r, struct rs_err *err)
{
	uint8_t key[STORE_KEYS_MSG_LEN];
	size_t len;
	int rc;

	rc = store__get(v, key, store_keys_msg(key, a, mbox, uid), val_r, &len,
	                err);
	if (rc == RS_ENOTFOUND)
		return store__fail(err, rc, "no message %u/%u", mbox, uid);
	if (rc != 0)
		return rc;
	if (store_rec_msg_dec(*val_r, len, m) != 0) {
		free(*val_r);
		*val_r = NULL;
		return store__fail(err, RS_EIO, "corrupt message %u/%u", mbox,
		                   uid);
	}
	m->mailbox = mbox;
	m->uid = uid;
	return 0;
}

int
store__kwset_add(struct store_txn *t, struct store_acct a,
                 struct store_mailbox *mb, const char *const *kws, size_t n,
                 bool cap, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	bool missing[STORE_KEYWORDS_MAX];
	uint8_t key[STORE_KEYS_MAX];
	size_t nmiss = 0;

	if (n > STORE_KEYWORDS_MAX) {
		store__fail(err, RS_EINVAL, "too many keywords");
		return -1;
	}
	/* Look first, write after: with cap, a refusal writes nothing. */
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(kws[i]);
		int rc = store__exists(&v, key, store_keys_keyword(key, a,
		                       mb->id, kws[i], kl), err);

		if (rc < 0)
			return -1;
		missing[i] = rc == 0;
		for (size_t j = 0; j < i && missing[i]; j++)
			if (missing[j] && strcasecmp(kws[i], kws[j]) == 0)
				missing[i] = false;     /* listed twice */
		nmiss += missing[i] ? 1 : 0;
	}
	if (nmiss == 0)
		return 0;
	if (cap && mb->nkeywords + nmiss > STORE_MAILBOX_KEYWORDS_MAX)
		return store__fail(err, RS_ETOOBIG, "mailbox %u has %u keywords",
		                   mb->id, mb->nkeywords);
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(kws[i]);

		if (!missing[i])
			continue;
		store__put(t, key, store_keys_keyword(key, a, mb->id, kws[i],
		                                      kl), kws[i], kl);
		mb->nkeywords++;
	}
	return 0;
}

int
store__msg_add(struct store_txn *t, struct store_acct a,
               struct store_rec_acct *acct, struct store_mailbox *mb,
               struct store_msg *m, struct rs_err *err)
{
	/* RFC 9051 2.3.1.1: UIDs are 32-bit. XXX(storage): a mailbox
	 * that used them all needs a new UIDVALIDITY and renumbering;
	 * until then the message is refused with RS_ETOOBIG. */
	if (mb->uidnext == UINT32_MAX)
		return store__fail(err, RS_ETOOBIG, "mailbox %u has no UIDs "
		                   "left", mb->id);
	if (store__kwset_add(t, a, mb, m->keywords, m->nkeywords, false,
	                     err) != 0)
		return -1;
	m->mailbox = mb->id;
	m->uid = mb->uidnext++;
	m->modseq = store__change_add(t, a, acct, STORE_CHANGE_APPEND, mb->id,
	                              m->uid);
	store__msg_put(t, a, m);
	store__mbox_count(mb, m->flags, m->size, 1);
	mb->highestmodseq = m->modseq;
	acct->messages++;
	acct->bytes += m->size;
	return 0;
}
