/* imap_string.c: the lexical helpers of imap_string.h. Writers go through
 * one sink so that rs_buf and evbuffer output share the code; dates use
 * the proleptic Gregorian calendar in integer arithmetic (no timegm, no
 * locale). */
#include "node/imap/imap_string.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "storage/store.h"

struct imap_string_sink {
	struct rs_buf   *b;
	struct evbuffer *ev;
};

static int
imap_string_put(const struct imap_string_sink *k, const void *p, size_t n)
{
	if (k->b != NULL)
		return rs_buf_append(k->b, p, n);
	return evbuffer_add(k->ev, p, n) == 0 ? 0 : RS_EIO;
}

/* Valid UTF-8 without overlongs, surrogates or values past U+10FFFF. */
static bool
imap_string_utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
		if (k == 0 || c > 0xf4 || n - i <= k)
			return false;
		cp = c & (0x3fu >> k);
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3fu);
		}
		if (cp < (k == 1 ? 0x80u : k == 2 ? 0x800u : 0x10000u) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

enum imap_string_form
imap_string_form(struct rs_str s, unsigned flags, bool atom_ok)
{
	const uint8_t *p = (const uint8_t *)s.p;
	bool atom = atom_ok && s.len > 0, high = false;

	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = p[i];

		if (c == '\0' || c == '\r' || c == '\n')
			return IMAP_STRING_LITERAL;
		if (c >= 0x80)
			high = true;
		if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' ||
		    c == '{' || c == '%' || c == '*' || c == '"' || c == '\\')
			atom = false;
	}
	if (high && ((flags & IMAP_STRING_F_UTF8) == 0 ||
	             !imap_string_utf8_ok(p, s.len)))
		return IMAP_STRING_LITERAL;
	if (atom && !rs_str_ieq_cstr(s, "NIL"))
		return IMAP_STRING_ATOM;
	return IMAP_STRING_QUOTED;
}

static int
imap_string_write(const struct imap_string_sink *k, struct rs_str s,
                  unsigned flags, bool atom_ok)
{
	char hdr[32];
	size_t i = 0;
	int n;

	switch (imap_string_form(s, flags, atom_ok)) {
	case IMAP_STRING_ATOM:
		return imap_string_put(k, s.p, s.len);
	case IMAP_STRING_LITERAL:
		n = snprintf(hdr, sizeof(hdr), "{%zu}\r\n", s.len);
		if (imap_string_put(k, hdr, (size_t)n) != 0)
			return RS_ETOOBIG;
		return imap_string_put(k, s.p, s.len);
	case IMAP_STRING_QUOTED:
		break;
	}
	if (imap_string_put(k, "\"", 1) != 0)
		return RS_ETOOBIG;
	while (i < s.len) {
		size_t j = i;

		while (j < s.len && s.p[j] != '"' && s.p[j] != '\\')
			j++;
		if (imap_string_put(k, s.p + i, j - i) != 0 ||
		    (j < s.len && (imap_string_put(k, "\\", 1) != 0 ||
		                   imap_string_put(k, s.p + j, 1) != 0)))
			return RS_ETOOBIG;
		i = j < s.len ? j + 1 : j;
	}
	return imap_string_put(k, "\"", 1);
}

int
imap_string_quote(struct rs_buf *b, struct rs_str s, unsigned flags)
{
	struct imap_string_sink k = { b, NULL };

	return imap_string_write(&k, s, flags, false);
}

int
imap_string_astring(struct rs_buf *b, struct rs_str s, unsigned flags)
{
	struct imap_string_sink k = { b, NULL };

	return imap_string_write(&k, s, flags, true);
}

int
imap_string_nstring(struct rs_buf *b, struct rs_str s, unsigned flags)
{
	struct imap_string_sink k = { b, NULL };

	if (s.p == NULL)
		return rs_buf_append(b, "NIL", 3);
	return imap_string_write(&k, s, flags, false);
}

void
imap_string_quote_ev(struct evbuffer *out, struct rs_str s, unsigned flags)
{
	struct imap_string_sink k = { NULL, out };

	(void)imap_string_write(&k, s, flags, false);
}

void
imap_string_astring_ev(struct evbuffer *out, struct rs_str s, unsigned flags)
{
	struct imap_string_sink k = { NULL, out };

	(void)imap_string_write(&k, s, flags, true);
}

void
imap_string_nstring_ev(struct evbuffer *out, struct rs_str s, unsigned flags)
{
	struct imap_string_sink k = { NULL, out };

	if (s.p == NULL)
		(void)evbuffer_add(out, "NIL", 3);
	else
		(void)imap_string_write(&k, s, flags, false);
}

