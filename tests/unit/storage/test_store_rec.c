/* test_store_rec.c: record encoding round trips, and every truncation or
 * corruption of an encoded value decodes to RS_EIO or to some value, never
 * to a read out of bounds (ASan watches); key layout and range ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"
#include "storage/store_rec.h"
#include "tests/unit/test.h"

/* Decodes every prefix of a value (all must fail but the whole, and
 * legacy: the length an older writer's value had, whose appended fields
 * read as 0) and the value with each octet flipped (must not crash). dec
 * returns 0/RS_EIO. */
static void
test_store_rec_mangle2(const uint8_t *val, size_t len, size_t legacy,
                       size_t legacy2,
                       int (*dec)(const uint8_t *, size_t, void *),
                       void *out, const char *what)
{
	for (size_t n = 0; n < len; n++) {
		/* A heap copy of exactly n octets: ASan catches overreads. */
		uint8_t *cut = rs_xmalloc(n > 0 ? n : 1);
		bool ok = n == legacy || n == legacy2;

		memcpy(cut, val, n);
		if (dec(cut, n, out) != (ok ? 0 : RS_EIO))
			test_fail(__FILE__, __LINE__, "%s: prefix %zu decoded",
			          what, n);
		free(cut);
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t *bad = rs_xmemdup(val, len);

		bad[i] ^= 0xff;
		(void)!dec(bad, len, out);
		bad[i] = 0x80;          /* a varint that never ends */
		(void)!dec(bad, len, out);
		free(bad);
	}
}

static void
test_store_rec_mangle(const uint8_t *val, size_t len, size_t legacy,
                      int (*dec)(const uint8_t *, size_t, void *), void *out,
                      const char *what)
{
	test_store_rec_mangle2(val, len, legacy, SIZE_MAX, dec, out, what);
}

static int
dec_acct(const uint8_t *p, size_t n, void *o)
{
	return store_rec_acct_dec(p, n, o);
}

static int
dec_mbox(const uint8_t *p, size_t n, void *o)
{
	return store_rec_mbox_dec(p, n, o);
}

static int
dec_msg(const uint8_t *p, size_t n, void *o)
{
	return store_rec_msg_dec(p, n, o);
}

static int
dec_change(const uint8_t *p, size_t n, void *o)
{
	return store_rec_change_dec(p, n, o);
}

static int
dec_blob(const uint8_t *p, size_t n, void *o)
{
	return store_rec_blob_dec(p, n, o);
}

void
test_store_rec_roundtrip(void)
{
	struct store_rec_acct a = { UINT64_MAX, 1234567, 89, 7, 6, 5, 4 }, a2;
	struct store_rec_blob b = { 3, (uint64_t)50 << 20 }, b2;
	struct store_change c = { 0, STORE_CHANGE_FLAGS, 4, 0xffffffffu }, c2;
	uint8_t buf[STORE_REC_MBOX_MAX];
	size_t n;

	n = store_rec_acct_enc(buf, &a);
	TEST_ASSERT(store_rec_acct_dec(buf, n, &a2) == 0);
	TEST_ASSERT(a.modseq == a2.modseq && a.bytes == a2.bytes &&
	            a.messages == a2.messages && a.next_mbox == a2.next_mbox &&
	            a.nmbox == a2.nmbox && a.log_floor == a2.log_floor &&
	            a.idem_day == a2.idem_day);
	/* log_floor (5, one octet) came after the first writer, idem_day
	 * (4) after the second. */
	TEST_ASSERT(store_rec_acct_dec(buf, n - 1, &a2) == 0 &&
	            a2.idem_day == 0 && a2.log_floor == 5 && a2.nmbox == 6);
	TEST_ASSERT(store_rec_acct_dec(buf, n - 2, &a2) == 0 &&
	            a2.log_floor == 0 && a2.nmbox == 6);
	test_store_rec_mangle2(buf, n, n - 1, n - 2, dec_acct, &a2, "acct");

	n = store_rec_blob_enc(buf, &b);
	TEST_ASSERT(store_rec_blob_dec(buf, n, &b2) == 0);
	TEST_ASSERT(b2.refs == 3 && b2.size == b.size);
	test_store_rec_mangle(buf, n, SIZE_MAX, dec_blob, &b2, "blob");

	n = store_rec_change_enc(buf, &c);
	TEST_ASSERT(store_rec_change_dec(buf, n, &c2) == 0);
	TEST_ASSERT(c2.kind == c.kind && c2.mailbox == 4 &&
	            c2.uid == 0xffffffffu);
	test_store_rec_mangle(buf, n, SIZE_MAX, dec_change, &c2, "change");
	buf[1] = 9;                     /* no such kind */
	TEST_ASSERT(store_rec_change_dec(buf, n, &c2) == RS_EIO);

	/* Trailing octets are fields of a later writer: ignored. */
	n = store_rec_blob_enc(buf, &b);
	buf[n] = 0x42;
	TEST_ASSERT(store_rec_blob_dec(buf, n + 1, &b2) == 0);
	buf[0] = 2;                     /* unknown version */
	TEST_ASSERT(store_rec_blob_dec(buf, n, &b2) == RS_EIO);
}

