/* mime_envelope.c: the IMAP ENVELOPE of a header (RFC 9051 7.5.2) and the
 * SORT/THREAD keys (RFC 5256, RFC 5957): sent date, base subject, first
 * addresses, message ids. Encoded-words stay raw in the ENVELOPE (IMAP
 * sends them so) and are decoded to UTF-8 in the keys. */
#include <ctype.h>

#include "node/mime/mime_decode.h"
#include "node/mime/mime_int.h"

struct addr_emit {
	struct mime_env_ctx *c;
	struct mime_out *o;
	size_t n;
};

/* Emits a phrase made plain: NIL when empty if nil_ok, else "". */
static void
addr_part(struct mime_env_ctx *c, struct rs_str s, struct mime_out *o,
          bool nil_ok)
{
	const char *p;

	rs_buf_reset(&c->tmp.buf);
	c->tmp.rc = 0;
	if (s.p != NULL)
		mime__phrase(s.p, s.len, &c->tmp);
	p = c->tmp.buf.len > 0 ? (const char *)c->tmp.buf.data : "";
	if (nil_ok && c->tmp.buf.len == 0)
		mime__put(o, "NIL", 3);
	else
		mime__str(o, p, c->tmp.buf.len, false);
}

static void
addr_emit_one(void *arg, const struct mime_addr *a)
{
	struct addr_emit *e = arg;
	struct mime_out *o = e->o;

	mime__puts(o, e->n++ == 0 ? "((" : "(");
	if (a->kind == 1) {
		/* RFC 9051 7.5.2: a group is (NIL NIL "name" NIL). */
		mime__puts(o, "NIL NIL ");
		addr_part(e->c, a->name, o, false);
		mime__puts(o, " NIL)");
		return;
	}
	if (a->kind == 2) {
		mime__puts(o, "NIL NIL NIL NIL)");
		return;
	}
	addr_part(e->c, a->name, o, true);
	mime__put(o, " ", 1);
	addr_part(e->c, a->route, o, true);
	mime__put(o, " ", 1);
	if (a->local.p == NULL)
		mime__puts(o, "\"MISSING_MAILBOX\"");
	else
		addr_part(e->c, a->local, o, false);
	mime__put(o, " ", 1);
	if (a->domain.p != NULL && a->domain.len > 0)
		addr_part(e->c, a->domain, o, false);
	else if (a->domain.p == NULL && a->local.p != NULL && a->local.len > 0)
		mime__puts(o, "\"MISSING_DOMAIN\"");
	else
		mime__puts(o, a->domain.p != NULL ? "\"\"" : "NIL");
	mime__put(o, ")", 1);
}

static void
addr_list(struct mime_env_ctx *c, struct rs_str f, struct mime_out *o)
{
	struct addr_emit e = { c, o, 0 };

	if (f.p != NULL)
		mime__addr_parse(f.p, f.len, c->max_addr, addr_emit_one, &e);
	mime__puts(o, e.n == 0 ? "NIL" : ")");
}

void
mime__envelope(struct mime_env_ctx *c, const struct mime_fields *f,
               struct mime_out *o)
{
	static const enum mime_field lists[] = {
		MIME_F_FROM, MIME_F_SENDER, MIME_F_REPLY_TO, MIME_F_TO,
		MIME_F_CC, MIME_F_BCC,
	};
	size_t from_off = 0, from_len = 0;

	mime__put(o, "(", 1);
	mime__nstr(o, f->f[MIME_F_DATE].p, f->f[MIME_F_DATE].len, true);
	mime__put(o, " ", 1);
	mime__nstr(o, f->f[MIME_F_SUBJECT].p, f->f[MIME_F_SUBJECT].len, true);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		size_t at;

