/* mime_summary.c: reading a summary made by mime_parse(): open (which
 * checks everything once, so that no accessor can read out of bounds),
 * the texts, the sort keys, and the part table by section or in order. */
#include <stdio.h>

#include "node/mime/mime_int.h"

static const uint8_t *
rec_at(const struct mime_summary *s, uint32_t i)
{
	return s->meta + s->table_off + (size_t)i * MIME_REC_SIZE;
}

/* a + b <= max, without overflow. */
static bool
range_ok(uint64_t a, uint64_t b, uint64_t max)
{
	return a <= max && b <= max - a;
}

static bool
rec_ok(const uint8_t *r, uint64_t size)
{
	uint64_t ho = mime__rd64(r + 8), hl = mime__rd64(r + 16);
	uint64_t bl = mime__rd64(r + 24);

	if (r[0] > MIME_PART_MESSAGE || r[1] > MIME_CTE_UNKNOWN)
		return false;
	if (!range_ok(ho, hl, size) || !range_ok(ho + hl, bl, size) ||
	    mime__rd64(r + 32) > bl)
		return false;
	return range_ok(mime__rd64(r + 40), mime__rd64(r + 48), size) &&
	       range_ok(mime__rd64(r + 56), mime__rd64(r + 64), size);
}

/* The tree: preorder, every subtree inside its parent's, leaves without
 * children, containers with some, a message with exactly one, no deeper
 * than the iterator's stack. */
static int
table_ok(const struct mime_summary *s)
{
	struct {
		uint32_t idx, end;
		uint8_t kind;
	} st[MIME_DEPTH_MAX + 1];
	uint32_t d = 0;

	for (uint32_t i = 0; i < s->nparts; i++) {
		const uint8_t *r = rec_at(s, i);
		uint32_t end = mime__rd32(r + 4);

		if (!rec_ok(r, s->msg_size))
			return -1;
		while (d > 0 && st[d - 1].end <= i)
			d--;
		if ((i == 0) != (d == 0) || (i == 0 && end != s->nparts))
			return -1;
		if (end <= i || (d > 0 && end > st[d - 1].end))
			return -1;
		if ((r[0] == MIME_PART_LEAF) != (end == i + 1))
			return -1;
		if (d > 0 && st[d - 1].kind == MIME_PART_MESSAGE &&
		    (st[d - 1].idx + 1 != i || end != st[d - 1].end))
			return -1;
		if (end > i + 1) {
			if (d == MIME_DEPTH_MAX + 1)
				return -1;
			st[d].idx = i;
			st[d].end = end;
			st[d].kind = r[0];
			d++;
		}
	}
	return 0;
}

/* Counts the parts the iterator gives; -1 if a section is too long. */
static int
sections_ok(const struct mime_summary *s)
{
	struct mime_part_iter it;
	struct mime_part p;
	uint32_t want = 0, got = 0;

	for (uint32_t i = 0; i < s->nparts; i++) {
		const uint8_t *r = rec_at(s, i);

		/* Unnumbered: a multipart right inside a message. */
		if (!(r[0] == MIME_PART_MULTIPART && i > 0 &&
		      rec_at(s, i - 1)[0] == MIME_PART_MESSAGE))
			want++;
	}
	mime_summary_iter_init(&it, s);
	while (mime_summary_iter_next(&it, &p) == 1)
		got++;
	return got == want ? 0 : -1;
}

int
mime_summary_open(const uint8_t *meta, size_t len, struct mime_summary *s)
{
	struct rs_str str[MIME_META_NSTR];
	size_t off = MIME_META_HDR;

	memset(s, 0, sizeof(*s));
	if (meta == NULL || len < MIME_META_HDR ||
	    memcmp(meta, MIME_META_MAGIC, 4) != 0 ||
	    mime__rd32(meta + 4) != mime__fnv(meta + 8, len - 8))
		return RS_EIO;
	for (size_t i = 0; i < MIME_META_NSTR; i++) {
		uint32_t n = mime__rd32(meta + 40 + 4 * i);

		if (n > len - off)
			return RS_EIO;
		str[i] = rs_str_make((const char *)meta + off, n);
		off += n;
	}
	s->meta = meta;
	s->len = len;
	s->flags = mime__rd32(meta + 8);
	s->nparts = mime__rd32(meta + 12);
	s->msg_size = mime__rd64(meta + 16);
	s->table_off = off;
	if (s->nparts == 0 || s->nparts > MIME_PARTS_MAX ||
	    (len - off) / MIME_REC_SIZE != s->nparts ||
	    (len - off) % MIME_REC_SIZE != 0 || table_ok(s) != 0 ||
	    sections_ok(s) != 0) {
		memset(s, 0, sizeof(*s));
		return RS_EIO;
	}
	s->envelope = str[0];
	s->bodystructure = str[1];
	s->body = str[2];
	s->keys.sent_date = (int64_t)mime__rd64(meta + 24);
	s->keys.sent_tz = (int32_t)mime__rd32(meta + 32);
	s->keys.subject_reply = meta[36] != 0;
	s->keys.base_subject = str[3];
	s->keys.from_mailbox = str[4];
	s->keys.from_display = str[5];
	s->keys.to_mailbox = str[6];
	s->keys.to_display = str[7];
	s->keys.cc_mailbox = str[8];
	s->keys.cc_display = str[9];
	s->keys.message_id = str[10];
	s->keys.in_reply_to = str[11];
	s->keys.references = str[12];
	return 0;
}

