/* mime_keys.c: the parts of the sort keys that are text algorithms: the
 * RFC 5322 date-time (obsolete forms included) and the RFC 5256 base
 * subject. */
#include <ctype.h>
#include <strings.h>

#include "node/mime/mime_int.h"

struct date_tok {
	const char *p;
	size_t len;
};

/* The next run of letters, digits, ':', '+' or '-'; comments, blanks and
 * commas between are skipped. */
static struct date_tok
date_next(const char *p, size_t n, size_t *i)
{
	struct date_tok t = { NULL, 0 };
	int depth = 0;

	while (*i < n) {
		char c = p[*i];

		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (depth == 0 && (isalnum((unsigned char)c) ||
		         c == ':' || c == '+' || c == '-'))
			break;
		(*i)++;
	}
	t.p = p + *i;
	while (*i < n && (isalnum((unsigned char)p[*i]) || p[*i] == ':' ||
	       p[*i] == '+' || p[*i] == '-'))
		(*i)++;
	t.len = (size_t)(p + *i - t.p);
	return t;
}

/* Reads up to max digits from t at *k; -1 if none. */
static int
date_num(struct date_tok t, size_t *k, size_t max)
{
	int v = 0;
	size_t st = *k;

	while (*k < t.len && *k - st < max && isdigit((unsigned char)t.p[*k]))
		v = v * 10 + (t.p[(*k)++] - '0');
	return *k == st ? -1 : v;
}

static int
date_month(struct date_tok t)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	if (t.len < 3)
		return -1;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(t.p, names + 3 * m, 3) == 0)
			return m + 1;
	return -1;
}

/* Minutes east of UTC for the zone token (RFC 5322 4.3 obsolete names;
 * military zones count as 0). */
static int32_t
date_zone(struct date_tok t)
{
	static const struct { const char *n; int h; } names[] = {
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	size_t k = 1;
	int v;

	if (t.len == 5 && (t.p[0] == '+' || t.p[0] == '-') &&
	    (v = date_num(t, &k, 4)) >= 0 && k == 5 && v % 100 < 60)
		return (int32_t)((t.p[0] == '-' ? -1 : 1) * (v / 100 * 60 + v % 100));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (t.len == 3 && strncasecmp(t.p, names[i].n, 3) == 0)
			return (int32_t)(names[i].h * 60);
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
mime__date_parse(const char *p, size_t n, int64_t *t_r, int32_t *tz_r)
{
	size_t i = 0, k = 0;
	struct date_tok t = date_next(p, n, &i);
	int day, mon, year, hh, mm, ss = 0;
	int32_t tz;

	if (t.len > 0 && isalpha((unsigned char)t.p[0]))
		t = date_next(p, n, &i);        /* day-of-week */
	if ((day = date_num(t, &k, 2)) < 1 || day > 31 || k != t.len)
		return -1;
	if ((mon = date_month(date_next(p, n, &i))) < 0)
		return -1;
	t = date_next(p, n, &i);
	k = 0;
	if ((year = date_num(t, &k, 4)) < 0 || k != t.len)
		return -1;
	if (k == 2)   /* RFC 5322 4.3 */
		year += year < 50 ? 2000 : 1900;
	else if (k == 3)
		year += 1900;
	t = date_next(p, n, &i);
	k = 0;
	if ((hh = date_num(t, &k, 2)) < 0 || hh > 23 || k >= t.len ||
	    t.p[k++] != ':' || (mm = date_num(t, &k, 2)) < 0 || mm > 59)
		return -1;
	if (k < t.len && t.p[k] == ':') {
		k++;
		if ((ss = date_num(t, &k, 2)) < 0 || ss > 60)
			return -1;
	}
	tz = date_zone(date_next(p, n, &i));
	*t_r = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 +
	       ss - (int64_t)tz * 60;
	*tz_r = tz;
	return 0;
}

/* Length of a subj-blob "[...]" *WSP at w[s..e), or 0. */
static size_t
blob_len(const char *w, size_t s, size_t e)
{
	size_t i = s + 1;

	if (s >= e || w[s] != '[')
		return 0;
	while (i < e && w[i] != ']' && w[i] != '[')
		i++;
	if (i >= e || w[i] != ']')
		return 0;
	for (i++; i < e && w[i] == ' '; i++)
		;
	return i - s;
}

/* RFC 5256 subj-refwd at w[s..e): ("re" / "fw" / "fwd") *WSP [blob] ":";
 * its length or 0. */
static size_t
refwd_len(const char *w, size_t s, size_t e)
{
	size_t i = s;

	if (e - s >= 3 && strncasecmp(w + s, "fwd", 3) == 0)
		i += 3;
	else if (e - s >= 2 && (strncasecmp(w + s, "re", 2) == 0 ||
	         strncasecmp(w + s, "fw", 2) == 0))
		i += 2;
	else
		return 0;
	while (i < e && w[i] == ' ')
		i++;
	i += blob_len(w, i, e);
	return i < e && w[i] == ':' ? i + 1 - s : 0;
}

/* Steps (3) to (5): leaders and blobs, repeated. A run of blobs not
 * followed by a reply marker goes in one step (all but the last if
 * nothing follows them), so that this stays linear. */
static size_t
strip_leaders(const char *w, size_t s, size_t e, bool *reply)
{
	while (s < e) {
		size_t b = s, last = s, r, bl;

		if (w[s] == ' ') {
			s++;
			continue;
		}
		while ((bl = blob_len(w, b, e)) > 0) {
			last = b;
			b += bl;
		}
		if ((r = refwd_len(w, b, e)) > 0) {
			s = b + r;
			*reply = true;
			continue;
		}
		if (b > s)
			s = b < e ? b : last;
		break;
	}
	return s;
}

void
mime__base_subject(const char *s, size_t n, struct mime_out *out,
                   bool *reply_r)
{
	size_t at = out->buf.len, st, e;
	char *w;

	/* (1) blanks and line breaks become one space, in place in out. */
	for (size_t i = 0; i < n; i++) {
		char c = mime__wsp((uint8_t)s[i]) ? ' ' : s[i];

		if (c == ' ' && (out->buf.len == at ||
		    out->buf.data[out->buf.len - 1] == ' '))
			continue;
		mime__put(out, &c, 1);
		if (out->rc != 0)
			return;
	}
	if (out->buf.len == at)
		return;
	w = (char *)out->buf.data + at;
	st = 0;
	e = out->buf.len - at;
	for (;;) {
		/* (2) trailing "(fwd)" and blanks. */
		for (;;) {
			if (e > st && w[e - 1] == ' ') {
				e--;
			} else if (e - st >= 5 &&
			           strncasecmp(w + e - 5, "(fwd)", 5) == 0) {
				e -= 5;
				*reply_r = true;
			} else {
				break;
			}
		}
		st = strip_leaders(w, st, e, reply_r);
		/* (6) "[fwd:" subject "]" */
		if (e - st >= 6 && strncasecmp(w + st, "[fwd:", 5) == 0 &&
		    w[e - 1] == ']') {
			st += 5;
			e--;
			*reply_r = true;
			continue;
		}
		break;
	}
	memmove(w, w + st, e - st);
	out->buf.len = at + (e - st);
	out->buf.data[out->buf.len] = 0;
}
