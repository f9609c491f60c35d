/* rs_addr.c: RFC 5321 path and mailbox parsing. The grammar is small
 * enough to walk by hand; every length is checked against the RFC 5321
 * section 4.5.3.1 limits before a byte is copied. */
#include "lib/rs_addr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* RFC 5322 atext, the characters of a dot-string atom. */
static bool
rs_addr_atext(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

size_t
rs_utf8_seq_len(const unsigned char *s, size_t len)
{
	size_t n;
	unsigned cp;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlongs, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

bool
rs_addr_domain_ok(const char *s, size_t len, bool utf8)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t label = 0;

	if (len == 0 || len > RS_ADDR_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < len;) {
		if (p[i] == '.') {
			/* No empty labels, no label ending in '-'. */
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
			i++;
			continue;
		}
		if (p[i] >= 0x80) {
			size_t n = utf8 ? rs_utf8_seq_len(p + i, len - i) : 0;

			if (n == 0)
				return false;
			label += n;
			i += n;
		} else if (isalnum(p[i]) || (p[i] == '-' && label > 0)) {
			label++;
			i++;
		} else {
			return false;
		}
		if (label > 63)
			return false;
	}
	return label > 0 && p[len - 1] != '-';
}

/* Address literal "[...]": RFC 5321 4.1.3. We check the shape loosely
 * (printable, no brackets inside); nothing routes on it. */
static bool
rs_addr_literal_ok(const char *s, size_t len)
{
	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\')
			return false;
	}
	return true;
}

/* Parses "local@domain" ending exactly at len. */
static int
rs_addr_mailbox(const char *s, size_t len, unsigned flags, struct rs_addr *a,
                struct rs_err *err)
{
	const unsigned char *p = (const unsigned char *)s;
	bool utf8 = (flags & RS_ADDR_UTF8) != 0;
	size_t i = 0, o = 0;
	size_t at;

	memset(a, 0, sizeof(*a));
	if (len > 0 && p[0] == '"') {
		/* Quoted-string: qtextSMTP or quoted-pairSMTP. */
		a->quoted = true;
		for (i = 1; i < len && p[i] != '"'; i++) {
			unsigned char c = p[i];

			if (c == '\\') {
				if (++i >= len || p[i] < 32 || p[i] > 126)
					return rs_err_set(err, RS_EINVAL,
					                  "bad quoted pair");
				c = p[i];
			} else if (c >= 0x80) {
				size_t n = utf8 ? rs_utf8_seq_len(p + i, len - i)
				                : 0;

				if (n == 0)
					return rs_err_set(err, RS_EINVAL,
					                  "8-bit local part");
				if (o + n > RS_ADDR_LOCAL_MAX)
					return rs_err_set(err, RS_ETOOBIG,
					                  "local part too long");
				memcpy(a->local + o, p + i, n);
				o += n;
				i += n - 1;
				a->utf8 = true;
				continue;
			} else if (c < 32 || c > 126) {
				return rs_err_set(err, RS_EINVAL,
				                  "bad character in quoted local part");
			}
			if (o >= RS_ADDR_LOCAL_MAX)
				return rs_err_set(err, RS_ETOOBIG,
				                  "local part too long");
			a->local[o++] = (char)c;
		}
		if (i >= len)
			return rs_err_set(err, RS_EINVAL, "unterminated quote");
		i++;
	} else {
		/* Dot-string: atoms separated by single dots. */
		bool need_atom = true;

		for (; i < len && p[i] != '@'; i++) {
			if (p[i] == '.') {
				if (need_atom)
					return rs_err_set(err, RS_EINVAL,
					                  "empty atom in local part");
				need_atom = true;
			} else if (p[i] >= 0x80) {
				size_t n = utf8 ? rs_utf8_seq_len(p + i, len - i)
				                : 0;

				if (n == 0)
					return rs_err_set(err, RS_EINVAL,
					                  "8-bit local part");
				if (o + n > RS_ADDR_LOCAL_MAX)
					return rs_err_set(err, RS_ETOOBIG,
					                  "local part too long");
				memcpy(a->local + o, p + i, n);
				o += n;
				i += n - 1;
				a->utf8 = true;
				need_atom = false;
				continue;
			} else if (rs_addr_atext(p[i])) {
				need_atom = false;
			} else {
				return rs_err_set(err, RS_EINVAL,
				                  "bad character in local part");
			}
			if (o >= RS_ADDR_LOCAL_MAX)
				return rs_err_set(err, RS_ETOOBIG,
				                  "local part too long");
			a->local[o++] = (char)p[i];
		}
		if (need_atom)
			return rs_err_set(err, RS_EINVAL, "bad local part");
	}
	a->local[o] = '\0';
	if (i >= len || p[i] != '@')
		return rs_err_set(err, RS_EINVAL, "missing @domain");
	at = i + 1;
	if (len - at > RS_ADDR_DOMAIN_MAX)
		return rs_err_set(err, RS_ETOOBIG, "domain too long");
	if (at < len && p[at] == '[') {
		if ((flags & RS_ADDR_NO_LITERAL) ||
		    !rs_addr_literal_ok(s + at, len - at))
			return rs_err_set(err, RS_EINVAL, "bad address literal");
	} else if (!rs_addr_domain_ok(s + at, len - at, utf8)) {
		return rs_err_set(err, RS_EINVAL, "bad domain");
	}
	memcpy(a->domain, s + at, len - at);
	a->domain[len - at] = '\0';
	for (size_t k = at; k < len; k++)
		if (p[k] >= 0x80)
			a->utf8 = true;
	return 0;
}

