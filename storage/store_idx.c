/* store_idx.c: the compact mailbox index. SELECT needs (uid, flags,
 * modseq) of every message; reading them from the message records costs
 * one RocksDB iterator step per message (~150 ns, and the records'
 * blocks when cold), so a 100,000-message mailbox took 15 ms warm and
 * 60-90 ms cold. The index packs STORE_IDX_CHUNK entries per key: the
 * same SELECT reads ~1,600 small values.
 *
 * Every change to a message record goes through store__idx_set/_del;
 * inside an operation the touched chunks are kept decoded in the txn and
 * written once when the operation succeeds (store__idx_flush), or dropped
 * with its rollback (store__idx_discard). A later operation of the same
 * group reads the chunk back from the batch.
 *
 * Value: STORE_REC_V1, then per message uid(4) flags(4) modseq(8), big
 * endian, in ascending UID order, all with uid / STORE_IDX_CHUNK equal to
 * the key's chunk number. An empty chunk has no key. */
#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "storage/store_int.h"

#define STORE_IDX_ENTRY 16
#define STORE_IDX_VAL_MAX (1 + STORE_IDX_CHUNK * STORE_IDX_ENTRY)

/* The marker in the node-local range that says the index exists for
 * every message (written by store__idx_upgrade). */
const uint8_t store__idx_marker[STORE_IDX_MARKER_LEN] = {
	0xff, 0xff, 0xff, 0xff, 's', 't', 'o', 'r', 'e', '.', 'i', 'd', 'x',
};

static size_t
store_idx_val_enc(uint8_t *out, const struct store_index_entry *e, size_t n)
{
	uint8_t *o = out;

	*o++ = STORE_REC_V1;
	for (size_t i = 0; i < n; i++, o += STORE_IDX_ENTRY) {
		store_keys_put32(o, e[i].uid);
		store_keys_put32(o + 4, e[i].flags);
		store_keys_put64(o + 8, e[i].modseq);
	}
	return (size_t)(o - out);
}

int
store__idx_val_dec(const uint8_t *val, size_t vlen, uint32_t chunk,
                   struct store_index_entry *e, size_t *n_r)
{
	size_t n;
	uint32_t prev = 0;

	*n_r = 0;
	if (vlen < 1 || val[0] != STORE_REC_V1 ||
	    (vlen - 1) % STORE_IDX_ENTRY != 0)
		return -1;
	n = (vlen - 1) / STORE_IDX_ENTRY;
	if (n == 0 || n > STORE_IDX_CHUNK)
		return -1;
	val++;
	for (size_t i = 0; i < n; i++, val += STORE_IDX_ENTRY) {
		e[i].uid = store_keys_get32(val);
		e[i].flags = store_keys_get32(val + 4);
		e[i].modseq = store_keys_get64(val + 8);
		if (e[i].uid / STORE_IDX_CHUNK != chunk ||
		    (i > 0 && e[i].uid <= prev) ||
		    (e[i].flags & ~STORE_REC_FLAGS_ALL) != 0)
			return -1;
		prev = e[i].uid;
	}
	*n_r = n;
	return 0;
}

/* The chunk holding (a, mbox, uid), decoded, from the txn's working set
 * or loaded into it; NULL when the load failed (remembered in t). */
static struct store_idx_chunk *
store_idx_chunk(struct store_txn *t, struct store_acct a, uint32_t mbox,
                uint32_t uid)
{
	uint32_t chunk = uid / STORE_IDX_CHUNK;
	struct store_view v = store__view_txn(t);
	struct store_idx_chunk *c;
	uint8_t key[STORE_KEYS_IDX_LEN], *val = NULL;
	size_t len = 0, n = 0;
	int rc;

	/* Most operations walk UIDs in order: the last chunk first. */
	for (size_t i = t->nidx; i-- > 0;) {
		c = &t->idx[i];
		if (c->chunk == chunk && c->mbox == mbox &&
		    c->a.id == a.id && c->a.part == a.part)
			return c;
	}
	if (t->idx_failed)
		return NULL;
	if (t->nidx == t->idxcap) {
		t->idxcap = t->idxcap == 0 ? 8 : t->idxcap * 2;
		t->idx = rs_xreallocarray(t->idx, t->idxcap, sizeof(*t->idx));
	}
	c = &t->idx[t->nidx];
	c->a = a;
	c->mbox = mbox;
	c->chunk = chunk;
	rc = store__get(&v, key, store_keys_idx(key, a, mbox, chunk), &val,
	                &len, NULL);
	if (rc == 0 && store__idx_val_dec(val, len, chunk, c->e, &n) != 0)
		rc = RS_EIO;
	free(val);
	if (rc != 0 && rc != RS_ENOTFOUND) {
		t->idx_failed = true;
		return NULL;
	}
	c->n = (uint32_t)n;
	t->nidx++;
	return c;
}