static const struct {
	uint32_t    bit;
	const char *name;
} imap_string_flag_names[] = {
	{ STORE_FLAG_SEEN, "\\Seen" },
	{ STORE_FLAG_ANSWERED, "\\Answered" },
	{ STORE_FLAG_FLAGGED, "\\Flagged" },
	{ STORE_FLAG_DELETED, "\\Deleted" },
	{ STORE_FLAG_DRAFT, "\\Draft" },
};

#define IMAP_STRING_NFLAGS \
	(sizeof(imap_string_flag_names) / sizeof(imap_string_flag_names[0]))

const char *
imap_string_flag_name(uint32_t bit)
{
	for (size_t i = 0; i < IMAP_STRING_NFLAGS; i++)
		if (imap_string_flag_names[i].bit == bit)
			return imap_string_flag_names[i].name;
	return NULL;
}

uint32_t
imap_string_flag_bit(struct rs_str name)
{
	for (size_t i = 0; i < IMAP_STRING_NFLAGS; i++)
		if (rs_str_ieq_cstr(name, imap_string_flag_names[i].name))
			return imap_string_flag_names[i].bit;
	return 0;
}

int
imap_string_flags(struct rs_buf *b, uint32_t flags, bool recent,
                  const char *const *kw, size_t nkw)
{
	bool sp = false;
	int rc = rs_buf_append(b, "(", 1);

	for (size_t i = 0; rc == 0 && i < IMAP_STRING_NFLAGS; i++) {
		if ((flags & imap_string_flag_names[i].bit) == 0)
			continue;
		rc = rs_buf_printf(b, "%s%s", sp ? " " : "",
		                   imap_string_flag_names[i].name);
		sp = true;
	}
	if (rc == 0 && recent) {
		rc = rs_buf_printf(b, "%s\\Recent", sp ? " " : "");
		sp = true;
	}
	for (size_t i = 0; rc == 0 && i < nkw; i++) {
		rc = rs_buf_printf(b, "%s%s", sp ? " " : "", kw[i]);
		sp = true;
	}
	return rc == 0 ? rs_buf_append(b, ")", 1) : rc;
}

/* ---- dates ---- */

