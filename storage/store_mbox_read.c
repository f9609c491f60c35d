/* store_mbox_read.c: the synchronous reads of store_mailbox.h: the
 * subscriptions (LSUB, LIST (SUBSCRIBED)), a mailbox's keyword set
 * (FLAGS, PERMANENTFLAGS) and the compact mailbox index behind SELECT.
 * Each reads one snapshot. The change-log reads are in store_changes.c. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

/* Names gathered into one allocation: the pointers, then the strings. */
struct store_names {
	struct rs_buf pool;           /* NUL-ended names, back to back */
	size_t        n;
};

static void
store_names_add(struct store_names *b, const void *p, size_t len)
{
	static const uint8_t nul;

	/* The pool is unlimited: appends cannot fail. */
	(void)!rs_buf_append(&b->pool, p, len);
	(void)!rs_buf_append(&b->pool, &nul, 1);
	b->n++;
}

static void
store_names_give(struct store_names *b, char ***names_r, size_t *n_r)
{
	size_t ptrs = (b->n > 0 ? b->n : 1) * sizeof(char *);
	char **v = rs_xmalloc(ptrs + b->pool.len + 1);
	char *s = (char *)v + ptrs;

	if (b->pool.len > 0)
		memcpy(s, b->pool.data, b->pool.len);
	for (size_t i = 0; i < b->n; i++) {
		v[i] = s;
		s += strlen(s) + 1;
	}
	rs_buf_free(&b->pool);
	*names_r = v;
	*n_r = b->n;
}

/* Reads the keys (with_val false: the key after plen octets) or values
 * of [prefix...) at snap into b. */
static int
store_names_scan(struct store *st, const uint8_t *prefix, size_t plen,
                 const rocksdb_snapshot_t *snap, bool with_val,
                 struct store_names *b, struct rs_err *err)
{
	struct store_range r;
	int rc;

	store__range_open(st, &r, prefix, plen, prefix, plen, snap);
	for (; rocksdb_iter_valid(r.it); rocksdb_iter_next(r.it)) {
		size_t klen, vlen;
		const uint8_t *k = store__iter_key(r.it, &klen);
		const uint8_t *v = store__iter_val(r.it, &vlen);

		if (with_val)
			store_names_add(b, v, vlen);
		else
			store_names_add(b, k + plen, klen - plen);
	}
	rc = store__range_status(&r, err);
	store__range_close(&r);
	return rc;
}

/* A never-used account: its defaults, as creation will subscribe them,
 * in octet order. */
static void
store_names_defaults(struct store_names *b)
{
	const char *v[16] = { NULL };
	size_t n = 0;

	/* Insertion into name order: there are six. */
	for (size_t i = 0; i < store__ndefaults && n < 16; i++) {
		size_t j = n++;

		for (; j > 0 && strcmp(v[j - 1], store__defaults[i].name) > 0;
		     j--)
			v[j] = v[j - 1];
		v[j] = store__defaults[i].name;
	}
	for (size_t i = 0; i < n; i++)
		store_names_add(b, v[i], strlen(v[i]));
}

int
store_mailbox_subscriptions(struct store *st, struct store_acct a,
                            char ***names_r, size_t *n_r, struct rs_err *err)
{
	struct store_snap *sn;
	struct store_view v;
	struct store_rec_acct acct;
	struct store_names b = { .n = 0 };
	uint8_t prefix[STORE_KEYS_ACCT_LEN];
	int rc;

	*names_r = NULL;
	*n_r = 0;
	rs_buf_init(&b.pool, RS_BUF_UNLIMITED);
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	sn = store__snap_get_part(st, a.part);
	v = store__view_db(st, sn->ro);
	rc = store__acct_load(&v, a, &acct, err);
	if (rc == RS_ENOTFOUND) {
		store_names_defaults(&b);
		rc = 0;
	} else if (rc == 0) {
		rc = store_names_scan(st, prefix,
		                      store_keys_acct_tag(prefix, a,
		                                          STORE_KEYS_SUBSCR),
		                      sn->snap, false, &b, err);
	}
	store__snap_put(st, sn);
	if (rc != 0) {
		rs_buf_free(&b.pool);
		return rc;
	}
	store_names_give(&b, names_r, n_r);
	return 0;
}

