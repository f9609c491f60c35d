/* store_keys.c: builds the keys laid out in store_keys.h. Pure byte
 * shuffling; nothing here knows RocksDB. */
#include "storage/store_keys.h"

#include <string.h>

void
store_keys_put64(uint8_t *p, uint64_t v)
{
	store_keys_put32(p, (uint32_t)(v >> 32));
	store_keys_put32(p + 4, (uint32_t)v);
}

uint64_t
store_keys_get64(const uint8_t *p)
{
	return (uint64_t)store_keys_get32(p) << 32 | store_keys_get32(p + 4);
}

size_t
store_keys_acct(uint8_t *k, struct store_acct a)
{
	store_keys_put32(k, a.part);
	k[4] = 'a';
	store_keys_put64(k + 5, a.id);
	return 13;
}

size_t
store_keys_acct_tag(uint8_t *k, struct store_acct a, enum store_keys_tag tag)
{
	size_t n = store_keys_acct(k, a);

	k[n] = (uint8_t)tag;
	return n + 1;
}

size_t
store_keys_name(uint8_t *k, struct store_acct a, const char *name,
                size_t len)
{
	size_t n = store_keys_acct_tag(k, a, STORE_KEYS_NAME);

	memcpy(k + n, name, len);
	return n + len;
}

size_t
store_keys_idem(uint8_t *k, struct store_acct a, uint32_t day,
                const uint8_t *idem, size_t len)
{
	size_t n = store_keys_acct_tag(k, a, STORE_KEYS_IDEM);

	store_keys_put32(k + n, day);
	memcpy(k + n + 4, idem, len);
	return n + 4 + len;
}

size_t
store_keys_mbox(uint8_t *k, struct store_acct a, uint32_t mbox)
{
	size_t n = store_keys_acct_tag(k, a, STORE_KEYS_MBOX);

	store_keys_put32(k + n, mbox);
	return n + 4;
}

size_t
store_keys_msg_prefix(uint8_t *k, struct store_acct a, uint32_t mbox)
{
	return store_keys_mbox_tag(k, a, STORE_KEYS_MSG, mbox);
}

size_t
store_keys_msg(uint8_t *k, struct store_acct a, uint32_t mbox, uint32_t uid)
{
	size_t n = store_keys_msg_prefix(k, a, mbox);

	store_keys_put32(k + n, uid);
	return n + 4;
}

size_t
store_keys_idx(uint8_t *k, struct store_acct a, uint32_t mbox, uint32_t chunk)
{
	size_t n = store_keys_mbox_tag(k, a, STORE_KEYS_IDX, mbox);

	store_keys_put32(k + n, chunk);
	return n + 4;
}

size_t
store_keys_change(uint8_t *k, struct store_acct a, uint64_t modseq)
{
	size_t n = store_keys_acct_tag(k, a, STORE_KEYS_CHANGE);

	store_keys_put64(k + n, modseq);
	return n + 8;
}

size_t
store_keys_mbox_tag(uint8_t *k, struct store_acct a, enum store_keys_tag tag,
                    uint32_t mbox)
{
	size_t n = store_keys_acct_tag(k, a, tag);

	store_keys_put32(k + n, mbox);
	return n + 4;
}

size_t
store_keys_mchange(uint8_t *k, struct store_acct a, uint32_t mbox,
                   uint64_t modseq)
{
	size_t n = store_keys_mbox_tag(k, a, STORE_KEYS_MCHANGE, mbox);

	store_keys_put64(k + n, modseq);
	return n + 8;
}

size_t
store_keys_keyword(uint8_t *k, struct store_acct a, uint32_t mbox,
                   const char *kw, size_t len)
{
	size_t n = store_keys_mbox_tag(k, a, STORE_KEYS_KEYWORD, mbox);

	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)kw[i];

		k[n + i] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
	}
	return n + len;
}

size_t
store_keys_subscr(uint8_t *k, struct store_acct a, const char *name,
                  size_t len)
{
	size_t n = store_keys_acct_tag(k, a, STORE_KEYS_SUBSCR);

	memcpy(k + n, name, len);
	return n + len;
}

static size_t
store_keys_blob_base(uint8_t *k, uint32_t part,
                     const uint8_t hash[STORE_HASH_LEN])
{
	store_keys_put32(k, part);
	k[4] = 'b';
	memcpy(k + 5, hash, STORE_HASH_LEN);
	return 5 + STORE_HASH_LEN;
}

size_t
store_keys_blob(uint8_t *k, uint32_t part, const uint8_t hash[STORE_HASH_LEN])
{
	size_t n = store_keys_blob_base(k, part, hash);

	k[n] = 'R';
	return n + 1;
}

size_t
store_keys_blob_meta(uint8_t *k, uint32_t part,
                     const uint8_t hash[STORE_HASH_LEN])
{
	size_t n = store_keys_blob_base(k, part, hash);

	k[n] = 'M';
	return n + 1;
}

size_t
store_keys_chunk(uint8_t *k, uint32_t part,
                 const uint8_t hash[STORE_HASH_LEN], uint32_t chunk)
{
	size_t n = store_keys_blob_base(k, part, hash);

	k[n] = 'D';
	store_keys_put32(k + n + 1, chunk);
	return n + 5;
}

size_t
store_keys_uidv(uint8_t *k, uint32_t part)
{
	store_keys_put32(k, part);
	k[4] = 'u';
	return 5;
}

size_t
store_keys_prefix_end(const uint8_t *prefix, size_t plen, uint8_t *end)
{
	/* Drop trailing 0xff octets and increment the last other one:
	 * "ab\xff" ends before "ac". */
	while (plen > 0 && prefix[plen - 1] == 0xff)
		plen--;
	if (plen == 0)
		return 0;
	memcpy(end, prefix, plen);
	end[plen - 1]++;
	return plen;
}
