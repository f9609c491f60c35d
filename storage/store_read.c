/* store_read.c: the synchronous reads of store.h (accounts, mailboxes,
 * messages, the change log), callable from any thread. Multi-key reads
 * go through one iterator or snapshot so they see one committed state;
 * nothing is cached here. Blob reads are in store_blob.c. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"

/* An iterator over [prefix, prefix_end) of one implicit snapshot. The
 * bound lives in the struct because RocksDB keeps a pointer to it. */
struct store_range {
	rocksdb_readoptions_t *ro;    /* owns */
	rocksdb_iterator_t    *it;    /* owns */
	uint8_t                end[STORE_KEYS_MAX];
	size_t                 plen;
};

static void
store_range_open(struct store *st, struct store_range *r,
                 const uint8_t *prefix, size_t plen, const uint8_t *seek,
                 size_t slen, const rocksdb_snapshot_t *snap)
{
	size_t elen = store_keys_prefix_end(prefix, plen, r->end);

	r->ro = rocksdb_readoptions_create();
	r->plen = plen;
	if (snap != NULL)
		rocksdb_readoptions_set_snapshot(r->ro, snap);
	/* Every prefix here holds a tag letter after the partition, so
	 * it is never all 0xff and elen > 0. */
	rocksdb_readoptions_set_iterate_upper_bound(r->ro, (char *)r->end,
	                                            elen);
	r->it = rocksdb_create_iterator(st->db, r->ro);
	rocksdb_iter_seek(r->it, (const char *)seek, slen);
}

static void
store_range_close(struct store_range *r)
{
	if (r->it != NULL)
		rocksdb_iter_destroy(r->it);
	if (r->ro != NULL)
		rocksdb_readoptions_destroy(r->ro);
	r->it = NULL;
	r->ro = NULL;
}

/* 0 at the end of the range, or RS_EIO if the iterator failed. */
static int
store_range_status(struct store_range *r, struct rs_err *err)
{
	char *e = NULL;

	rocksdb_iter_get_error(r->it, &e);
	if (e == NULL)
		return 0;
	store__fail(err, RS_EIO, "store scan: %s", e);
	free(e);
	return RS_EIO;
}

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
	store_range_open(st, &r, prefix, plen, prefix, plen, NULL);
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
		rc = store_range_status(&r, err);
	store_range_close(&r);
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
	const rocksdb_snapshot_t *snap = rocksdb_create_snapshot(st->db);
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	struct store_view v = store__view_db(st, ro);
	struct store_rec_acct s;
	uint32_t id;
	int rc;

	memset(r, 0, sizeof(*r));
	rocksdb_readoptions_set_snapshot(ro, snap);
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
	rocksdb_readoptions_destroy(ro);
	rocksdb_release_snapshot(st->db, snap);
	return rc;
}

void
store_msg_buf_free(struct store_msg_buf *b)
{
	free(b->raw);
	b->raw = NULL;
	b->len = 0;
}

int
store_msg_get(struct store *st, struct store_acct a, uint32_t mailbox,
              uint32_t uid, struct store_msg *m, struct store_msg_buf *buf,
              struct rs_err *err)
{
	struct store_view v = store__view_db(st, NULL);
	uint8_t key[STORE_KEYS_MSG_LEN], *val;
	size_t len;
	int rc;

	buf->raw = NULL;
	buf->len = 0;
	memset(m, 0, sizeof(*m));
	rc = store__get(&v, key, store_keys_msg(key, a, mailbox, uid), &val,
	                &len, err);
	if (rc == RS_ENOTFOUND)
		return store__fail(err, rc, "no message %u/%u", mailbox, uid);
	if (rc != 0)
		return rc;
	buf->raw = (char *)val;
	buf->len = len;
	if (store_rec_msg_dec(val, len, m) != 0)
		return store__fail(err, RS_EIO, "corrupt message %u/%u",
		                   mailbox, uid);
	m->mailbox = mailbox;
	m->uid = uid;
	return 0;
}

/* ---- message iteration ---- */

struct store_msg_iter {
	struct store             *st;
	const rocksdb_snapshot_t *snap;    /* owns */
	struct store_range        r;
	uint32_t                  mailbox;
	bool                      started;
	bool                      failed;  /* once -1, always -1 */
};

struct store_msg_iter *
store_msg_iter_new(struct store *st, struct store_acct a, uint32_t mailbox,
                   uint32_t from_uid)
{
	struct store_msg_iter *it = rs_xcalloc(1, sizeof(*it));
	uint8_t prefix[STORE_KEYS_MSG_LEN], seek[STORE_KEYS_MSG_LEN];
	size_t plen = store_keys_msg_prefix(prefix, a, mailbox);

	it->st = st;
	it->mailbox = mailbox;
	/* An explicit snapshot (not only the iterator's implicit one) so
	 * that the view stays fixed however long the caller takes. */
	it->snap = rocksdb_create_snapshot(st->db);
	store_range_open(st, &it->r, prefix, plen, seek,
	                 store_keys_msg(seek, a, mailbox, from_uid), it->snap);
	return it;
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
		if (store_range_status(&it->r, err) == 0)
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
	return 1;
}

void
store_msg_iter_free(struct store_msg_iter **pp)
{
	struct store_msg_iter *it = *pp;

	if (it == NULL)
		return;
	*pp = NULL;
	store_range_close(&it->r);
	rocksdb_release_snapshot(it->st->db, it->snap);
	free(it);
}

int
store_changes_since(struct store *st, struct store_acct a, uint64_t since,
                    struct store_change *out, size_t max, size_t *n_r,
                    struct rs_err *err)
{
	uint8_t prefix[STORE_KEYS_ACCT_LEN], seek[STORE_KEYS_CHANGE_LEN];
	size_t plen = store_keys_acct_tag(prefix, a, STORE_KEYS_CHANGE);
	struct store_range r;
	size_t n = 0;
	int rc = 0;

	*n_r = 0;
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	if (since == UINT64_MAX || max == 0)
		return 0;
	store_range_open(st, &r, prefix, plen, seek,
	                 store_keys_change(seek, a, since + 1), NULL);
	for (; n < max && rocksdb_iter_valid(r.it); rocksdb_iter_next(r.it)) {
		size_t klen, vlen;
		const uint8_t *k = store__iter_key(r.it, &klen);
		const uint8_t *val = store__iter_val(r.it, &vlen);

		if (klen != STORE_KEYS_CHANGE_LEN ||
		    store_rec_change_dec(val, vlen, &out[n]) != 0) {
			rc = store__fail(err, RS_EIO, "corrupt change record "
			                 "of account %u/%llu", a.part,
			                 (unsigned long long)a.id);
			break;
		}
		out[n++].modseq = store_keys_get64(k + plen);
	}
	if (rc == 0 && n < max)
		rc = store_range_status(&r, err);
	store_range_close(&r);
	if (rc != 0)
		return rc;
	*n_r = n;
	return 0;
}