void
test_store_rec_mailbox(void)
{
	static struct store_mailbox m, m2;
	uint8_t buf[STORE_REC_MBOX_MAX];
	size_t n;

	m.id = 9;
	strcpy(m.name, "Lists/roost-dev");
	m.use = STORE_USE_ARCHIVE;
	m.subscribed = true;
	m.uidvalidity = 1700000000;
	m.uidnext = 42;
	m.messages = 41;
	m.unseen = 3;
	m.bytes = (uint64_t)5 << 33;
	m.highestmodseq = 77;
	m.deleted = 2;
	m.deleted_bytes = 300;
	m.nkeywords = 4;
	n = store_rec_mbox_enc(buf, &m);
	m2.id = 1;
	TEST_ASSERT(store_rec_mbox_dec(buf, n, &m2) == 0);
	TEST_ASSERT(m2.id == 1);        /* the key's business */
	TEST_ASSERT_STREQ(m2.name, m.name);
	TEST_ASSERT(m2.use == m.use && m2.subscribed && m2.uidnext == 42 &&
	            m2.uidvalidity == m.uidvalidity && m2.messages == 41 &&
	            m2.unseen == 3 && m2.bytes == m.bytes &&
	            m2.highestmodseq == 77 && m2.deleted == 2 &&
	            m2.deleted_bytes == 300 && m2.nkeywords == 4);
	/* The counters after the name (4 octets here) came after the first
	 * writer: a value without them reads them as 0. */
	TEST_ASSERT(store_rec_mbox_dec(buf, n - 4, &m2) == 0 &&
	            m2.deleted == 0 && m2.deleted_bytes == 0 &&
	            m2.nkeywords == 0 && m2.highestmodseq == 77);
	test_store_rec_mangle(buf, n, n - 4, dec_mbox, &m2, "mailbox");

	/* The longest name fits the bound. */
	memset(m.name, 'x', STORE_MAILBOX_NAME_MAX);
	m.name[STORE_MAILBOX_NAME_MAX] = '\0';
	n = store_rec_mbox_enc(buf, &m);
	TEST_ASSERT(n <= sizeof(buf));
	TEST_ASSERT(store_rec_mbox_dec(buf, n, &m2) == 0);
	TEST_ASSERT(strlen(m2.name) == STORE_MAILBOX_NAME_MAX);
}

/* Encodes one message record, decodes it and compares every field. */
static void
test_rec_msg_case(size_t c, int64_t date, uint32_t flags,
                  const char *const *kws, size_t nkw, const uint8_t *meta,
                  size_t meta_len)
{
	static struct store_msg m, m2;
	uint8_t *buf;
	size_t n;

	memset(&m, 0, sizeof(m));
	m.modseq = 1000 + c;
	m.flags = flags;
	m.internal_date = date;
	m.size = 12345;
	memset(m.blob, 0xab, sizeof(m.blob));
	for (size_t k = 0; k < nkw; k++)
		m.keywords[k] = kws[k];
	m.nkeywords = nkw;
	m.meta = meta_len > 0 ? meta : NULL;
	m.meta_len = meta_len;
	buf = rs_xmalloc(store_rec_msg_bound(&m));
	n = store_rec_msg_enc(buf, &m);
	TEST_ASSERT_IDX(n <= store_rec_msg_bound(&m), c);
	TEST_ASSERT_IDX(store_rec_msg_dec(buf, n, &m2) == 0, c);
	TEST_ASSERT_IDX(m2.modseq == m.modseq && m2.flags == m.flags &&
	                m2.internal_date == m.internal_date &&
	                m2.size == m.size, c);
	TEST_ASSERT_IDX(memcmp(m2.blob, m.blob, STORE_HASH_LEN) == 0, c);
	TEST_ASSERT_IDX(m2.nkeywords == m.nkeywords, c);
	for (size_t k = 0; k < m2.nkeywords && k < m.nkeywords; k++)
		TEST_ASSERT_IDX(strcmp(m2.keywords[k], kws[k]) == 0, c);
	/* The meta lives with the blob, not in the record. */
	TEST_ASSERT_IDX(m2.meta == NULL && m2.meta_len == 0, c);
	/* Mangling a 13 KB value octet by octet is slow under ASan; the
	 * small cases cover every field. */
	if (n < 2048)
		test_store_rec_mangle(buf, n, SIZE_MAX, dec_msg, &m2, "message");
	free(buf);
}

