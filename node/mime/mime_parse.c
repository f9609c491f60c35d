/* mime_parse.c: mime_parse(), one pass over the message. Each entity's
 * header is read once; a multipart's body is split by searching its
 * delimiter with memmem (a large body is skipped, not walked), and every
 * part is summarised as it is found: its record in the part table, its
 * BODYSTRUCTURE and BODY text, and for a message its ENVELOPE.
 * A message header with neither MIME-Version nor Content-Type is not
 * MIME: its other Content-* fields are ignored (as Dovecot does).
 * body-fld-md5 is always NIL.
 * XXX(mime): Dovecot joins the addresses of repeated From/To/Cc/...
 * fields in the ENVELOPE; only the first is read here. */
#include <stdio.h>

#include "node/mime/mime_header.h"
#include "node/mime/mime_int.h"
#include "storage/store.h"

struct mime_limits {
	size_t   field_max;
	uint32_t parts_max;
	bool     flat;           /* one text/plain part */
};

/* mime.h: the limits, then lower ones until the summary fits. */
static const struct mime_limits mime_levels[] = {
	{ 256 * 1024, MIME_PARTS_MAX, false },
	{ 8 * 1024, 1000, false },
	{ 1024, 64, false },
	{ 256, 1, true },
};

#define HDR_READ_MAX  (1024 * 1024)  /* fields read from one header */
#define BOUNDARY_MAX  200

struct pctx {
	const uint8_t *msg;
	size_t len;
	const struct mime_limits *lim;
	unsigned flags;
	struct mime_out env, bs, body, recs, keys, ptmp;
	struct mime_env_ctx ec;
	uint32_t nrec;
	uint32_t klen[10];
	int64_t date;
	int32_t tz;
	bool reply;
};

enum dflt { DFLT_TEXT, DFLT_MESSAGE };

/* What one entity's header says. */
struct entity {
	struct mime_fields f;
	size_t off, hdr_len, body_off, body_len;
	struct rs_str type, subtype, params, cte;
	bool has_type;
	char boundary[BOUNDARY_MAX + 1];
	size_t blen;
};

static const struct {
	const char *name;
	enum mime_field f;
	bool message;            /* kept only in a message header */
	bool last;               /* a later occurrence replaces it */
} fields[] = {
	{ "content-type", MIME_F_CTYPE, false, false },
	{ "content-transfer-encoding", MIME_F_CTE, false, false },
	{ "content-disposition", MIME_F_CDISP, false, false },
	{ "content-language", MIME_F_CLANG, false, false },
	{ "content-location", MIME_F_CLOC, false, false },
	{ "content-id", MIME_F_CID, false, false },
	{ "content-description", MIME_F_CDESC, false, false },
	{ "content-md5", MIME_F_CMD5, false, false },
	{ "date", MIME_F_DATE, true, true },
	{ "subject", MIME_F_SUBJECT, true, true },
	{ "from", MIME_F_FROM, true, false },
	{ "sender", MIME_F_SENDER, true, false },
	{ "reply-to", MIME_F_REPLY_TO, true, false },
	{ "to", MIME_F_TO, true, false },
	{ "cc", MIME_F_CC, true, false },
	{ "bcc", MIME_F_BCC, true, false },
	{ "in-reply-to", MIME_F_IN_REPLY_TO, true, true },
	{ "message-id", MIME_F_MESSAGE_ID, true, true },
	{ "references", MIME_F_REFERENCES, true, true },
	{ "mime-version", MIME_F_MIME_VERSION, true, false },
};

static void
read_header(struct pctx *c, struct entity *e, size_t off, size_t end,
            bool message)
{
	struct mime_header_iter it;
	struct mime_header_field hf;

	memset(&e->f, 0, sizeof(e->f));
	mime_header_iter_init(&it, c->msg + off, end - off);
	while (mime_header_iter_next(&it, &hf) == 1) {
		if ((size_t)((const uint8_t *)hf.raw.p - (c->msg + off)) >=
		    HDR_READ_MAX) {
			c->flags |= MIME_SUMMARY_TRUNCATED;
			continue;
		}
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if ((fields[i].message && !message) ||
			    (e->f.f[fields[i].f].p != NULL && !fields[i].last) ||
			    !rs_str_ieq_cstr(hf.name, fields[i].name))
				continue;
			if (hf.value.len > c->lim->field_max) {
				hf.value.len = c->lim->field_max;
				c->flags |= MIME_SUMMARY_TRUNCATED;
			}
			/* A present but empty field is not absent. */
			e->f.f[fields[i].f] = hf.value.p != NULL ? hf.value :
			    rs_str_make("", 0);
			break;
		}
	}
	e->off = off;
	e->hdr_len = mime_header_iter_end(&it);
	e->body_off = off + e->hdr_len;
	e->body_len = end - e->body_off;
}