static const char imap_string_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Days since 1970-01-01 of a Gregorian date (H. Hinnant's algorithm). */
static int64_t
imap_string_days(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
imap_string_civil(int64_t z, int64_t *y_r, unsigned *m_r, unsigned *d_r)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = doy - (153 * mp + 2) / 5 + 1;
	*m_r = mp < 10 ? mp + 3 : mp - 9;
	*y_r = y + (*m_r <= 2);
}

static int64_t
imap_string_floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

char *
imap_string_datetime(char buf[IMAP_STRING_DATETIME_LEN], int64_t t,
                     int32_t tz_min)
{
	int64_t local = t + (int64_t)tz_min * 60, days, y;
	int64_t secs;
	unsigned m, d;
	int32_t tz = tz_min < 0 ? -tz_min : tz_min;
	char tmp[96];

	days = imap_string_floordiv(local, 86400);
	secs = local - days * 86400;
	imap_string_civil(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	/* Every field has its fixed width: exactly 26 characters. */
	snprintf(tmp, sizeof(tmp),
	         "%2u-%s-%04d %02d:%02d:%02d %c%02d%02d", d,
	         imap_string_months[m - 1], (int)y, (int)(secs / 3600),
	         (int)(secs / 60 % 60), (int)(secs % 60),
	         tz_min < 0 ? '-' : '+', (int)(tz / 60 % 100), (int)(tz % 60));
	memcpy(buf, tmp, IMAP_STRING_DATETIME_LEN - 1);
	buf[IMAP_STRING_DATETIME_LEN - 1] = '\0';
	return buf;
}

/* Reads exactly n digits at *p. */
static bool
imap_string_digits(const char **p, const char *e, size_t n, unsigned *v_r)
{
	unsigned v = 0;

	if ((size_t)(e - *p) < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*v_r = v;
	return true;
}

/* "d-Mon-yyyy" with the day as 1 or 2 digits or space-padded. */
static bool
imap_string_dmy(const char **pp, const char *e, int64_t *days_r)
{
	const char *p = *pp;
	unsigned d, y, m = 0;
	static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31,
	                                   30, 31, 30, 31 };

	if (p < e && *p == ' ')
		p++;
	if (!imap_string_digits(&p, e, 1, &d))
		return false;
	if (p < e && *p >= '0' && *p <= '9') {
		d = d * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (e - p < 5 || *p != '-')
		return false;
	for (m = 0; m < 12; m++)
		if (rs_str_ieq_cstr(rs_str_make(p + 1, 3),
		                    imap_string_months[m]))
			break;
	if (m == 12 || p[4] != '-')
		return false;
	p += 5;
	if (!imap_string_digits(&p, e, 4, &y) || d == 0 || d > mdays[m] ||
	    (m == 1 && d == 29 && (y % 4 != 0 ||
	                           (y % 100 == 0 && y % 400 != 0))))
		return false;
	*days_r = imap_string_days(y, m + 1, d);
	*pp = p;
	return true;
}

int
imap_string_date_parse(struct rs_str s, int64_t *t_r)
{
	const char *p = s.p;
	int64_t days;

	if (s.len == 0 || *p == ' ' || !imap_string_dmy(&p, s.p + s.len, &days) ||
	    p != s.p + s.len)
		return RS_EINVAL;
	*t_r = days * 86400;
	return 0;
}

int
imap_string_datetime_parse(struct rs_str s, int64_t *t_r, int32_t *tz_r)
{
	const char *p = s.p, *e = s.p + s.len;
	unsigned hh, mm, ss, zh, zm;
	int64_t days;
	int sign;

	if (!imap_string_dmy(&p, e, &days) || e - p != 15 || *p != ' ')
		return RS_EINVAL;
	p++;
	if (!imap_string_digits(&p, e, 2, &hh) || *p++ != ':' ||
	    !imap_string_digits(&p, e, 2, &mm) || *p++ != ':' ||
	    !imap_string_digits(&p, e, 2, &ss) || *p++ != ' ' ||
	    (*p != '+' && *p != '-'))
		return RS_EINVAL;
	sign = *p++ == '-' ? -1 : 1;
	if (!imap_string_digits(&p, e, 2, &zh) ||
	    !imap_string_digits(&p, e, 2, &zm) || hh > 23 || mm > 59 ||
	    ss > 60 || zm > 59)
		return RS_EINVAL;
	*tz_r = sign * (int32_t)(zh * 60 + zm);
	*t_r = days * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)*tz_r * 60;
	return 0;
}

/* ---- modified UTF-7 ---- */

static const char imap_string_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* A shifted run being written: bits not yet sent as base64. */
struct imap_string_run {
	bool     open;
	uint32_t bits;
	unsigned nbits;
};

static int
imap_string_run_unit(struct rs_buf *b, struct imap_string_run *r,
                     uint16_t u)
{
	if (!r->open) {
		if (rs_buf_append(b, "&", 1) != 0)
			return RS_ETOOBIG;
		r->open = true;
		r->bits = 0;
		r->nbits = 0;
	}
	r->bits = (r->bits << 16 | u) & 0x3fffff;
	r->nbits += 16;
	while (r->nbits >= 6) {
		r->nbits -= 6;
		if (rs_buf_append(b, &imap_string_b64[r->bits >> r->nbits &
		                                      0x3f], 1) != 0)
			return RS_ETOOBIG;
	}
	return 0;
}

/* Closes a run: the last bits zero-padded, then "-". */
static int
imap_string_run_close(struct rs_buf *b, struct imap_string_run *r)
{
	if (!r->open)
		return 0;
	r->open = false;
	if (r->nbits > 0 &&
	    rs_buf_append(b, &imap_string_b64[r->bits << (6 - r->nbits) &
	                                      0x3f], 1) != 0)
		return RS_ETOOBIG;
	return rs_buf_append(b, "-", 1);
}

int
imap_string_mutf7_encode(struct rs_buf *b, struct rs_str utf8)
{
	const uint8_t *s = (const uint8_t *)utf8.p;
	struct imap_string_run run = { false, 0, 0 };
	size_t i = 0;
	int rc = 0;

	if (!imap_string_utf8_ok(s, utf8.len))
		return RS_EINVAL;
	while (rc == 0 && i < utf8.len) {
		uint32_t cp = s[i];
		size_t k = cp < 0x80 ? 0 : cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : 1;

		if (k > 0)
			cp &= 0x3fu >> k;
		for (size_t j = 1; j <= k; j++)
			cp = cp << 6 | (s[i + j] & 0x3fu);
		i += k + 1;
		if (cp >= 0x20 && cp <= 0x7e) {
			rc = imap_string_run_close(b, &run);
			if (rc == 0)
				rc = cp == '&' ? rs_buf_append(b, "&-", 2) :
				     rs_buf_append(b, s + i - 1, 1);
		} else if (cp >= 0x10000) {
			cp -= 0x10000;
			rc = imap_string_run_unit(b, &run,
			                          (uint16_t)(0xd800 | cp >> 10));
			if (rc == 0)
				rc = imap_string_run_unit(b, &run, (uint16_t)
				                          (0xdc00 | (cp & 0x3ff)));
		} else {
			rc = imap_string_run_unit(b, &run, (uint16_t)cp);
		}
	}
	return rc == 0 ? imap_string_run_close(b, &run) : rc;
}

static int
imap_string_b64val(char c)
{
	const char *p = c == '\0' ? NULL : strchr(imap_string_b64, c);

	return p == NULL ? -1 : (int)(p - imap_string_b64);
}

/* Appends one code point as UTF-8. */
static int
imap_string_put_cp(struct rs_buf *b, uint32_t cp)
{
	uint8_t o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (uint8_t)(0xf0 | cp >> 18);
		o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return rs_buf_append(b, o, n);
}

/* One shifted run from after its '&' up to its '-' at *pp. */
static int
imap_string_mutf7_run(struct rs_buf *b, const char **pp, const char *e)
{
	const char *p = *pp;
	uint32_t bits = 0, hi = 0;
	unsigned nbits = 0;
	int v;

	for (; p < e && *p != '-'; p++) {
		if ((v = imap_string_b64val(*p)) < 0)
			return RS_EINVAL;
		bits = (bits << 6 | (uint32_t)v) & 0xffffff;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = bits >> nbits & 0xffff;

		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return RS_EINVAL;
			u = 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00);
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			hi = u;
			continue;
		} else if ((u >= 0xdc00 && u <= 0xdfff) ||
		           (u >= 0x20 && u <= 0x7e)) {
			return RS_EINVAL;
		}
		if (imap_string_put_cp(b, u) != 0)
			return RS_ETOOBIG;
	}
	/* RFC 3501 5.1.3: closed by "-", no dangling unit, zero pad bits. */
	if (p == e || hi != 0 || nbits >= 6 ||
	    (bits & ((1u << nbits) - 1)) != 0)
		return RS_EINVAL;
	*pp = p + 1;
	return 0;
}

