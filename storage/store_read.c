/* store_read.c: the synchronous reads of store.h (accounts, mailboxes,
 * messages, the change log), callable from any thread. Multi-key reads
 * go through one iterator or snapshot so they see one committed state;
 * nothing is cached here. Blob reads are in store_blob.c. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"

int
store_account_get(struct store *st, struct store_acct a,
                  struct store_account_info *r, struct rs_err *err)
{
	struct store_view v = store__view_db(st, NULL);
	struct store_rec_acct s;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = store__acct_load(&v, a, &s, err);
	if (rc == RS_ENOTFOUND)
		return 0;               /* an empty account */
	if (rc != 0)
		return rc;
	r->modseq = s.modseq;
	r->bytes = s.bytes;
	r->messages = s.messages;
	r->mailboxes = s.nmbox;
	r->changes_floor = s.log_floor;
	r->exists = true;
	return 0;
}

static int
store_mailbox_cmp(const void *x, const void *y)
{
	const struct store_mailbox *a = x, *b = y;

	/* strcmp orders as the name index does: octet by octet. */
	return strcmp(a->name, b->name);
}

static void
store_mailbox_defaults(struct store_mailbox **list_r, size_t *n_r)
{
	struct store_mailbox *l = rs_xcalloc(store__ndefaults, sizeof(*l));

	for (size_t i = 0; i < store__ndefaults; i++)
		store__default_mbox(i, &l[i]);
	qsort(l, store__ndefaults, sizeof(*l), store_mailbox_cmp);
	*list_r = l;
	*n_r = store__ndefaults;
}

int
store_mailbox_list(struct store *st, struct store_acct a,
                   struct store_mailbox **list_r, size_t *n_r,
                   struct rs_err *err)
{
	uint8_t prefix[STORE_KEYS_ACCT_LEN];
	size_t plen = store_keys_acct_tag(prefix, a, STORE_KEYS_MBOX);
	struct store_range r;
	struct store_mailbox *l = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*list_r = NULL;
	*n_r = 0;
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	store__range_open(st, &r, prefix, plen, prefix, plen, NULL);
	for (; rocksdb_iter_valid(r.it); rocksdb_iter_next(r.it)) {
		size_t klen, vlen;
		const uint8_t *k = store__iter_key(r.it, &klen);
		const uint8_t *val = store__iter_val(r.it, &vlen);

		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 8;
			l = rs_xreallocarray(l, cap, sizeof(*l));
		}
		if (klen != STORE_KEYS_MBOX_LEN ||
		    store_rec_mbox_dec(val, vlen, &l[n]) != 0) {
			rc = store__fail(err, RS_EIO, "corrupt mailbox record "
			                 "of account %u/%llu", a.part,
			                 (unsigned long long)a.id);
			break;
		}
		l[n++].id = store_keys_get32(k + plen);
	}
	if (rc == 0)
		rc = store__range_status(&r, err);
	store__range_close(&r);
	if (rc != 0) {
		free(l);
		return rc;
	}
	if (n == 0) {
		/* Creation writes every default mailbox at once, so no
		 * mailbox record means a never-used account. */
		free(l);
		store_mailbox_defaults(list_r, n_r);
		return 0;
	}
	qsort(l, n, sizeof(*l), store_mailbox_cmp);
	*list_r = l;
	*n_r = n;
	return 0;
}

/* A never-used account shows its default mailboxes. */
static int
store_mailbox_default(const char *name, struct store_mailbox *r,
                      struct rs_err *err)
{
	const char *want = store__index_name(name);

	for (size_t i = 0; i < store__ndefaults; i++)
		if (strcmp(want, store__defaults[i].name) == 0) {
			store__default_mbox(i, r);
			return 0;
		}
	return store__fail(err, RS_ENOTFOUND, "no mailbox %s", want);
}

