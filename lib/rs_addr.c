/* rs_addr.c: RFC 5321 path and mailbox parsing. The grammar is small
 * enough to walk by hand; every length is checked against the RFC 5321
 * section 4.5.3.1 limits before a byte is copied. */
#include "lib/rs_addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* Address literal, RFC 5321 section 4.1.3: "[IPv4]", "[IPv6:addr]" or a
 * general "[tag:content]". Content stricter than the RFC's dcontent: no
 * '"', '<' or '>', so that a literal never confuses path scanning. */
static bool
rs_addr_literal_ok(const char *s, size_t len)
{
	char buf[RS_ADDR_DOMAIN_MAX + 1];
	unsigned char bin[16];
	const char *colon;

	if (len < 3 || len > RS_ADDR_DOMAIN_MAX || s[0] != '[' ||
	    s[len - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
			return false;             /* also keeps NULs out of buf */
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1)
		return true;
	if (strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, bin) == 1;
	colon = strchr(buf, ':');
	if (colon == NULL || colon == buf ||
	    !rs_addr_domain_ok(buf, (size_t)(colon - buf), false) ||
	    colon[1] == '\0')
		return false;
	for (const char *p = colon + 1; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 33 || c > 126 || strchr("[]\\\"<>", c) != NULL)
			return false;
	}
	return true;
}

/* Appends one local-part character, or a whole UTF-8 sequence starting
 * at p[*i], to a->local (*o octets so far). 0 or -1 with err. */
static int
rs_addr_local_put(struct rs_addr *a, const unsigned char *p, size_t len,
                  size_t *i, size_t *o, bool utf8, struct rs_err *err)
{
	size_t n = 1;

	if (p[*i] >= 0x80) {
		n = utf8 ? rs_utf8_seq_len(p + *i, len - *i) : 0;
		if (n == 0)
			return rs_err_set(err, RS_EINVAL, "8-bit local part");
		a->utf8 = true;
	}
	if (*o + n > RS_ADDR_LOCAL_MAX)
		return rs_err_set(err, RS_ETOOBIG, "local part too long");
	memcpy(a->local + *o, p + *i, n);
	*o += n;
	*i += n - 1;
	return 0;
}

/* Quoted-string local part (qtextSMTP / quoted-pairSMTP) from p[0] == '"';
 * *i ends after the closing quote. */
static int
rs_addr_quoted(struct rs_addr *a, const unsigned char *p, size_t len,
               size_t *i, size_t *o, bool utf8, struct rs_err *err)
{
	a->quoted = true;
	for (*i = 1; *i < len && p[*i] != '"'; (*i)++) {
		if (p[*i] == '\\') {
			if (++(*i) >= len || p[*i] < 32 || p[*i] > 126)
				return rs_err_set(err, RS_EINVAL, "bad quoted pair");
		} else if (p[*i] < 32 || p[*i] == 127) {
			return rs_err_set(err, RS_EINVAL,
			                  "bad character in quoted local part");
		}
		if (rs_addr_local_put(a, p, len, i, o, utf8, err) != 0)
			return -1;
	}
	if (*i >= len)
		return rs_err_set(err, RS_EINVAL, "unterminated quote");
	/* Legal but useless, and its key would be the catch-all's. */
	if (*o == 0)
		return rs_err_set(err, RS_EINVAL, "empty local part");
	(*i)++;
	return 0;
}

/* Dot-string local part: atoms separated by single dots; *i ends at '@'
 * or len. */
static int
rs_addr_dotted(struct rs_addr *a, const unsigned char *p, size_t len,
               size_t *i, size_t *o, bool utf8, struct rs_err *err)
{
	bool need_atom = true;

	for (*i = 0; *i < len && p[*i] != '@'; (*i)++) {
		if (p[*i] == '.') {
			if (need_atom)
				return rs_err_set(err, RS_EINVAL,
				                  "empty atom in local part");
			need_atom = true;
		} else if (p[*i] >= 0x80 || rs_addr_atext(p[*i])) {
			need_atom = false;
		} else {
			return rs_err_set(err, RS_EINVAL,
			                  "bad character in local part");
		}
		if (rs_addr_local_put(a, p, len, i, o, utf8, err) != 0)
			return -1;
	}
	if (need_atom)
		return rs_err_set(err, RS_EINVAL, "bad local part");
	return 0;
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
	int rc;

	memset(a, 0, sizeof(*a));
	if (len > 0 && p[0] == '"')
		rc = rs_addr_quoted(a, p, len, &i, &o, utf8, err);
	else
		rc = rs_addr_dotted(a, p, len, &i, &o, utf8, err);
	if (rc != 0)
		return -1;
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
	/* A path carries at most 254 octets of mailbox (4.5.3.1.3 counts
	 * the brackets): anything longer could never be reached by SMTP. */
	if (len > RS_ADDR_PATH_MAX - 2)
		return rs_err_set(err, RS_ETOOBIG, "address too long");
	return rs_addr_mailbox(s, len, flags, a, err);
}

/* Skips an obsolete source route "@d1,@d2:" (RFC 5321 4.1.2, accepted and
 * ignored, but each domain must be one). Returns the offset after ':' or
 * 1 when there is none; 0 on a bad route. */
static size_t
rs_addr_route_end(const char *s, size_t len)
{
	size_t i = 1;

	if (len < 2 || s[1] != '@')
		return 1;
	for (;;) {
		size_t start = ++i;               /* past '@' */

		while (i < len && s[i] != ',' && s[i] != ':')
			i++;
		if (i >= len || !rs_addr_domain_ok(s + start, i - start, false))
			return 0;
		if (s[i] == ':')
			return i + 1;
		if (++i >= len || s[i] != '@')   /* past ',' */
			return 0;
	}
}

/* The closing '>' of a path: quotes count only in the local part. */
static size_t
rs_addr_path_end(const char *s, size_t len, size_t start)
{
	size_t i = start;

	if (i < len && s[i] == '"') {
		for (i++; i < len && s[i] != '"'; i++)
			if (s[i] == '\\')
				i++;
		if (i >= len)
			return 0;
	}
	for (; i < len; i++)
		if (s[i] == '>')
			return i;
	return 0;
}

int
rs_addr_parse_path(const char *s, size_t len, unsigned flags,
                   struct rs_addr *a, size_t *used_r, struct rs_err *err)
{
	size_t end, start, scan;

	memset(a, 0, sizeof(*a));
	if (len == 0 || s[0] != '<')
		return rs_err_set(err, RS_EINVAL, "path must start with <");
	scan = len < RS_ADDR_PATH_MAX + 64 ? len : RS_ADDR_PATH_MAX + 64;
	if ((start = rs_addr_route_end(s, scan)) == 0)
		return rs_err_set(err, RS_EINVAL, "bad source route");
	end = rs_addr_path_end(s, scan, start);
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