/* Index of the first entry with uid >= want. */
static size_t
store_idx_find(const struct store_idx_chunk *c, uint32_t want)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->e[mid].uid < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
store__idx_set(struct store_txn *t, struct store_acct a,
               const struct store_msg *m)
{
	struct store_idx_chunk *c = store_idx_chunk(t, a, m->mailbox, m->uid);
	size_t i;

	if (c == NULL)
		return;
	i = store_idx_find(c, m->uid);
	if (i == c->n || c->e[i].uid != m->uid) {
		/* A chunk holds one UID range: never more than it spans. */
		memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof(c->e[0]));
		c->n++;
	}
	c->e[i].uid = m->uid;
	c->e[i].flags = m->flags;
	c->e[i].modseq = m->modseq;
}

void
store__idx_del(struct store_txn *t, struct store_acct a, uint32_t mbox,
               uint32_t uid)
{
	struct store_idx_chunk *c = store_idx_chunk(t, a, mbox, uid);
	size_t i;

	if (c == NULL)
		return;
	i = store_idx_find(c, uid);
	if (i == c->n || c->e[i].uid != uid)
		return;
	memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof(c->e[0]));
	c->n--;
}

void
store__idx_discard(struct store_txn *t)
{
	t->nidx = 0;
	t->idx_failed = false;
}

int
store__idx_flush(struct store_txn *t, struct rs_err *err)
{
	uint8_t key[STORE_KEYS_IDX_LEN], val[STORE_IDX_VAL_MAX];

	if (t->idx_failed) {
		store__idx_discard(t);
		return store__fail(err, RS_EIO, "mailbox index unreadable");
	}
	for (size_t i = 0; i < t->nidx; i++) {
		const struct store_idx_chunk *c = &t->idx[i];
		size_t klen = store_keys_idx(key, c->a, c->mbox, c->chunk);

		if (c->n == 0)
			store__del(t, key, klen);
		else
			store__put(t, key, klen, val,
			           store_idx_val_enc(val, c->e, c->n));
	}
	store__idx_discard(t);
	return 0;
}

/* ---- building the index of a store written before it existed ---- */

struct store_idx_build {
	struct store          *st;
	rocksdb_writebatch_t  *wb;
	struct store_idx_chunk cur;   /* the chunk being filled */
	bool                   have;
	uint64_t               messages;
};

static int
store_idx_build_write(struct store_idx_build *b, bool last, char **e)
{
	uint8_t key[STORE_KEYS_IDX_LEN], val[STORE_IDX_VAL_MAX];

	if (b->have) {
		rocksdb_writebatch_put(
		    b->wb, (const char *)key,
		    store_keys_idx(key, b->cur.a, b->cur.mbox, b->cur.chunk),
		    (const char *)val,
		    store_idx_val_enc(val, b->cur.e, b->cur.n));
		b->have = false;
	}
	if (!last && rocksdb_writebatch_count(b->wb) < 4096)
		return 0;
	if (last)
		rocksdb_writebatch_put(b->wb, (const char *)store__idx_marker,
		                       sizeof(store__idx_marker), "1", 1);
	rocksdb_write(b->st->db, b->st->wopts, b->wb, e);
	rocksdb_writebatch_clear(b->wb);
	return *e == NULL ? 0 : -1;
}