int
store_mailbox_find(struct store *st, struct store_acct a, const char *name,
                   struct store_mailbox *r, struct rs_err *err)
{
	struct store_snap *sn = store__snap_get_part(st, a.part);
	struct store_view v = store__view_db(st, sn->ro);
	struct store_rec_acct s;
	uint32_t id;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = store__mbox_lookup(&v, a, name, &id, err);
	if (rc == 0) {
		rc = store__mbox_load(&v, a, id, r, err);
	} else if (rc == RS_ENOTFOUND) {
		int arc = store__acct_load(&v, a, &s, err);

		if (arc == RS_ENOTFOUND)
			rc = store_mailbox_default(name, r, err);
		else if (arc != 0)
			rc = arc;
		else
			store__fail(err, RS_ENOTFOUND, "no mailbox %s",
			            store__index_name(name));
	}
	store__snap_put(st, sn);
	return rc;
}

void
store_msg_buf_free(struct store_msg_buf *b)
{
	free(b->raw);
	b->raw = NULL;
	b->len = 0;
}

/* The parsed meta of blob hash through v: 0 with *val_r (returns owned,
 * NULL when the body was stored without one), or RS_EIO. */
static int
store_read_meta(const struct store_view *v, uint32_t part,
                const uint8_t hash[STORE_HASH_LEN], uint8_t **val_r,
                size_t *len_r, struct rs_err *err)
{
	uint8_t key[STORE_KEYS_BLOB_LEN];
	int rc;

	rc = store__get(v, key, store_keys_blob_meta(key, part, hash), val_r,
	                len_r, err);
	if (rc == RS_ENOTFOUND) {
		rs_err_clear(err);
		return 0;
	}
	return rc;
}

/* Record and meta from one snapshot, into one allocation: the record's
 * octets, then the meta's. */
static int
store_msg_get_raw(struct store *st, const uint8_t *key, size_t klen,
                  uint32_t part, struct store_msg *m,
                  struct store_msg_buf *buf, struct rs_err *err)
{
	struct store_snap *sn = store__snap_get_part(st, part);
	struct store_view v = store__view_db(st, sn->ro);
	uint8_t *val = NULL, *meta = NULL;
	size_t len = 0, mlen = 0;
	int rc;

	rc = store__get(&v, key, klen, &val, &len, err);
	if (rc == 0 && store_rec_msg_dec(val, len, m) != 0)
		rc = store__fail(err, RS_EIO, "corrupt message record");
	if (rc == 0)
		rc = store_read_meta(&v, part, m->blob, &meta, &mlen, err);
	store__snap_put(st, sn);
	if (rc != 0) {
		free(val);
		return rc;
	}
	buf->raw = rs_xrealloc(val, len + mlen + 1);
	buf->len = len + mlen;
	if (mlen > 0)
		memcpy(buf->raw + len, meta, mlen);
	free(meta);
	/* Decoded again: the keywords point into the new allocation. */
	if (store_rec_msg_dec((const uint8_t *)buf->raw, len, m) != 0)
		return store__fail(err, RS_EIO, "corrupt message record");
	if (mlen > 0) {
		m->meta = (const uint8_t *)buf->raw + len;
		m->meta_len = mlen;
	}
	return 0;
}

int
store_msg_get(struct store *st, struct store_acct a, uint32_t mailbox,
              uint32_t uid, struct store_msg *m, struct store_msg_buf *buf,
              struct rs_err *err)
{
	uint8_t key[STORE_KEYS_MSG_LEN];
	int rc;

	buf->raw = NULL;
	buf->len = 0;
	memset(m, 0, sizeof(*m));
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	rc = store_msg_get_raw(st, key, store_keys_msg(key, a, mailbox, uid),
	                       a.part, m, buf, err);
	if (rc == RS_ENOTFOUND)
		return store__fail(err, rc, "no message %u/%u", mailbox, uid);
	if (rc == RS_EIO)
		return store__fail(err, rc, "corrupt message %u/%u", mailbox,
		                   uid);
	if (rc != 0)
		return rc;
	m->mailbox = mailbox;
	m->uid = uid;
	return 0;
}