int
imap_string_mutf7_decode(struct rs_buf *b, struct rs_str mutf7)
{
	const char *p = mutf7.p, *e = mutf7.p + mutf7.len, *run_end = NULL;
	int rc;

	while (p < e) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c > 0x7e)
			return RS_EINVAL;
		if (c != '&') {
			if (rs_buf_append(b, p++, 1) != 0)
				return RS_ETOOBIG;
			continue;
		}
		if (p + 1 < e && p[1] == '-') {
			if (rs_buf_append(b, "&", 1) != 0)
				return RS_ETOOBIG;
			p += 2;
			continue;
		}
		if (p == run_end)       /* two runs in a row: not minimal */
			return RS_EINVAL;
		p++;
		if ((rc = imap_string_mutf7_run(b, &p, e)) != 0)
			return rc;
		run_end = p;
	}
	return 0;
}

/* ---- LIST patterns ---- */

bool
imap_string_list_match(struct rs_str pattern, struct rs_str name, char delim)
{
	uint8_t a[IMAP_STRING_PATTERN_MAX + 1], b[IMAP_STRING_PATTERN_MAX + 1];
	uint8_t *cur = a, *next = b;
	size_t m = pattern.len;
	const char *pt = pattern.p;

	if (m > IMAP_STRING_PATTERN_MAX)
		return false;
	/* cur[i]: the name read so far can end at pattern position i. A
	 * wildcard may match nothing, so reaching it reaches i + 1. */
	memset(cur, 0, m + 1);
	cur[0] = 1;
	for (size_t i = 0; i < m; i++)
		if (cur[i] && (pt[i] == '*' || pt[i] == '%'))
			cur[i + 1] = 1;
	for (size_t k = 0; k < name.len; k++) {
		char c = name.p[k];
		bool any = false;
		uint8_t *t;

		memset(next, 0, m + 1);
		for (size_t i = 0; i < m; i++) {
			if (!cur[i])
				continue;
			if (pt[i] == '*' || (pt[i] == '%' && (delim == '\0' ||
			                                      c != delim)))
				next[i] = 1;
			else if (pt[i] == c)
				next[i + 1] = 1;
		}
		for (size_t i = 0; i < m; i++)
			if (next[i] && (pt[i] == '*' || pt[i] == '%'))
				next[i + 1] = 1;
		for (size_t i = 0; i <= m && !any; i++)
			any = next[i] != 0;
		if (!any)
			return false;
		t = cur;
		cur = next;
		next = t;
	}
	return cur[m] != 0;
}