		mime__put(o, " ", 1);
		at = o->buf.len;
		addr_list(c, f->f[lists[i]], o);
		if (o->rc != 0)
			return;
		if (i == 0) {
			from_off = at;
			from_len = o->buf.len - at;
		} else if (i <= 2 && o->buf.len - at == 3 && from_len > 3) {
			/* RFC 9051 7.5.2: an absent or empty Sender or
			 * Reply-To is the From. */
			o->buf.len = at;
			rs_buf_reset(&c->tmp.buf);
			c->tmp.rc = 0;
			mime__put(&c->tmp, o->buf.data + from_off, from_len);
			if (c->tmp.rc == 0)
				mime__put(o, c->tmp.buf.data, from_len);
		}
	}
	mime__put(o, " ", 1);
	mime__nstr(o, f->f[MIME_F_IN_REPLY_TO].p,
	           f->f[MIME_F_IN_REPLY_TO].len, true);
	mime__put(o, " ", 1);
	mime__nstr(o, f->f[MIME_F_MESSAGE_ID].p,
	           f->f[MIME_F_MESSAGE_ID].len, true);
	mime__put(o, ")", 1);
}

/* The first mailbox of an address list, for the sort keys. */
struct addr_first {
	bool found;
	struct mime_addr a;
};

static void
addr_first_cb(void *arg, const struct mime_addr *a)
{
	struct addr_first *f = arg;

	if (!f->found && a->kind == 0 && a->local.p != NULL) {
		f->found = true;
		f->a = *a;
	}
}

static void
key_addr(struct mime_env_ctx *c, struct rs_str field, struct mime_out *keys,
         uint32_t *len_mb, uint32_t *len_disp)
{
	struct addr_first af = { false, { 0 } };
	size_t at = keys->buf.len;

	*len_mb = *len_disp = 0;
	if (field.p == NULL)
		return;
	mime__addr_parse(field.p, field.len, c->max_addr, addr_first_cb, &af);
	if (!af.found)
		return;
	mime__phrase(af.a.local.p, af.a.local.len, keys);
	if (keys->rc != 0)
		return;
	for (size_t i = at; i < keys->buf.len; i++)
		keys->buf.data[i] = (uint8_t)tolower(keys->buf.data[i]);
	*len_mb = (uint32_t)(keys->buf.len - at);
	at = keys->buf.len;
	rs_buf_reset(&c->tmp.buf);
	c->tmp.rc = 0;
	/* RFC 5957 section 3: the display-name, else the addr-spec. */
	if (af.a.name.len > 0) {
		mime__phrase(af.a.name.p, af.a.name.len, &c->tmp);
	} else {
		mime__phrase(af.a.local.p, af.a.local.len, &c->tmp);
		if (af.a.domain.p != NULL && af.a.domain.len > 0) {
			mime__put(&c->tmp, "@", 1);
			mime__phrase(af.a.domain.p, af.a.domain.len, &c->tmp);
		}
	}
	if (c->tmp.rc == 0 && keys->rc == 0)
		keys->rc = mime_decode_2047((const char *)c->tmp.buf.data,
		                            c->tmp.buf.len, &keys->buf);
	*len_disp = keys->rc == 0 ? (uint32_t)(keys->buf.len - at) : 0;
}

/* Message ids "<...>" of field: the first, or all joined by spaces. */
static uint32_t
key_ids(struct rs_str field, bool all, struct mime_out *keys)
{
	size_t at = keys->buf.len, i = 0;

	while (field.p != NULL && i < field.len) {
		const char *lt = memchr(field.p + i, '<', field.len - i), *gt;

		if (lt == NULL)
			break;
		gt = memchr(lt, '>', field.len - (size_t)(lt - field.p));
		if (gt == NULL)
			break;
		if (keys->buf.len > at)
			mime__put(keys, " ", 1);
		for (const char *q = lt; q <= gt; q++)
			if (!mime__wsp((uint8_t)*q))
				mime__put(keys, q, 1);
		i = (size_t)(gt - field.p) + 1;
		if (!all)
			break;
	}
	return keys->rc == 0 ? (uint32_t)(keys->buf.len - at) : 0;
}