static bool
tok_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* RFC 2045 5.1: type "/" subtype *(";" parameter). */
static void
parse_ctype(struct entity *e)
{
	struct rs_str v = e->f.f[MIME_F_CTYPE];
	size_t i, st;

	e->has_type = false;
	e->type = e->subtype = e->params = rs_str_make(NULL, 0);
	if (v.p == NULL)
		return;
	i = mime__skip_cfws(v.p, v.len, 0);
	for (st = i; i < v.len && tok_char((uint8_t)v.p[i]); i++)
		;
	e->type = rs_str_make(v.p + st, i - st);
	i = mime__skip_cfws(v.p, v.len, i);
	if (i >= v.len || v.p[i] != '/' || e->type.len == 0)
		return;
	i = mime__skip_cfws(v.p, v.len, i + 1);
	for (st = i; i < v.len && tok_char((uint8_t)v.p[i]); i++)
		;
	e->subtype = rs_str_make(v.p + st, i - st);
	e->params = rs_str_make(v.p + i, v.len - i);
	e->has_type = e->subtype.len > 0;
}

static enum mime_cte
parse_cte(struct entity *e)
{
	static const char *names[] = { "7bit", "8bit", "binary", "base64",
	                               "quoted-printable" };
	struct rs_str v = e->f.f[MIME_F_CTE];
	size_t i, st;

	e->cte = rs_str_make(NULL, 0);
	if (v.p == NULL)
		return MIME_CTE_7BIT;
	i = mime__skip_cfws(v.p, v.len, 0);
	for (st = i; i < v.len && tok_char((uint8_t)v.p[i]); i++)
		;
	e->cte = rs_str_make(v.p + st, i - st);
	if (e->cte.len == 0)
		return MIME_CTE_7BIT;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (rs_str_ieq_cstr(e->cte, names[k]))
			return (enum mime_cte)k;
	return MIME_CTE_UNKNOWN;
}

/* Record i of the table, field at byte off, set to v. */
static void
rec_set(struct pctx *c, uint32_t i, size_t off, uint64_t v)
{
	if (c->recs.rc == 0)
		mime__le64(c->recs.buf.data + (size_t)i * MIME_REC_SIZE + off, v);
}

/* Record i's subtree ends here. */
static void
rec_end(struct pctx *c, uint32_t i)
{
	if (c->recs.rc == 0)
		mime__le32(c->recs.buf.data + (size_t)i * MIME_REC_SIZE + 4,
		           c->nrec);
}

static uint32_t
rec_new(struct pctx *c, enum mime_part_kind kind, enum mime_cte cte,
        const struct entity *e, uint64_t lines)
{
	uint8_t r[MIME_REC_SIZE];

	memset(r, 0, sizeof(r));
	r[0] = (uint8_t)kind;
	r[1] = (uint8_t)cte;
	mime__le64(r + 8, e->off);
	mime__le64(r + 16, e->hdr_len);
	mime__le64(r + 24, e->body_len);
	mime__le64(r + 32, lines);
	mime__le32(r + 4, c->nrec + 1);
	mime__put(&c->recs, r, sizeof(r));
	return c->nrec++;
}

