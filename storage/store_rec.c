/* store_rec.c: record encoding and decoding (see store_rec.h). The reader
 * keeps a sticky "bad" flag, so a decoder reads every field and checks
 * once at the end; a short value makes every later read return zero. */
#include "storage/store_rec.h"

#include <stdbool.h>
#include <string.h>

#include "lib/rs_err.h"

struct store_rec_rd {
	const uint8_t *p, *end;
	bool           bad;
};

static uint8_t *
store_rec_put_varint(uint8_t *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*o++ = (uint8_t)v;
	return o;
}

static uint8_t *
store_rec_put_bytes(uint8_t *o, const void *p, size_t n)
{
	if (n > 0)
		memcpy(o, p, n);
	return o + n;
}

static uint64_t
store_rec_varint(struct store_rec_rd *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (r->bad || r->p == r->end)
			break;
		b = *r->p++;
		/* The tenth octet may only carry the top bit of 64. */
		if (shift == 63 && b > 1)
			break;
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	r->bad = true;
	return 0;
}

static uint32_t
store_rec_u32(struct store_rec_rd *r)
{
	uint64_t v = store_rec_varint(r);

	if (v > UINT32_MAX) {
		r->bad = true;
		return 0;
	}
	return (uint32_t)v;
}

/* n octets from the value, or NULL (and bad) if it is shorter. */
static const uint8_t *
store_rec_bytes(struct store_rec_rd *r, uint64_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

static void
store_rec_begin(struct store_rec_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->end = p + len;
	r->bad = false;
	if (len == 0 || *r->p++ != STORE_REC_V1)
		r->bad = true;
}

/* True when a value ends where the fields of the first writer ended:
 * fields appended since (a group at a time) read as 0. A value that goes
 * on has the whole group, so every other prefix is still RS_EIO. */
static bool
store_rec_legacy_end(const struct store_rec_rd *r)
{
	return !r->bad && r->p == r->end;
}

static int
store_rec_end(const struct store_rec_rd *r)
{
	return r->bad ? RS_EIO : 0;
}

size_t
store_rec_acct_enc(uint8_t *out, const struct store_rec_acct *r)
{
	uint8_t *o = out;

	*o++ = STORE_REC_V1;
	o = store_rec_put_varint(o, r->modseq);
	o = store_rec_put_varint(o, r->bytes);
	o = store_rec_put_varint(o, r->messages);
	o = store_rec_put_varint(o, r->next_mbox);
	o = store_rec_put_varint(o, r->nmbox);
	o = store_rec_put_varint(o, r->log_floor);
	o = store_rec_put_varint(o, r->idem_day);
	return (size_t)(o - out);
}

int
store_rec_acct_dec(const uint8_t *p, size_t len, struct store_rec_acct *r)
{
	struct store_rec_rd rd;

	store_rec_begin(&rd, p, len);
	r->modseq = store_rec_varint(&rd);
	r->bytes = store_rec_varint(&rd);
	r->messages = store_rec_varint(&rd);
	r->next_mbox = store_rec_u32(&rd);
	r->nmbox = store_rec_u32(&rd);
	r->log_floor = store_rec_legacy_end(&rd) ? 0 : store_rec_varint(&rd);
	r->idem_day = store_rec_legacy_end(&rd) ? 0 : store_rec_u32(&rd);
	return store_rec_end(&rd);
}

size_t
store_rec_blob_enc(uint8_t *out, const struct store_rec_blob *r)
{
	uint8_t *o = out;

	*o++ = STORE_REC_V1;
	o = store_rec_put_varint(o, r->refs);
	o = store_rec_put_varint(o, r->size);
	return (size_t)(o - out);
}

int
store_rec_blob_dec(const uint8_t *p, size_t len, struct store_rec_blob *r)
{
	struct store_rec_rd rd;

	store_rec_begin(&rd, p, len);
	r->refs = store_rec_varint(&rd);
	r->size = store_rec_varint(&rd);
	return store_rec_end(&rd);
}

size_t
store_rec_change_enc(uint8_t *out, const struct store_change *c)
{
	uint8_t *o = out;

	*o++ = STORE_REC_V1;
	o = store_rec_put_varint(o, (uint64_t)c->kind);
	o = store_rec_put_varint(o, c->mailbox);
	o = store_rec_put_varint(o, c->uid);
	return (size_t)(o - out);
}

int
store_rec_change_dec(const uint8_t *p, size_t len, struct store_change *c)
{
	struct store_rec_rd rd;
	uint32_t kind;

	store_rec_begin(&rd, p, len);
	kind = store_rec_u32(&rd);
	c->mailbox = store_rec_u32(&rd);
	c->uid = store_rec_u32(&rd);
	if (kind < STORE_CHANGE_APPEND || kind > STORE_CHANGE_MAILBOX)
		rd.bad = true;
	c->kind = (enum store_change_kind)kind;
	return store_rec_end(&rd);
}

size_t
store_rec_mbox_enc(uint8_t *out, const struct store_mailbox *m)
{
	uint8_t *o = out;
	size_t nlen = strlen(m->name);

	*o++ = STORE_REC_V1;
	o = store_rec_put_varint(o, (uint64_t)m->use);
	o = store_rec_put_varint(o, m->subscribed ? 1 : 0);
	o = store_rec_put_varint(o, m->uidvalidity);
	o = store_rec_put_varint(o, m->uidnext);
	o = store_rec_put_varint(o, m->messages);
	o = store_rec_put_varint(o, m->unseen);
	o = store_rec_put_varint(o, m->bytes);
	o = store_rec_put_varint(o, m->highestmodseq);
	o = store_rec_put_varint(o, nlen);
	o = store_rec_put_bytes(o, m->name, nlen);
	o = store_rec_put_varint(o, m->deleted);
	o = store_rec_put_varint(o, m->deleted_bytes);
	o = store_rec_put_varint(o, m->nkeywords);
	return (size_t)(o - out);
}

int
store_rec_mbox_dec(const uint8_t *p, size_t len, struct store_mailbox *m)
{
	struct store_rec_rd rd;
	uint32_t use, sub, nlen;
	const uint8_t *name;

	store_rec_begin(&rd, p, len);
	use = store_rec_u32(&rd);
	sub = store_rec_u32(&rd);
	m->uidvalidity = store_rec_u32(&rd);
	m->uidnext = store_rec_u32(&rd);
	m->messages = store_rec_u32(&rd);
	m->unseen = store_rec_u32(&rd);
	m->bytes = store_rec_varint(&rd);
	m->highestmodseq = store_rec_varint(&rd);
	nlen = store_rec_u32(&rd);
	if (nlen > STORE_MAILBOX_NAME_MAX)
		rd.bad = true;
	name = store_rec_bytes(&rd, nlen);
	m->deleted = m->nkeywords = 0;
	m->deleted_bytes = 0;
	if (!store_rec_legacy_end(&rd)) {
		m->deleted = store_rec_u32(&rd);
		m->deleted_bytes = store_rec_varint(&rd);
		m->nkeywords = store_rec_u32(&rd);
	}
	if (use > STORE_USE_ARCHIVE || sub > 1 ||
	    (name != NULL && memchr(name, '\0', nlen) != NULL))
		rd.bad = true;
	if (rd.bad || name == NULL) {
		m->name[0] = '\0';
		return RS_EIO;
	}
	m->use = (enum store_special_use)use;
	m->subscribed = sub == 1;
	memcpy(m->name, name, nlen);
	m->name[nlen] = '\0';
	return 0;
}

/* Internal dates may precede the epoch: zigzag keeps them short. */
static uint64_t
store_rec_zigzag(int64_t v)
{
	/* Not v >> 63: right-shifting a negative value is
	 * implementation-defined. */
	return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

static int64_t
store_rec_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

size_t
store_rec_msg_bound(const struct store_msg *m)
{
	size_t n = 1 + 4 * 10 + STORE_HASH_LEN + 10;

	for (size_t i = 0; i < m->nkeywords; i++)
		n += 10 + strlen(m->keywords[i]) + 1;
	return n;
}

size_t
store_rec_msg_enc(uint8_t *out, const struct store_msg *m)
{
	uint8_t *o = out;

	*o++ = STORE_REC_V1;
	o = store_rec_put_varint(o, m->modseq);
	o = store_rec_put_varint(o, m->flags);
	o = store_rec_put_varint(o, store_rec_zigzag(m->internal_date));
	o = store_rec_put_varint(o, m->size);
	o = store_rec_put_bytes(o, m->blob, STORE_HASH_LEN);
	o = store_rec_put_varint(o, m->nkeywords);
	for (size_t i = 0; i < m->nkeywords; i++) {
		size_t kl = strlen(m->keywords[i]);

		o = store_rec_put_varint(o, kl);
		/* The NUL too: decoded keywords point into the value. */
		o = store_rec_put_bytes(o, m->keywords[i], kl + 1);
	}
	return (size_t)(o - out);
}

int
store_rec_msg_head_dec(const uint8_t *p, size_t len, uint64_t *modseq_r,
                       uint32_t *flags_r)
{
	struct store_rec_rd rd;

	store_rec_begin(&rd, p, len);
	*modseq_r = store_rec_varint(&rd);
	*flags_r = store_rec_u32(&rd);
	if ((*flags_r & ~STORE_REC_FLAGS_ALL) != 0)
		rd.bad = true;
	return store_rec_end(&rd);
}

/* One keyword: its length, its octets and a NUL, nothing odd inside. */
static const char *
store_rec_keyword(struct store_rec_rd *rd)
{
	uint32_t kl = store_rec_u32(rd);
	const uint8_t *kw;

	if (kl == 0 || kl > STORE_KEYWORD_MAX) {
		rd->bad = true;
		return NULL;
	}
	kw = store_rec_bytes(rd, (uint64_t)kl + 1);
	if (kw == NULL || kw[kl] != '\0' || memchr(kw, '\0', kl) != NULL) {
		rd->bad = true;
		return NULL;
	}
	return (const char *)kw;
}

int
store_rec_msg_dec(const uint8_t *p, size_t len, struct store_msg *m)
{
	struct store_rec_rd rd;
	uint32_t nkw;

	store_rec_begin(&rd, p, len);
	m->modseq = store_rec_varint(&rd);
	m->flags = store_rec_u32(&rd);
	m->internal_date = store_rec_unzigzag(store_rec_varint(&rd));
	m->size = store_rec_varint(&rd);
	{
		const uint8_t *h = store_rec_bytes(&rd, STORE_HASH_LEN);

		if (h != NULL)
			memcpy(m->blob, h, STORE_HASH_LEN);
	}
	nkw = store_rec_u32(&rd);
	if (nkw > STORE_KEYWORDS_MAX || (m->flags & ~STORE_REC_FLAGS_ALL) != 0)
		rd.bad = true;
	m->nkeywords = 0;
	for (uint32_t i = 0; i < nkw && !rd.bad; i++)
		m->keywords[m->nkeywords++] = store_rec_keyword(&rd);
	m->meta = NULL;
	m->meta_len = 0;
	if (rd.bad)
		m->nkeywords = 0;
	return store_rec_end(&rd);
}
