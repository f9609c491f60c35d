/* store_blob.c: message bodies as content-addressed blobs, one copy per
 * partition however many messages share them. A blob is a meta record
 * {refcount, size}, its data in STORE_KEYS_CHUNK pieces, so bodies are
 * written and read piecewise, and the parsed meta of the body (opaque,
 * optional). Reference counting runs on the writer thread;
 * store_blob_read and store_msg_meta on any thread. */
#include "storage/store_int.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_keys.h"

int
store__blob_hash(const uint8_t *data, size_t len,
                 uint8_t hash[STORE_HASH_LEN], struct rs_err *err)
{
	unsigned int hlen = 0;
	static const uint8_t empty[1];

	if (EVP_Digest(len > 0 ? data : empty, len, hash, &hlen, EVP_sha256(),
	               NULL) != 1 || hlen != STORE_HASH_LEN)
		return rs_err_set(err, RS_EIO, "sha256 failed");
	return 0;
}

static uint64_t
store_blob_nchunks(uint64_t size)
{
	return (size + STORE_KEYS_CHUNK - 1) / STORE_KEYS_CHUNK;
}

/* 0, RS_ENOTFOUND or RS_EIO. */
static int
store_blob_meta(const struct store_view *v, uint32_t part,
                const uint8_t hash[STORE_HASH_LEN], struct store_rec_blob *r,
                struct rs_err *err)
{
	uint8_t key[STORE_KEYS_BLOB_LEN];
	uint8_t *val;
	size_t len;
	int rc;

	rc = store__get(v, key, store_keys_blob(key, part, hash), &val, &len,
	                err);
	if (rc == RS_ENOTFOUND)
		return store__fail(err, rc, "blob gone");
	if (rc != 0)
		return rc;
	rc = store_rec_blob_dec(val, len, r);
	free(val);
	/* Chunk numbers are 32 bits: a larger size can only be damage. */
	if (rc != 0 || store_blob_nchunks(r->size) > UINT32_MAX)
		return store__fail(err, RS_EIO, "corrupt blob meta in "
		                   "partition %u", part);
	return 0;
}

static void
store_blob_meta_put(struct store_txn *t, uint32_t part,
                    const uint8_t hash[STORE_HASH_LEN],
                    const struct store_rec_blob *r)
{
	uint8_t key[STORE_KEYS_BLOB_LEN], val[STORE_REC_BLOB_MAX];

	store__put(t, key, store_keys_blob(key, part, hash), val,
	           store_rec_blob_enc(val, r));
}

int
store__blob_ref(struct store_txn *t, uint32_t part,
                const uint8_t hash[STORE_HASH_LEN], uint64_t copies,
                const uint8_t *data, size_t len, bool *created_r,
                struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	struct store_rec_blob r = { 0, 0 };
	int rc;

	*created_r = false;
	rc = store_blob_meta(&v, part, hash, &r, err);
	if (rc == 0) {
		/* Same hash, other size: not the same octets after all. */
		if (r.size != len)
			return store__fail(err, RS_EIO, "blob size mismatch in "
			                   "partition %u", part);
		r.refs += copies;
		store_blob_meta_put(t, part, hash, &r);
		return 0;
	}
	if (rc != RS_ENOTFOUND)
		return rc;
	for (uint64_t i = 0; i < store_blob_nchunks(len); i++) {
		uint8_t key[STORE_KEYS_CHUNK_LEN];
		size_t off = (size_t)i * STORE_KEYS_CHUNK;
		size_t n = len - off < STORE_KEYS_CHUNK ? len - off
		                                         : STORE_KEYS_CHUNK;

		size_t klen = store_keys_chunk(key, part, hash, (uint32_t)i);

		store__put(t, key, klen, data + off, n);
	}
	r.refs = copies;
	r.size = len;
	store_blob_meta_put(t, part, hash, &r);
	*created_r = true;
	return 0;
}

int
store__blob_addref(struct store_txn *t, uint32_t part,
                   const uint8_t hash[STORE_HASH_LEN], struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	struct store_rec_blob r = { 0, 0 };
	int rc;

	rc = store_blob_meta(&v, part, hash, &r, err);
	if (rc == RS_ENOTFOUND)
		return store__fail(err, RS_EIO, "blob of a message is gone in "
		                   "partition %u", part);
	if (rc != 0)
		return rc;
	r.refs++;
	store_blob_meta_put(t, part, hash, &r);
	return 0;
}