struct rs_str
mime_summary_envelope(const struct mime_summary *s)
{
	return s->envelope;
}

struct rs_str
mime_summary_bodystructure(const struct mime_summary *s)
{
	return s->bodystructure;
}

struct rs_str
mime_summary_body(const struct mime_summary *s)
{
	return s->body;
}

const struct mime_sort_keys *
mime_summary_keys(const struct mime_summary *s)
{
	return &s->keys;
}

static void
rec_fill(const uint8_t *r, struct mime_part *p)
{
	p->kind = (enum mime_part_kind)r[0];
	p->cte = (enum mime_cte)r[1];
	p->hdr_off = mime__rd64(r + 8);
	p->hdr_len = mime__rd64(r + 16);
	p->body_off = p->hdr_off + p->hdr_len;
	p->body_len = mime__rd64(r + 24);
	p->lines = mime__rd64(r + 32);
	if (p->kind == MIME_PART_MESSAGE) {
		p->msg_hdr_off = mime__rd64(r + 40);
		p->msg_hdr_len = mime__rd64(r + 48);
		p->msg_text_off = mime__rd64(r + 56);
		p->msg_text_len = mime__rd64(r + 64);
	} else {
		p->msg_hdr_off = p->msg_hdr_len = 0;
		p->msg_text_off = p->msg_text_len = 0;
	}
}

void
mime_summary_iter_init(struct mime_part_iter *it, const struct mime_summary *s)
{
	memset(it, 0, sizeof(*it));
	it->s = s;
	it->off = s->table_off;
}

/* Sets it->sec to its first base octets, then ".n" (or "n" when base is
 * 0); false if that does not fit. */
static bool
sec_append(struct mime_part_iter *it, size_t base, uint32_t n)
{
	int w = snprintf(it->sec + base, sizeof(it->sec) - base, "%s%u",
	                 base > 0 ? "." : "", (unsigned)n);

	return w > 0 && base + (size_t)w <= MIME_SECTION_MAX;
}

int
mime_summary_iter_next(struct mime_part_iter *it, struct mime_part *p)
{
	const struct mime_summary *s = it->s;

	while (it->idx < s->nparts) {
		const uint8_t *r = rec_at(s, it->idx);
		uint32_t end = mime__rd32(r + 4), i = it->idx;
		size_t seclen = 0;
		bool numbered = true;

		while (it->depth > 0 && it->st[it->depth - 1].end <= i)
			it->depth--;
		if (it->depth == 0) {
			if (r[0] != MIME_PART_MULTIPART && !sec_append(it, 0, 1))
				return 0;
		} else {
			size_t base = it->st[it->depth - 1].seclen;

			if (it->st[it->depth - 1].kind == MIME_PART_MULTIPART) {
				if (!sec_append(it, base,
				                ++it->st[it->depth - 1].child))
					return 0;
			} else if (r[0] == MIME_PART_MULTIPART) {
				numbered = false;    /* its parts are n.1... */
				it->sec[base] = '\0';
			} else if (!sec_append(it, base, 1)) {
				return 0;
			}
		}
		if (it->depth == 0 && r[0] == MIME_PART_MULTIPART)
			it->sec[0] = '\0';
		seclen = strlen(it->sec);
		if (end > i + 1) {
			if (it->depth > MIME_DEPTH_MAX)
				return 0;
			it->st[it->depth].end = end;
			it->st[it->depth].child = 0;
			it->st[it->depth].seclen = (uint16_t)seclen;
			it->st[it->depth].kind = r[0];
			it->depth++;
		}
		it->idx++;
		it->off += MIME_REC_SIZE;
		if (!numbered)
			continue;
		rec_fill(r, p);
		memcpy(p->section, it->sec, seclen + 1);
		return 1;
	}
	return 0;
}

/* "" or nz-number *("." nz-number), at most MIME_SECTION_MAX octets. */
static bool
section_valid(const char *sec)
{
	size_t n = strlen(sec);
	bool start = true;

	if (n > MIME_SECTION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (sec[i] == '.') {
			if (start)
				return false;
			start = true;
		} else if (sec[i] >= '0' && sec[i] <= '9') {
			if (start && sec[i] == '0')
				return false;
			start = false;
		} else {
			return false;
		}
	}
	return n == 0 || !start;
}

int
mime_summary_part(const struct mime_summary *s, const char *section,
                  struct mime_part *p)
{
	struct mime_part_iter it;

	if (!section_valid(section))
		return RS_EINVAL;
	if (s->nparts == 0)
		return RS_ENOTFOUND;
	if (section[0] == '\0') {
		/* The message itself: its HEADER and TEXT. */
		rec_fill(rec_at(s, 0), p);
		p->section[0] = '\0';
		p->msg_hdr_off = p->hdr_off;
		p->msg_hdr_len = p->hdr_len;
		p->msg_text_off = p->body_off;
		p->msg_text_len = p->body_len;
		return 0;
	}
	mime_summary_iter_init(&it, s);
	while (mime_summary_iter_next(&it, p) == 1)
		if (strcmp(p->section, section) == 0)
			return 0;
	return RS_ENOTFOUND;
}
