/* mime_util.c: what the summary's texts are made of: IMAP strings
 * (quoted or literal), RFC 5322 phrases made plain, and body-fld-param
 * lists with RFC 2231 continuations and charsets decoded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/mime/mime_decode.h"
#include "node/mime/mime_int.h"

#define PARAMS_MAX 32            /* parameters read from one field */

static size_t skip_comment(const char *p, size_t n, size_t i);

static bool
skip_octet(uint8_t c, bool unfold)
{
	return c == 0 || (unfold && (c == '\r' || c == '\n'));
}

void
mime__str(struct mime_out *o, const char *p, size_t n, bool unfold)
{
	const uint8_t *s = (const uint8_t *)p;
	size_t len = 0, i, run;
	bool quoted = true;
	char lit[32];

	if (unfold) {
		while (n > 0 && mime__wsp(s[0])) {
			s++;
			n--;
		}
		while (n > 0 && mime__wsp(s[n - 1]))
			n--;
	}
	for (i = 0; i < n; i++) {
		if (skip_octet(s[i], unfold))
			continue;
		len++;
		if (s[i] < 0x20 || s[i] > 0x7e)
			quoted = false;
	}
	if (quoted) {
		mime__put(o, "\"", 1);
	} else {
		snprintf(lit, sizeof(lit), "{%zu}\r\n", len);
		mime__puts(o, lit);
	}
	for (i = 0; i < n; i = run) {
		run = i;
		while (run < n && !skip_octet(s[run], unfold) &&
		       (!quoted || (s[run] != '"' && s[run] != '\\')))
			run++;
		mime__put(o, s + i, run - i);
		if (run >= n)
			break;
		if (!skip_octet(s[run], unfold)) {
			mime__put(o, "\\", 1);
			mime__put(o, s + run, 1);
		}
		run++;
	}
	if (quoted)
		mime__put(o, "\"", 1);
}

void
mime__nstr(struct mime_out *o, const char *p, size_t n, bool unfold)
{
	if (p == NULL)
		mime__put(o, "NIL", 3);
	else
		mime__str(o, p, n, unfold);
}

size_t
mime__skip_cfws(const char *p, size_t n, size_t i)
{
	while (i < n && (mime__wsp((uint8_t)p[i]) || p[i] == '('))
		i = p[i] == '(' ? skip_comment(p, n, i) : i + 1;
	return i;
}

/* Offset after the comment starting at p[i] == '(' (nested, quoted-pairs,
 * RFC 5322 3.2.2), or n. */
static size_t
skip_comment(const char *p, size_t n, size_t i)
{
	int depth = 0;

	for (; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && --depth == 0)
			return i + 1;
	}
	return n;
}

void
mime__phrase(const char *p, size_t n, struct mime_out *o)
{
	bool any = false, space = false;
	size_t i = 0, run;

	while (i < n) {
		uint8_t c = (uint8_t)p[i];

		if (mime__wsp(c) || c == '(') {
			i = c == '(' ? skip_comment(p, n, i) : i + 1;
			space = any;
			continue;
		}
		if (space)
			mime__put(o, " ", 1);
		space = false;
		any = true;
		if (c != '"') {
			run = i;
			while (run < n && !mime__wsp((uint8_t)p[run]) &&
			       p[run] != '(' && p[run] != '"')
				run++;
			mime__put(o, p + i, run - i);
			i = run;
			continue;
		}
		for (i++; i < n && p[i] != '"'; i++) {
			if (p[i] == '\\' && i + 1 < n)
				i++;
			if (p[i] != '\r' && p[i] != '\n')
				mime__put(o, p + i, 1);
		}
		i++;
	}
}

struct param {
	struct rs_str name, value;
	struct rs_str base;      /* name without the RFC 2231 "*n*" */
	int  section;            /* -1 when none */
	bool ext, quoted, done;
};

static bool
token_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Splits an RFC 2231 name "base*n*" into its parts. */
static void
param_name(struct param *pa)
{
	const char *s = pa->name.p;
	size_t n = pa->name.len, st;

	pa->section = -1;
	pa->ext = false;
	if (n > 1 && s[n - 1] == '*') {
		pa->ext = true;
		n--;
	}
	st = n;
	while (st > 0 && s[st - 1] >= '0' && s[st - 1] <= '9')
		st--;
	if (st > 1 && st < n && s[st - 1] == '*' && n - st <= 3) {
		pa->section = 0;
		for (size_t i = st; i < n; i++)
			pa->section = pa->section * 10 + (s[i] - '0');
		n = st - 1;
	}
	pa->base = rs_str_make(s, n);
}

/* Reads "; name=value" pairs from p[0..n). */
static size_t
params_read(const char *p, size_t n, struct param *pa)
{
	size_t i = 0, np = 0;

	while (i < n && np < PARAMS_MAX) {
		size_t st;

		while (i < n && p[i] != ';')
			i = p[i] == '(' ? skip_comment(p, n, i) : i + 1;
		if (i >= n)
			break;
		st = i = mime__skip_cfws(p, n, i + 1);
		while (i < n && token_char((uint8_t)p[i]))
			i++;
		pa[np].name = rs_str_make(p + st, i - st);
		while (i < n && mime__wsp((uint8_t)p[i]))
			i++;
		if (i >= n || p[i] != '=' || pa[np].name.len == 0)
			continue;
		for (i++; i < n && mime__wsp((uint8_t)p[i]); i++)
			;
		pa[np].quoted = i < n && p[i] == '"';
		st = i += pa[np].quoted;
		if (pa[np].quoted) {
			while (i < n && p[i] != '"')
				i += p[i] == '\\' ? 2 : 1;
			if (i > n)
				i = n;
		} else {
			while (i < n && p[i] != ';' && !mime__wsp((uint8_t)p[i]) &&
			       p[i] != '(')
				i++;
		}
		pa[np].value = rs_str_make(p + st, i - st);
		pa[np].done = false;
		param_name(&pa[np]);
		np++;
	}
	return np;
}