int
store_mailbox_keywords(struct store *st, struct store_acct a, uint32_t mailbox,
                       char ***kw_r, size_t *n_r, struct rs_err *err)
{
	struct store_names b = { .n = 0 };
	uint8_t prefix[STORE_KEYS_MBOX_LEN];
	int rc;

	*kw_r = NULL;
	*n_r = 0;
	rs_buf_init(&b.pool, RS_BUF_UNLIMITED);
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	/* Keys hold the lower-case form, so key order is the
	 * case-insensitive order; values hold the first spelling. */
	rc = store_names_scan(st, prefix,
	                      store_keys_mbox_tag(prefix, a,
	                                          STORE_KEYS_KEYWORD, mailbox),
	                      NULL, true, &b, err);
	if (rc != 0) {
		rs_buf_free(&b.pool);
		return rc;
	}
	store_names_give(&b, kw_r, n_r);
	return 0;
}

/* ---- the mailbox index ---- */

void
store_index_free(struct store_index *r)
{
	if (r == NULL)
		return;
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* The mailbox record at snap, or a default mailbox of a never-used
 * account. 0, RS_ENOTFOUND or RS_EIO. */
static int
store_index_mbox(struct store *st, const rocksdb_readoptions_t *ro,
                 struct store_acct a, uint32_t mailbox,
                 struct store_mailbox *mb, struct rs_err *err)
{
	struct store_view v = store__view_db(st, ro);
	struct store_rec_acct acct;
	int rc;

	rc = store__mbox_load(&v, a, mailbox, mb, err);
	if (rc != RS_ENOTFOUND)
		return rc;
	if (store__acct_load(&v, a, &acct, err) != RS_ENOTFOUND ||
	    mailbox == 0 || mailbox > store__ndefaults)
		return store__fail(err, RS_ENOTFOUND, "no mailbox %u", mailbox);
	store__default_mbox(mailbox - 1, mb);
	return 0;
}

int
store_mailbox_get(struct store *st, struct store_acct a, uint32_t mailbox,
                  struct store_mailbox *r, struct rs_err *err)
{
	memset(r, 0, sizeof(*r));
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	return store_index_mbox(st, NULL, a, mailbox, r, err);
}

/* One pass over the mailbox's index chunks (store_idx.c): a few thousand
 * small values for 100,000 messages, not one record per message. */
static int
store_index_scan(struct store *st, struct store_acct a, uint32_t mailbox,
                 uint64_t changedsince, const rocksdb_snapshot_t *snap,
                 struct store_index *r, size_t cap, struct rs_err *err)
{
	uint8_t prefix[STORE_KEYS_MBOX_LEN];
	size_t plen = store_keys_mbox_tag(prefix, a, STORE_KEYS_IDX, mailbox);
	struct store_index_entry chunk[STORE_IDX_CHUNK];
	struct store_range rg;
	int rc = 0;

	r->v = rs_xreallocarray(NULL, cap, sizeof(*r->v));
	store__range_open(st, &rg, prefix, plen, prefix, plen, snap);
	for (; rocksdb_iter_valid(rg.it); rocksdb_iter_next(rg.it)) {
		size_t klen, vlen, n;
		const uint8_t *k = store__iter_key(rg.it, &klen);
		const uint8_t *val = store__iter_val(rg.it, &vlen);

		if (klen != STORE_KEYS_IDX_LEN ||
		    store__idx_val_dec(val, vlen, store_keys_get32(k + plen),
		                       chunk, &n) != 0) {
			rc = store__fail(err, RS_EIO, "corrupt index of "
			                 "mailbox %u", mailbox);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (changedsince > 0 && chunk[i].modseq <= changedsince)
				continue;
			if (r->n == cap) {
				cap *= 2;
				r->v = rs_xreallocarray(r->v, cap,
				                        sizeof(*r->v));
			}
			r->v[r->n++] = chunk[i];
		}
	}
	if (rc == 0)
		rc = store__range_status(&rg, err);
	store__range_close(&rg);
	return rc;
}

int
store_mailbox_index(struct store *st, struct store_acct a, uint32_t mailbox,
                    uint64_t changedsince, struct store_index *r,
                    struct rs_err *err)
{
	struct store_snap *sn;
	int rc;

	memset(r, 0, sizeof(*r));
	if (a.part > STORE_PART_MAX)
		return store__fail(err, RS_EINVAL, "not an account partition");
	/* Record and messages from one state: uidnext is above every UID
	 * listed and highestmodseq covers every modseq. */
	sn = store__snap_get_part(st, a.part);
	rc = store_index_mbox(st, sn->ro, a, mailbox, &r->mb, err);
	if (rc == 0)
		rc = store_index_scan(st, a, mailbox, changedsince, sn->snap, r,
		                      changedsince > 0 || r->mb.messages == 0
		                          ? 64
		                          : (size_t)r->mb.messages + 16,
		                      err);
	store__snap_put(st, sn);
	return rc;
}