void
test_store_rec_message(void)
{
	static const struct {
		int64_t date;
		uint32_t flags;
		size_t nkw, meta_len;
	} cases[] = {
		{ 0, 0, 0, 0 },
		{ -86400, STORE_FLAG_SEEN | STORE_FLAG_DRAFT, 1, 3 },
		{ INT64_MAX, STORE_REC_FLAGS_ALL, STORE_KEYWORDS_MAX, 4096 },
		{ INT64_MIN, STORE_FLAG_FLAGGED, 2, 0 },
	};
	static const char *kws[STORE_KEYWORDS_MAX];
	static char kwbuf[STORE_KEYWORDS_MAX][STORE_KEYWORD_MAX + 1];
	static uint8_t meta[4096];

	for (size_t i = 0; i < STORE_KEYWORDS_MAX; i++) {
		/* The last keyword is as long as allowed. */
		size_t len = i + 1 < STORE_KEYWORDS_MAX ? i % 20 + 1
		                                        : STORE_KEYWORD_MAX;

		memset(kwbuf[i], 'a' + (int)(i % 26), len);
		kwbuf[i][len] = '\0';
		kws[i] = kwbuf[i];
	}
	for (size_t i = 0; i < sizeof(meta); i++)
		meta[i] = (uint8_t)i;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		test_rec_msg_case(c, cases[c].date, cases[c].flags, kws,
		                  cases[c].nkw, meta, cases[c].meta_len);
}

void
test_store_keys(void)
{
	struct store_acct a = { 0x01020304, 0x1112131415161718ull };
	static const uint8_t want_msg[STORE_KEYS_MSG_LEN] = {
		1, 2, 3, 4, 'a', 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		'M', 0, 0, 0, 5, 0, 0, 1, 0 };
	static const struct {
		const char *in;
		size_t len;
		const char *want;
		size_t want_len;
	} ends[] = {
		{ "ab", 2, "ac", 2 },
		{ "a\xff\xff", 3, "b", 1 },
		{ "\xff\xff", 2, "", 0 },
		{ "\x00", 1, "\x01", 1 },
	};
	uint8_t k[STORE_KEYS_MAX], k2[STORE_KEYS_MAX], hash[STORE_HASH_LEN];

	TEST_ASSERT(store_keys_msg(k, a, 5, 256) == STORE_KEYS_MSG_LEN);
	TEST_ASSERT(memcmp(k, want_msg, sizeof(want_msg)) == 0);
	/* Numeric order is key order. */
	store_keys_msg(k2, a, 5, 255);
	TEST_ASSERT(memcmp(k2, k, STORE_KEYS_MSG_LEN) < 0);
	store_keys_change(k, a, 0x100);
	store_keys_change(k2, a, 0xff);
	TEST_ASSERT(memcmp(k2, k, STORE_KEYS_CHANGE_LEN) < 0);
	TEST_ASSERT(store_keys_get64(k + STORE_KEYS_ACCT_LEN) == 0x100);
	TEST_ASSERT(store_keys_mbox(k, a, 1) == STORE_KEYS_MBOX_LEN);
	TEST_ASSERT(store_keys_name(k, a, "INBOX", 5) ==
	            STORE_KEYS_ACCT_LEN + 5);
	memset(hash, 7, sizeof(hash));
	TEST_ASSERT(store_keys_blob(k, 9, hash) == STORE_KEYS_BLOB_LEN);
	TEST_ASSERT(store_keys_chunk(k2, 9, hash, 3) == STORE_KEYS_CHUNK_LEN);
	/* Meta and chunks share the blob's prefix. */
	TEST_ASSERT(memcmp(k, k2, STORE_KEYS_BLOB_LEN - 1) == 0);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t n = store_keys_prefix_end((const uint8_t *)ends[i].in,
		                                 ends[i].len, k);

		TEST_ASSERT_IDX(n == ends[i].want_len, i);
		TEST_ASSERT_IDX(memcmp(k, ends[i].want, n) == 0, i);
	}
}