/* Appends one segment's value octets to raw: unquoted, percent-decoded
 * when extended; the first extended segment gives the charset. */
static void
param_segment(const struct param *pa, bool first, struct mime_out *raw,
              enum mime_charset *cs)
{
	const char *s = pa->value.p;
	size_t n = pa->value.len, i = 0;

	if (pa->ext && first) {
		const char *q1 = memchr(s, '\'', n), *q2;

		if (q1 != NULL &&
		    (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 - s) - 1)) != NULL) {
			*cs = mime_charset_lookup(s, (size_t)(q1 - s));
			i = (size_t)(q2 - s) + 1;
		}
	}
	for (; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if (pa->quoted && c == '\\' && i + 1 < n) {
			c = (uint8_t)s[++i];
		} else if (pa->ext && c == '%' && i + 2 < n &&
		           strchr("0123456789abcdefABCDEF", s[i + 1]) != NULL &&
		           strchr("0123456789abcdefABCDEF", s[i + 2]) != NULL) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };

			c = (uint8_t)strtoul(hex, NULL, 16);
			i += 2;
		}
		if (c != '\r' && c != '\n')
			mime__put(raw, &c, 1);
	}
}

/* Emits params[k] and, for RFC 2231 continuations, its other sections. */
static void
param_emit(struct param *pa, size_t np, size_t k, struct mime_out *tmp,
           struct mime_out *o, char *boundary, size_t *blen)
{
	enum mime_charset cs = MIME_CHARSET_UNKNOWN;
	size_t idx[PARAMS_MAX], m = 0, rawlen;
	const char *v;
	size_t vlen;

	rs_buf_reset(&tmp->buf);
	tmp->rc = 0;
	if (pa[k].section < 0) {
		idx[m++] = k;
	} else {
		size_t same[PARAMS_MAX], ns = 0;

		for (size_t i = k; i < np; i++)
			if (pa[i].section >= 0 && rs_str_ieq(pa[i].base, pa[k].base))
				same[ns++] = i;
		/* RFC 2231 section 3: sections 0, 1, 2... in order; a gap
		 * ends the value. */
		for (int want = 0; (size_t)want < ns; want++) {
			size_t f = ns;

			for (size_t j = 0; j < ns && f == ns; j++)
				if (pa[same[j]].section == want && !pa[same[j]].done)
					f = j;
			if (f == ns)
				break;
			idx[m++] = same[f];
			pa[same[f]].done = true;
		}
		if (m == 0)
			idx[m++] = k;
	}
	pa[k].done = true;
	for (size_t j = 0; j < m; j++)
		param_segment(&pa[idx[j]], j == 0, tmp, &cs);
	rawlen = tmp->buf.len;
	/* The converted value goes after the raw one in the same buffer, so
	 * the room for it is made first: appending must not move the raw
	 * octets being read (MIME_UTF8_GROWTH). */
	if (cs != MIME_CHARSET_UNKNOWN && tmp->rc == 0 &&
	    rawlen <= SIZE_MAX / MIME_UTF8_GROWTH &&
	    rs_buf_reserve(&tmp->buf, rawlen * MIME_UTF8_GROWTH) == 0 &&
	    mime_charset_to_utf8(cs, tmp->buf.data, rawlen, &tmp->buf) == 0) {
		v = (const char *)tmp->buf.data + rawlen;
		vlen = tmp->buf.len - rawlen;
	} else {
		v = (const char *)tmp->buf.data;
		vlen = rawlen;
	}
	if (v == NULL)
		v = "";
	mime__put(o, " ", 1);
	mime__str(o, pa[k].base.p, pa[k].base.len, false);
	mime__put(o, " ", 1);
	mime__str(o, v, vlen, false);
	if (boundary != NULL && blen != NULL &&
	    rs_str_ieq_cstr(pa[k].base, "boundary") &&
	    *blen == 0 && vlen <= 200) {
		memcpy(boundary, v, vlen);
		*blen = vlen;
	}
}

void
mime__params(struct mime_out *tmp, const char *p, size_t n,
             struct mime_out *o, bool dflt_charset, char *boundary,
             size_t *boundary_len)
{
	struct param pa[PARAMS_MAX];
	size_t np = p != NULL ? params_read(p, n, pa) : 0;
	size_t start = o->buf.len;

	if (boundary_len != NULL)
		*boundary_len = 0;
	if (np == 0 && !dflt_charset) {
		mime__put(o, "NIL", 3);
		return;
	}
	mime__put(o, "(", 1);
	for (size_t k = 0; k < np; k++) {
		if (rs_str_ieq_cstr(pa[k].base, "charset"))
			dflt_charset = false;
		if (!pa[k].done)
			param_emit(pa, np, k, tmp, o, boundary, boundary_len);
	}
	/* RFC 2045 5.2: text without a charset is us-ascii (as Dovecot
	 * says in BODYSTRUCTURE). */
	if (dflt_charset)
		mime__puts(o, " \"charset\" \"us-ascii\"");
	mime__put(o, ")", 1);
	/* "( " -> "(": the first pair was written after a space. */
	if (o->rc == 0 && o->buf.len > start + 2) {
		memmove(o->buf.data + start + 1, o->buf.data + start + 2,
		        o->buf.len - start - 2);
		o->buf.len--;
		o->buf.data[o->buf.len] = 0;
	}
}