int
rs_addr_parse_mailbox(const char *s, size_t len, unsigned flags,
                      struct rs_addr *a, struct rs_err *err)
{
	if (len > RS_ADDR_PATH_MAX)
		return rs_err_set(err, RS_ETOOBIG, "address too long");
	return rs_addr_mailbox(s, len, flags, a, err);
}

/* The closing '>' of a path, skipping over a quoted local part. */
static size_t
rs_addr_path_end(const char *s, size_t len)
{
	bool q = false;

	for (size_t i = 1; i < len; i++) {
		if (q && s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == '>')
			return i;
	}
	return 0;
}

int
rs_addr_parse_path(const char *s, size_t len, unsigned flags,
                   struct rs_addr *a, size_t *used_r, struct rs_err *err)
{
	size_t end, start = 1;

	memset(a, 0, sizeof(*a));
	if (len == 0 || s[0] != '<')
		return rs_err_set(err, RS_EINVAL, "path must start with <");
	end = rs_addr_path_end(s, len < RS_ADDR_PATH_MAX + 64 ? len
	                                                     : RS_ADDR_PATH_MAX + 64);
	if (end == 0)
		return len > RS_ADDR_PATH_MAX
		           ? rs_err_set(err, RS_ETOOBIG, "path too long")
		           : rs_err_set(err, RS_EINVAL, "path must end with >");
	if (end + 1 > RS_ADDR_PATH_MAX)
		return rs_err_set(err, RS_ETOOBIG, "path too long");
	*used_r = end + 1;
	if (end == 1) {
		if (!(flags & RS_ADDR_ALLOW_NULL))
			return rs_err_set(err, RS_EINVAL, "empty path");
		a->null = true;
		return 0;
	}
	if (s[1] == '@') {
		/* A-d-l ":" — obsolete source route, accepted and ignored. */
		const char *colon = memchr(s + 1, ':', end - 1);

		if (colon == NULL)
			return rs_err_set(err, RS_EINVAL, "bad source route");
		start = (size_t)(colon - s) + 1;
	}
	return rs_addr_mailbox(s + start, end - start, flags, a, err);
}

size_t
rs_addr_key(const struct rs_addr *a, char *buf, size_t size)
{
	int n;

	if (a->null) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	n = snprintf(buf, size, "%s@%s", a->local, a->domain);
	if (n < 0)
		return 0;
	for (int i = 0; i < n && (size_t)i < size; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* True if local can be written as a dot-string without quotes. */
static bool
rs_addr_dot_string(const char *local)
{
	size_t n = strlen(local);

	if (n == 0 || local[0] == '.' || local[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)local[i];

		if (c == '.' ? local[i + 1] == '.' : !(c >= 0x80 || rs_addr_atext(c)))
			return false;
	}
	return true;
}

size_t
rs_addr_format(const struct rs_addr *a, char *buf, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return 0;
	if (a->null) {
		buf[0] = '\0';
		return 0;
	}
	if (rs_addr_dot_string(a->local)) {
		o = (size_t)snprintf(buf, size, "%s", a->local);
	} else {
		buf[o++] = '"';
		for (const char *p = a->local; *p != '\0' && o + 3 < size; p++) {
			if (*p == '"' || *p == '\\')
				buf[o++] = '\\';
			buf[o++] = *p;
		}
		buf[o++] = '"';
		buf[o] = '\0';
	}
	if (o < size)
		o += (size_t)snprintf(buf + o, size - o, "@%s", a->domain);
	return o < size ? o : size - 1;
}