void
mime__sort_keys(struct mime_env_ctx *c, const struct mime_fields *f,
                struct mime_out *keys, uint32_t len[10], int64_t *date_r,
                int32_t *tz_r, bool *reply_r)
{
	struct rs_str subj = f->f[MIME_F_SUBJECT];
	size_t at = keys->buf.len;

	*date_r = 0;
	*tz_r = 0;
	if (f->f[MIME_F_DATE].p == NULL ||
	    mime__date_parse(f->f[MIME_F_DATE].p, f->f[MIME_F_DATE].len,
	                     date_r, tz_r) != 0) {
		*date_r = 0;
		*tz_r = 0;
	}
	*reply_r = false;
	rs_buf_reset(&c->tmp.buf);
	c->tmp.rc = 0;
	if (subj.p != NULL)
		c->tmp.rc = mime_decode_2047(subj.p, subj.len, &c->tmp.buf);
	if (c->tmp.rc == 0)
		mime__base_subject((const char *)c->tmp.buf.data,
		                   c->tmp.buf.len, keys, reply_r);
	len[0] = keys->rc == 0 ? (uint32_t)(keys->buf.len - at) : 0;
	key_addr(c, f->f[MIME_F_FROM], keys, &len[1], &len[2]);
	key_addr(c, f->f[MIME_F_TO], keys, &len[3], &len[4]);
	key_addr(c, f->f[MIME_F_CC], keys, &len[5], &len[6]);
	len[7] = key_ids(f->f[MIME_F_MESSAGE_ID], false, keys);
	len[8] = key_ids(f->f[MIME_F_IN_REPLY_TO], false, keys);
	len[9] = key_ids(f->f[MIME_F_REFERENCES], true, keys);
}

/* ---- addresses as text, for SEARCH ---- */

struct addr_text {
	struct mime_out *o;
	struct mime_out  tmp;
};

/* Appends a phrase made plain with its encoded-words decoded. */
static void
addr_text_phrase(struct addr_text *t, struct rs_str s)
{
	rs_buf_reset(&t->tmp.buf);
	t->tmp.rc = 0;
	mime__phrase(s.p, s.len, &t->tmp);
	if (t->tmp.rc != 0 || t->o->rc != 0)
		return;
	t->o->rc = mime_decode_2047((const char *)t->tmp.buf.data,
	                            t->tmp.buf.len, &t->o->buf);
}

static void
addr_text_one(void *arg, const struct mime_addr *a)
{
	struct addr_text *t = arg;

	if (a->kind == 2)
		return;
	if (t->o->buf.len > 0)
		mime__puts(t->o, ", ");
	if (a->name.p != NULL && a->name.len > 0) {
		addr_text_phrase(t, a->name);
		mime__puts(t->o, a->kind == 1 ? ":" : " ");
	}
	if (a->kind == 1 || a->local.p == NULL)
		return;
	/* The addr-spec as one word: no quotes, comments or blanks
	 * around "@" (RFC 5322 3.4.1, 4.4). */
	mime__put(t->o, "<", 1);
	rs_buf_reset(&t->tmp.buf);
	t->tmp.rc = 0;
	mime__phrase(a->local.p, a->local.len, &t->tmp);
	mime__put(t->o, t->tmp.buf.data, t->tmp.buf.len);
	if (a->domain.p != NULL) {
		rs_buf_reset(&t->tmp.buf);
		mime__phrase(a->domain.p, a->domain.len, &t->tmp);
		mime__put(t->o, "@", 1);
		mime__put(t->o, t->tmp.buf.data, t->tmp.buf.len);
	}
	mime__put(t->o, ">", 1);
}

int
mime_addr_text(const char *p, size_t n, struct rs_buf *out)
{
	struct mime_out o = { *out, 0 };
	struct addr_text t = { &o, { { 0 }, 0 } };

	rs_buf_init(&t.tmp.buf, out->max);
	mime__addr_parse(p, n, MIME_ADDR_TEXT_MAX, addr_text_one, &t);
	rs_buf_free(&t.tmp.buf);
	*out = o.buf;
	return o.rc;
}
