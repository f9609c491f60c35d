/* store_digest.c: a digest of one partition, to tell whether two of its
 * replicas hold the same data (the admin API's partition digest, the
 * fault-injection tests). Every key and value of the partition is hashed
 * from one snapshot of the durable state, its position included: in-sync
 * replicas at the same LSN hold the same bytes, since a follower writes
 * the primary's batches as they are (UIDs, UIDVALIDITY and idempotency
 * keys were given out once, on the primary). */
#include "storage/store_repl_int.h"

#include <openssl/evp.h>
#include <string.h>

int
store_repl_digest(struct store *st, uint32_t part,
                  struct store_digest *d_r, struct rs_err *err)
{
	EVP_MD_CTX *md;
	struct store_snap *sn;
	struct store_range r;
	uint8_t prefix[4];
	unsigned int hlen = 0;
	int rc = 0;

	memset(d_r, 0, sizeof(*d_r));
	if (part > STORE_PART_MAX)
		return rs_err_set(err, RS_EINVAL, "partition %u out of range",
		                  part);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return rs_err_set(err, RS_EIO, "sha256 failed");
	}
	sn = store__snap_get(st);
	store_keys_put32(prefix, part);
	store__range_open(st, &r, prefix, sizeof(prefix), prefix,
	                  sizeof(prefix), sn->snap);
	for (; rocksdb_iter_valid(r.it); rocksdb_iter_next(r.it)) {
		size_t klen, vlen;
		const uint8_t *k = store__iter_key(r.it, &klen);
		const uint8_t *v = store__iter_val(r.it, &vlen);
		uint8_t lens[16];

		if (klen == STORE_POS_KEY_LEN && k[4] == STORE_KEYS_POS)
			d_r->pos = store__pos_dec(v, vlen);
		/* Lengths first, so that no two key sets hash alike. */
		store_keys_put64(lens, klen);
		store_keys_put64(lens + 8, vlen);
		if (EVP_DigestUpdate(md, lens, sizeof(lens)) != 1 ||
		    EVP_DigestUpdate(md, k, klen) != 1 ||
		    (vlen > 0 && EVP_DigestUpdate(md, v, vlen) != 1)) {
			rc = rs_err_set(err, RS_EIO, "sha256 failed");
			break;
		}
		d_r->keys++;
	}
	if (rc == 0 && store__range_status(&r, err) != 0)
		rc = -1;
	store__range_close(&r);
	store__snap_put(st, sn);
	if (rc == 0 && (EVP_DigestFinal_ex(md, d_r->sha256, &hlen) != 1 ||
	                hlen != sizeof(d_r->sha256)))
		rc = rs_err_set(err, RS_EIO, "sha256 failed");
	EVP_MD_CTX_free(md);
	return rc;
}