/* One message record (key P 'a' acct 'M' mbox uid) into the build. */
static int
store_idx_build_add(struct store_idx_build *b, const uint8_t *k,
                    const uint8_t *val, size_t vlen, char **e)
{
	struct store_acct a = { store_keys_get32(k),
		                store_keys_get64(k + 5) };
	uint32_t mbox = store_keys_get32(k + STORE_KEYS_ACCT_LEN);
	uint32_t uid = store_keys_get32(k + STORE_KEYS_ACCT_LEN + 4);
	struct store_index_entry *x;

	if (b->have && (b->cur.a.part != a.part || b->cur.a.id != a.id ||
	                b->cur.mbox != mbox ||
	                b->cur.chunk != uid / STORE_IDX_CHUNK) &&
	    store_idx_build_write(b, false, e) != 0)
		return -1;
	if (!b->have) {
		b->cur.a = a;
		b->cur.mbox = mbox;
		b->cur.chunk = uid / STORE_IDX_CHUNK;
		b->cur.n = 0;
		b->have = true;
	}
	x = &b->cur.e[b->cur.n];
	/* A damaged record is indexed as unflagged: it answers EIO when
	 * fetched, as it did before the index existed. */
	if (store_rec_msg_head_dec(val, vlen, &x->modseq, &x->flags) != 0) {
		x->modseq = 0;
		x->flags = 0;
	}
	x->uid = uid;
	b->cur.n++;
	b->messages++;
	return 0;
}

int
store__idx_upgrade(struct store *st, struct rs_err *err)
{
	struct store_idx_build b = { .st = st };
	rocksdb_iterator_t *it;
	uint8_t seek[5] = { 0, 0, 0, 0, 'a' };
	char *e = NULL, *have;
	size_t len = 0;
	int rc = 0;

	have = rocksdb_get(st->db, st->ropts, (const char *)store__idx_marker,
	                   sizeof(store__idx_marker), &len, &e);
	if (e != NULL) {
		rs_err_set(err, RS_EIO, "store: index marker: %s", e);
		free(e);
		return -1;
	}
	if (have != NULL) {
		free(have);
		return 0;
	}
	/* Every partition's account range, in key order: records of one
	 * chunk are adjacent. Blob ranges are skipped with a seek. */
	b.wb = rocksdb_writebatch_create();
	it = rocksdb_create_iterator(st->db, st->ropts);
	rocksdb_iter_seek(it, (const char *)seek, 5);
	while (rc == 0 && rocksdb_iter_valid(it)) {
		size_t klen, vlen;
		const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &klen);
		uint32_t part;

		if (klen < 5 || (part = store_keys_get32(k)) > STORE_PART_MAX)
			break;
		if (k[4] != 'a') {
			/* Before this partition's accounts: seek to them;
			 * past them: to the next partition's. */
			if (k[4] > 'a' && part == STORE_PART_MAX)
				break;
			store_keys_put32(seek, k[4] > 'a' ? part + 1 : part);
			rocksdb_iter_seek(it, (const char *)seek, 5);
			continue;
		}
		if (klen == STORE_KEYS_MSG_LEN &&
		    k[STORE_KEYS_ACCT_LEN - 1] == STORE_KEYS_MSG) {
			const uint8_t *v = (const uint8_t *)rocksdb_iter_value(
			    it, &vlen);

			rc = store_idx_build_add(&b, k, v, vlen, &e);
		}
		if (rc == 0)
			rocksdb_iter_next(it);
	}
	/* Every failure left its message in e. */
	if (rc == 0) {
		rocksdb_iter_get_error(it, &e);
		if (e == NULL)
			(void)store_idx_build_write(&b, true, &e);
	}
	rocksdb_iter_destroy(it);
	rocksdb_writebatch_destroy(b.wb);
	if (e != NULL) {
		rs_err_set(err, RS_EIO, "store: building the mailbox index: %s",
		           e);
		free(e);
		return -1;
	}
	if (b.messages > 0)
		rs_log(RS_LOG_INFO, "store.index_built", "messages=%llu",
		       (unsigned long long)b.messages);
	return 0;
}