static uint64_t
count_lines(const uint8_t *p, size_t n)
{
	uint64_t lines = 0;
	const uint8_t *end = p + n, *q;

	while (p < end && (q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p = q + 1;
	}
	return lines;
}

/* Copies what was written to bs since at into body as well. */
static void
dup_tail(struct pctx *c, size_t at)
{
	if (c->bs.rc == 0)
		mime__put(&c->body, c->bs.buf.data + at, c->bs.buf.len - at);
}

static void
both(struct pctx *c, const char *s)
{
	mime__puts(&c->bs, s);
	mime__puts(&c->body, s);
}

/* RFC 2183 disposition, RFC 3282 language, RFC 2557 location: the
 * extension data after body-fld-md5 (NIL). */
static void
emit_ext(struct pctx *c, const struct entity *e)
{
	struct rs_str d = e->f.f[MIME_F_CDISP], l = e->f.f[MIME_F_CLANG];
	size_t i, st, n = 0;

	mime__puts(&c->bs, " ");
	i = d.p != NULL ? mime__skip_cfws(d.p, d.len, 0) : 0;
	for (st = i; d.p != NULL && i < d.len && tok_char((uint8_t)d.p[i]); i++)
		;
	if (d.p == NULL || i == st) {
		mime__puts(&c->bs, "NIL");
	} else {
		mime__puts(&c->bs, "(");
		mime__str(&c->bs, d.p + st, i - st, false);
		mime__puts(&c->bs, " ");
		mime__params(&c->ptmp, d.p + i, d.len - i, &c->bs, false, NULL,
		             NULL);
		mime__puts(&c->bs, ")");
	}
	mime__puts(&c->bs, " ");
	for (i = 0; l.p != NULL && i < l.len;) {
		i = mime__skip_cfws(l.p, l.len, i);
		for (st = i; i < l.len && l.p[i] != ',' && !mime__wsp((uint8_t)l.p[i]) &&
		     l.p[i] != '('; i++)
			;
		if (i > st) {
			mime__puts(&c->bs, n++ == 0 ? "(" : " ");
			mime__str(&c->bs, l.p + st, i - st, false);
		}
		i = mime__skip_cfws(l.p, l.len, i);
		if (i < l.len && (l.p[i] == ',' || i == st))
			i++;        /* a separator, or junk */
	}
	/* A list even for one language, as Dovecot sends it. */
	mime__puts(&c->bs, n == 0 ? "NIL" : ")");
	mime__puts(&c->bs, " ");
	mime__nstr(&c->bs, e->f.f[MIME_F_CLOC].p, e->f.f[MIME_F_CLOC].len, true);
}

/* body-fields: params id desc enc octets, to both texts. */
static void
emit_fields(struct pctx *c, const struct entity *e, bool dflt_params,
            bool text)
{
	size_t at = c->bs.buf.len;

	if (dflt_params)
		mime__puts(&c->bs, " (\"charset\" \"us-ascii\")");
	else {
		mime__puts(&c->bs, " ");
		mime__params(&c->ptmp, e->params.p, e->params.len, &c->bs,
		             text, NULL, NULL);
	}
	mime__puts(&c->bs, " ");
	mime__nstr(&c->bs, e->f.f[MIME_F_CID].p, e->f.f[MIME_F_CID].len, true);
	mime__puts(&c->bs, " ");
	mime__nstr(&c->bs, e->f.f[MIME_F_CDESC].p, e->f.f[MIME_F_CDESC].len,
	           true);
	mime__puts(&c->bs, " ");
	if (e->cte.len > 0)
		mime__str(&c->bs, e->cte.p, e->cte.len, false);
	else
		mime__puts(&c->bs, "\"7bit\"");
	dup_tail(c, at);
	char num[32];

	snprintf(num, sizeof(num), " %zu", e->body_len);
	both(c, num);
}

static void parse_entity(struct pctx *c, size_t off, size_t end,
                         uint32_t depth, enum dflt dflt, bool message,
                         bool last);

/* The next delimiter line "--boundary" ["--"] *LWSP EOL of the multipart
 * whose body starts at body_off, at or after from: its offset, or end.
 * *next_r is the offset after its line, *close_r tells "--b--". */
static size_t
find_delim(const struct pctx *c, const char *needle, size_t nlen,
           size_t body_off, size_t from, size_t end, size_t *next_r,
           bool *close_r)
{
	const uint8_t *m = c->msg;

	while (from < end) {
		const uint8_t *h = memmem(m + from, end - from, needle, nlen);
		size_t pos, i;

		if (h == NULL)
			return end;
		pos = (size_t)(h - m);
		from = pos + 1;
		if (pos != body_off && m[pos - 1] != '\n')
			continue;      /* RFC 2046 5.1.1: at a line start */
		i = pos + nlen;
		*close_r = i + 1 < end && m[i] == '-' && m[i + 1] == '-';
		if (*close_r) {
			/* Whatever follows a close delimiter is ignored. */
			while (i < end && m[i] != '\n')
				i++;
		}
		while (i < end && (m[i] == ' ' || m[i] == '\t'))
			i++;
		if (i < end && m[i] == '\r' && i + 1 < end && m[i + 1] == '\n')
			i++;
		if (i < end && m[i] != '\n')
			continue;
		*next_r = i < end ? i + 1 : end;
		return pos;
	}
	return end;
}

/* The parts of a multipart, the first delimiter at d (line ends at
 * next). RFC 2046 5.1.1: the line break before a delimiter is part of
 * the delimiter. */
static void
parse_parts(struct pctx *c, const struct entity *e, const char *needle,
            size_t d, size_t next, bool close, uint32_t depth, bool digest)
{
	size_t nlen = e->blen + 2, end = e->body_off + e->body_len;

	while (d < end && !close) {
		size_t ps = next, pe, d2, next2 = end;
		bool close2 = false, last = false;

		d2 = find_delim(c, needle, nlen, e->body_off, ps, end, &next2,
		                &close2);
		pe = d2;
		if (d2 < end && pe > ps && c->msg[pe - 1] == '\n')
			pe--;
		if (d2 < end && pe > ps && c->msg[pe - 1] == '\r')
			pe--;
		if (c->nrec + 1 >= c->lim->parts_max) {
			/* mime.h: the rest belongs to the last part. */
			c->flags |= MIME_SUMMARY_TRUNCATED;
			pe = end;
			last = true;
		}
		parse_entity(c, ps, pe, depth + 1,
		             digest ? DFLT_MESSAGE : DFLT_TEXT, false, last);
		if (last)
			break;
		d = d2;
		next = next2;
		close = close2;
	}
}

/* A multipart entity; false if it has no usable boundary (then it is
 * summarised as text/plain). */
static bool
entity_multipart(struct pctx *c, struct entity *e, enum mime_cte cte,
                 uint32_t depth)
{
	size_t at = c->bs.buf.len, d, next = 0, end = e->body_off + e->body_len;
	bool close = false;
	char needle[BOUNDARY_MAX + 3];
	uint32_t idx;

	rs_buf_reset(&c->ptmp.buf);
	mime__params(&c->ptmp, e->params.p, e->params.len, &c->bs, false,
	             e->boundary, &e->blen);
	c->bs.buf.len = at;     /* only the boundary was wanted yet */
	if (c->bs.rc == 0 && c->bs.buf.data != NULL)
		c->bs.buf.data[at] = 0;
	if (e->blen == 0)
		return false;
	needle[0] = '-';
	needle[1] = '-';
	memcpy(needle + 2, e->boundary, e->blen);
	d = find_delim(c, needle, e->blen + 2, e->body_off, e->body_off, end,
	               &next, &close);
	if (d >= end || close)
		return false;
	idx = rec_new(c, MIME_PART_MULTIPART, cte, e, 0);
	both(c, "(");
	parse_parts(c, e, needle, d, next, close, depth,
	            rs_str_ieq_cstr(e->subtype, "digest"));
	rec_end(c, idx);
	both(c, " ");
	at = c->bs.buf.len;
	mime__str(&c->bs, e->subtype.p, e->subtype.len, false);
	dup_tail(c, at);
	mime__puts(&c->body, ")");
	mime__puts(&c->bs, " ");
	mime__params(&c->ptmp, e->params.p, e->params.len, &c->bs, false,
	             NULL, NULL);
	emit_ext(c, e);
	mime__puts(&c->bs, ")");
	return true;
}

static void
emit_type(struct pctx *c, const char *type, const char *sub,
          const struct entity *e)
{
	size_t at = c->bs.buf.len;

	mime__puts(&c->bs, "(");
	if (type != NULL) {
		mime__str(&c->bs, type, strlen(type), false);
		mime__puts(&c->bs, " ");
		mime__str(&c->bs, sub, strlen(sub), false);
	} else {
		mime__str(&c->bs, e->type.p, e->type.len, false);
		mime__puts(&c->bs, " ");
		mime__str(&c->bs, e->subtype.p, e->subtype.len, false);
	}
	dup_tail(c, at);
}

static void
emit_tail(struct pctx *c, const struct entity *e, bool lines, uint64_t n)
{
	char num[32];

	if (lines) {
		snprintf(num, sizeof(num), " %llu", (unsigned long long)n);
		both(c, num);
	}
	mime__puts(&c->bs, " NIL");      /* body-fld-md5 */
	emit_ext(c, e);
	both(c, ")");
}

/* message/rfc822 or message/global: RFC 9051 body-type-msg. */
static void
entity_message(struct pctx *c, const struct entity *e, enum mime_cte cte,
               uint32_t depth)
{
	uint64_t lines = count_lines(c->msg + e->body_off, e->body_len);
	uint32_t idx = rec_new(c, MIME_PART_MESSAGE, cte, e, lines);
	size_t end = e->body_off + e->body_len;

	emit_type(c, e->has_type ? NULL : "message", "rfc822", e);
	emit_fields(c, e, false, false);
	both(c, " ");
	parse_entity(c, e->body_off, end, depth + 1, DFLT_TEXT, true, false);
	if (c->recs.rc == 0 && c->nrec > idx + 1) {
		const uint8_t *child = c->recs.buf.data +
		                       (size_t)(idx + 1) * MIME_REC_SIZE;
		uint64_t hl = mime__rd64(child + 16);

		rec_set(c, idx, 40, e->body_off);
		rec_set(c, idx, 48, hl);
		rec_set(c, idx, 56, e->body_off + hl);
		rec_set(c, idx, 64, e->body_len - hl);
	}
	rec_end(c, idx);
	emit_tail(c, e, true, lines);
}

static void
entity_leaf(struct pctx *c, const struct entity *e, enum mime_cte cte,
            int how)
{
	bool text = how == 1 || (how == 0 && rs_str_ieq_cstr(e->type, "text"));
	uint64_t lines = text ? count_lines(c->msg + e->body_off, e->body_len)
	                      : 0;

	(void)rec_new(c, MIME_PART_LEAF, cte, e, lines);
	if (how == 1)
		emit_type(c, "text", "plain", e);
	else if (how == 2)
		emit_type(c, "application", "octet-stream", e);
	else
		emit_type(c, NULL, NULL, e);
	emit_fields(c, e, how == 1, text);
	emit_tail(c, e, text, lines);
}

static void
parse_entity(struct pctx *c, size_t off, size_t end, uint32_t depth,
             enum dflt dflt, bool message, bool last)
{
	struct entity e;
	enum mime_cte cte;
	bool nest = depth < MIME_DEPTH_MAX && !c->lim->flat && !last &&
	            c->nrec + 2 <= c->lim->parts_max;
	int how = 0;             /* 0 as declared, 1 text/plain, 2 octets */

	if (c->env.rc || c->bs.rc || c->body.rc || c->recs.rc || c->keys.rc)
		return;         /* too big: summarised again with less */
	read_header(c, &e, off, end, message);
	if (message && depth == 0) {
		mime__envelope(&c->ec, &e.f, &c->env);
		mime__sort_keys(&c->ec, &e.f, &c->keys, c->klen, &c->date,
		                &c->tz, &c->reply);
	} else if (message) {
		size_t at = c->bs.buf.len;

		mime__envelope(&c->ec, &e.f, &c->bs);
		dup_tail(c, at);
		both(c, " ");
	}
	if (message && e.f.f[MIME_F_MIME_VERSION].p == NULL &&
	    e.f.f[MIME_F_CTYPE].p == NULL) {
		/* RFC 2045 4: not MIME, so no Content-* field counts (as
		 * Dovecot has it; a Content-Type alone makes it MIME). */
		for (int k = MIME_F_CTE; k <= MIME_F_CMD5; k++)
			e.f.f[k] = rs_str_make(NULL, 0);
	}
	parse_ctype(&e);
	cte = parse_cte(&e);
	if (!e.has_type || c->lim->flat) {
		e.has_type = false;
		how = 1;
		if (dflt == DFLT_MESSAGE && nest) {
			entity_message(c, &e, cte, depth);
			return;
		}
	} else if (rs_str_ieq_cstr(e.type, "multipart")) {
		if (nest && entity_multipart(c, &e, cte, depth))
			return;
		how = nest ? 1 : 2;   /* RFC 2046 5.1.1 without a boundary */
	} else if (rs_str_ieq_cstr(e.type, "message") &&
	           (rs_str_ieq_cstr(e.subtype, "rfc822") ||
	            rs_str_ieq_cstr(e.subtype, "global"))) {
		if (nest) {
			entity_message(c, &e, cte, depth);
			return;
		}
		how = 2;
	}
	if (!nest && how != 1 && e.has_type &&
	    (rs_str_ieq_cstr(e.type, "multipart") || how == 2))
		c->flags |= MIME_SUMMARY_TRUNCATED;
	entity_leaf(c, &e, cte, how);
}

static unsigned
scan_flags(const uint8_t *msg, size_t len)
{
	const uint8_t *p = msg, *end = msg + len, *q;
	unsigned flags = 0;

	if (len > 0 && memchr(msg, '\0', len) != NULL)
		flags |= MIME_SUMMARY_NUL;
	while (p < end && (q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (q == msg || q[-1] != '\r') {
			flags |= MIME_SUMMARY_BARE_LF;
			break;
		}
		p = q + 1;
	}
	return flags;
}

static void
ctx_init(struct pctx *c, const uint8_t *msg, size_t len,
         const struct mime_limits *lim)
{
	struct mime_out *outs[] = { &c->env, &c->bs, &c->body, &c->recs,
	                            &c->keys, &c->ptmp, &c->ec.tmp };

	memset(c, 0, sizeof(*c));
	c->msg = msg;
	c->len = len;
	c->lim = lim;
	c->ec.max_addr = 100000;
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		rs_buf_init(&outs[i]->buf, STORE_META_MAX);
}

static void
ctx_free(struct pctx *c)
{
	struct mime_out *outs[] = { &c->env, &c->bs, &c->body, &c->recs,
	                            &c->keys, &c->ptmp, &c->ec.tmp };

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		rs_buf_free(&outs[i]->buf);
}

/* The summary's size, or 0 if it does not fit STORE_META_MAX. */
static size_t
ctx_size(const struct pctx *c)
{
	size_t total = MIME_META_HDR + c->env.buf.len + c->bs.buf.len +
	               c->body.buf.len + c->keys.buf.len + c->recs.buf.len;

	if (c->env.rc || c->bs.rc || c->body.rc || c->keys.rc || c->recs.rc ||
	    total > STORE_META_MAX)
		return 0;
	return total;
}

/* Lays the summary out (mime_int.h) into meta; 0 or RS_ETOOBIG. */
static int
ctx_meta(struct pctx *c, size_t total, struct rs_buf *meta)
{
	const struct mime_out *str[3] = { &c->env, &c->bs, &c->body };
	uint8_t h[MIME_META_HDR];
	size_t start = meta->len;
	int rc;
	memset(h, 0, sizeof(h));
	for (size_t i = 0; i < 4; i++)
		h[i] = (uint8_t)MIME_META_MAGIC[i];
	mime__le32(h + 8, c->flags);
	mime__le32(h + 12, c->nrec);
	mime__le64(h + 16, c->len);
	mime__le64(h + 24, (uint64_t)c->date);
	mime__le32(h + 32, (uint32_t)c->tz);
	h[36] = c->reply;
	for (size_t i = 0; i < 3; i++)
		mime__le32(h + 40 + 4 * i, (uint32_t)str[i]->buf.len);
	for (size_t i = 0; i < 10; i++)
		mime__le32(h + 52 + 4 * i, c->klen[i]);
	if (rs_buf_reserve(meta, total) != 0)
		return RS_ETOOBIG;
	/* Reserved: these appends cannot fail. */
	rc = rs_buf_append(meta, h, sizeof(h));
	for (size_t i = 0; i < 3 && rc == 0; i++)
		rc = rs_buf_append(meta, str[i]->buf.data, str[i]->buf.len);
	if (rc == 0)
		rc = rs_buf_append(meta, c->keys.buf.data, c->keys.buf.len);
	if (rc == 0)
		rc = rs_buf_append(meta, c->recs.buf.data, c->recs.buf.len);
	if (rc != 0)
		return rc;
	mime__le32(meta->data + start + 4,
	           mime__fnv(meta->data + start + 8, total - 8));
	return 0;
}

int
mime_parse(const uint8_t *msg, size_t len, struct rs_buf *meta_out,
           struct rs_err *err)
{
	unsigned flags = scan_flags(msg, len);

	for (size_t lv = 0; lv < sizeof(mime_levels) / sizeof(mime_levels[0]);
	     lv++) {
		struct pctx c;
		size_t total;
		int rc;

		ctx_init(&c, msg, len, &mime_levels[lv]);
		c.flags = flags | (lv > 0 ? MIME_SUMMARY_TRUNCATED : 0);
		parse_entity(&c, 0, len, 0, DFLT_TEXT, true, false);
		total = ctx_size(&c);
		if (total == 0) {
			ctx_free(&c);
			continue;
		}
		rc = ctx_meta(&c, total, meta_out);
		ctx_free(&c);
		if (rc == 0)
			return 0;
		break;
	}
	(void)rs_err_set(err, RS_ETOOBIG, "mime summary does not fit");
	return RS_ETOOBIG;
}