int
store__blob_unref(struct store_txn *t, uint32_t part,
                  const uint8_t hash[STORE_HASH_LEN], struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	struct store_rec_blob r = { 0, 0 };
	uint8_t key[STORE_KEYS_CHUNK_LEN];
	int rc;

	rc = store_blob_meta(&v, part, hash, &r, err);
	if (rc == RS_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (r.refs > 1) {
		r.refs--;
		store_blob_meta_put(t, part, hash, &r);
		return 0;
	}
	store__del(t, key, store_keys_blob(key, part, hash));
	store__del(t, key, store_keys_blob_meta(key, part, hash));
	for (uint64_t i = 0; i < store_blob_nchunks(r.size); i++)
		store__del(t, key, store_keys_chunk(key, part, hash,
		                                    (uint32_t)i));
	return 0;
}

int
store__blob_meta_put(struct store_txn *t, uint32_t part,
                     const uint8_t hash[STORE_HASH_LEN], const uint8_t *meta,
                     size_t len, bool created, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	uint8_t key[STORE_KEYS_BLOB_LEN];
	size_t klen = store_keys_blob_meta(key, part, hash);
	int rc = 0;

	if (len == 0)
		return 0;
	/* The first parse of these octets stays: a later one describes
	 * the same octets. */
	if (!created)
		rc = store__exists(&v, key, klen, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		store__put(t, key, klen, meta, len);
	return 0;
}

int
store_msg_meta(struct store *st, uint32_t part,
               const uint8_t hash[STORE_HASH_LEN], struct rs_buf *meta,
               struct rs_err *err)
{
	uint8_t key[STORE_KEYS_BLOB_LEN];
	int rc;

	rc = store_raw_get(st, key, store_keys_blob_meta(key, part, hash), meta,
	                   err);
	if (rc == RS_ENOTFOUND) {
		rs_err_clear(err);
		return 0;               /* stored without meta */
	}
	return rc;
}

/* Copies the part of chunk i that [pos, pos + want) covers into out. */
static int
store_blob_copy(const struct store_view *v, uint32_t part,
                const uint8_t hash[STORE_HASH_LEN], uint64_t size,
                uint64_t pos, uint8_t *out, size_t want, size_t *n_r,
                struct rs_err *err)
{
	uint64_t i = pos / STORE_KEYS_CHUNK, start = i * STORE_KEYS_CHUNK;
	uint64_t expect = size - start < STORE_KEYS_CHUNK ? size - start
	                                                  : STORE_KEYS_CHUNK;
	uint8_t key[STORE_KEYS_CHUNK_LEN];
	rocksdb_pinnableslice_t *ps;
	const char *p;
	char *e = NULL;
	size_t len = 0, off = (size_t)(pos - start), n;

	ps = rocksdb_get_pinned(v->st->db, v->ro, (const char *)key,
	                        store_keys_chunk(key, part, hash, (uint32_t)i),
	                        &e);
	if (e != NULL) {
		store__fail(err, RS_EIO, "blob read: %s", e);
		free(e);
		rocksdb_pinnableslice_destroy(ps);
		return RS_EIO;
	}
	if (ps == NULL)
		return store__fail(err, RS_EIO, "blob chunk %llu missing in "
		                   "partition %u", (unsigned long long)i, part);
	p = rocksdb_pinnableslice_value(ps, &len);
	if (len != expect) {
		rocksdb_pinnableslice_destroy(ps);
		return store__fail(err, RS_EIO, "blob chunk %llu has %zu "
		                   "octets in partition %u",
		                   (unsigned long long)i, len, part);
	}
	n = len - off < want ? len - off : want;
	memcpy(out, p + off, n);
	rocksdb_pinnableslice_destroy(ps);
	*n_r = n;
	return 0;
}

int
store_blob_read(struct store *st, uint32_t part,
                const uint8_t hash[STORE_HASH_LEN], uint64_t offset,
                void *buf, size_t len, size_t *got_r, struct rs_err *err)
{
	/* One snapshot: the meta and every chunk come from the same state,
	 * even if the last reference goes meanwhile. */
	struct store_snap *sn = store__snap_get_part(st, part);
	struct store_view v = store__view_db(st, sn->ro);
	struct store_rec_blob r = { 0, 0 };
	size_t got = 0, want = 0;
	int rc;

	*got_r = 0;
	rc = store_blob_meta(&v, part, hash, &r, err);
	if (rc == 0 && offset < r.size)
		want = r.size - offset < len ? (size_t)(r.size - offset) : len;
	while (rc == 0 && got < want) {
		size_t n = 0;

		rc = store_blob_copy(&v, part, hash, r.size, offset + got,
		                     (uint8_t *)buf + got, want - got, &n, err);
		got += n;
	}
	store__snap_put(st, sn);
	if (rc != 0)
		return rc;
	*got_r = got;
	return 0;
}