/* ---- message iteration ---- */

struct store_msg_iter {
	struct store             *st;
	struct store_snap        *sn;      /* owns a reference; the metas
	                                    * are read at it too */
	struct store_range        r;
	uint32_t                  part;
	uint32_t                  mailbox;
	unsigned                  opts;    /* enum store_iter_opt */
	uint8_t                  *meta;    /* owns; the current message's */
	bool                      started;
	bool                      failed;  /* once -1, always -1 */
};

struct store_msg_iter *
store_msg_iter_open(struct store *st, struct store_acct a, uint32_t mailbox,
                    uint32_t from_uid, unsigned opts)
{
	struct store_msg_iter *it = rs_xcalloc(1, sizeof(*it));
	uint8_t prefix[STORE_KEYS_MSG_LEN], seek[STORE_KEYS_MSG_LEN];
	size_t plen = store_keys_msg_prefix(prefix, a, mailbox);

	it->st = st;
	it->part = a.part;
	it->mailbox = mailbox;
	it->opts = opts;
	/* An explicit snapshot (not only the iterator's implicit one) so
	 * that the view stays fixed however long the caller takes, and the
	 * metas come from the same state as the records. */
	it->sn = store__snap_get_part(st, a.part);
	store__range_open(st, &it->r, prefix, plen, seek,
	                 store_keys_msg(seek, a, mailbox, from_uid), it->sn->snap);
	return it;
}

struct store_msg_iter *
store_msg_iter_new(struct store *st, struct store_acct a, uint32_t mailbox,
                   uint32_t from_uid)
{
	return store_msg_iter_open(st, a, mailbox, from_uid, STORE_ITER_META);
}

static int
store_msg_iter_meta(struct store_msg_iter *it, struct store_msg *m,
                    struct rs_err *err)
{
	struct store_view v = store__view_db(it->st, it->sn->ro);
	size_t len = 0;

	free(it->meta);
	it->meta = NULL;
	if (store_read_meta(&v, it->part, m->blob, &it->meta, &len, err) != 0)
		return -1;
	if (it->meta != NULL) {
		m->meta = it->meta;
		m->meta_len = len;
	}
	return 0;
}

int
store_msg_iter_next(struct store_msg_iter *it, struct store_msg *m,
                    struct rs_err *err)
{
	size_t klen, vlen;
	const uint8_t *k, *val;

	if (it->failed)
		return rs_err_set(err, RS_EIO, "iterator failed earlier");
	if (it->started)
		rocksdb_iter_next(it->r.it);
	it->started = true;
	if (!rocksdb_iter_valid(it->r.it)) {
		if (store__range_status(&it->r, err) == 0)
			return 0;
		it->failed = true;
		return -1;
	}
	k = store__iter_key(it->r.it, &klen);
	val = store__iter_val(it->r.it, &vlen);
	/* Borrowed from the iterator: valid until it moves. */
	if (klen != STORE_KEYS_MSG_LEN ||
	    store_rec_msg_dec(val, vlen, m) != 0) {
		it->failed = true;
		return rs_err_set(err, RS_EIO, "corrupt message record in "
		                  "mailbox %u", it->mailbox);
	}
	m->mailbox = it->mailbox;
	m->uid = store_keys_get32(k + it->r.plen);
	if ((it->opts & STORE_ITER_META) != 0 &&
	    store_msg_iter_meta(it, m, err) != 0) {
		it->failed = true;
		return -1;
	}
	return 1;
}

void
store_msg_iter_free(struct store_msg_iter **pp)
{
	struct store_msg_iter *it = *pp;

	if (it == NULL)
		return;
	*pp = NULL;
	store__range_close(&it->r);
	store__snap_put(it->st, it->sn);
	free(it->meta);
	free(it);
}
