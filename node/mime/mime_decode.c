/* mime_decode.c: streaming base64 and quoted-printable decoders, the
 * decoded size, charset conversion to UTF-8 and RFC 2047 encoded-words.
 * Lenient as Dovecot is: junk in base64 is skipped, a bad "=" sequence in
 * quoted-printable is kept literally. */
#include <string.h>

#include "lib/rs_addr.h"
#include "node/mime/mime_decode.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum {
	QP_TEXT = 0, QP_CR, QP_EQ, QP_EQ_HEX, QP_EQ_WS, QP_EQ_CR,
};

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* base64 alphabet value + 1 of the ASCII octets; 0: not in it. */
static const uint8_t b64tab[128] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0,  0,  0, 64,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,  0,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0,  0,
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
};

static int
b64val(uint8_t c)
{
	return c < 128 ? b64tab[c] - 1 : -1;
}

void
mime_decoder_init(struct mime_decoder *d, enum mime_cte cte)
{
	memset(d, 0, sizeof(*d));
	d->cte = (uint8_t)cte;
}

static size_t
qp_flush(struct mime_decoder *d, uint8_t *out)
{
	size_t n = d->npend;

	memcpy(out, d->pend, n);
	d->npend = 0;
	return n;
}

/* One octet of quoted-printable in the text state. */
static size_t
qp_text(struct mime_decoder *d, uint8_t c, uint8_t *out)
{
	size_t o = 0;

	switch (c) {
	case ' ':
	case '\t':
		/* RFC 2045 6.7 (3): blanks at the end of a line are
		 * transport padding, so they wait for what follows. */
		if (d->npend == MIME_DECODER_PEND)
			o = qp_flush(d, out);
		d->pend[d->npend++] = c;
		return o;
	case '\r':
		d->state = QP_CR;
		return 0;
	case '\n':
		d->npend = 0;
		out[0] = '\n';
		return 1;
	case '=':
		o = qp_flush(d, out);
		d->state = QP_EQ;
		return o;
	default:
		o = qp_flush(d, out);
		out[o++] = c;
		return o;
	}
}

static size_t
qp_byte(struct mime_decoder *d, uint8_t c, uint8_t *out)
{
	size_t o = 0;

	switch (d->state) {
	case QP_CR:
		d->state = QP_TEXT;
		if (c == '\n') {
			d->npend = 0;
			out[0] = '\r';
			out[1] = '\n';
			return 2;
		}
		o = qp_flush(d, out);
		out[o++] = '\r';
		return o + qp_text(d, c, out + o);
	case QP_EQ:
		d->state = QP_TEXT;
		if (hexval(c) >= 0) {
			d->hex = c;
			d->state = QP_EQ_HEX;
		} else if (c == ' ' || c == '\t') {
			d->pend[0] = '=';
			d->pend[1] = c;
			d->npend = 2;
			d->state = QP_EQ_WS;
		} else if (c == '\r') {
			d->state = QP_EQ_CR;
		} else if (c != '\n') {      /* "=\n" is a soft break */
			out[0] = '=';
			return 1 + qp_text(d, c, out + 1);
		}
		return 0;
	case QP_EQ_HEX:
		d->state = QP_TEXT;
		if (hexval(c) >= 0) {
			out[0] = (uint8_t)(hexval(d->hex) << 4 | hexval(c));
			return 1;
		}
		out[0] = '=';
		out[1] = d->hex;
		return 2 + qp_text(d, c, out + 2);
	case QP_EQ_WS:
		if ((c == ' ' || c == '\t') && d->npend < MIME_DECODER_PEND) {
			d->pend[d->npend++] = c;
			return 0;
		}
		d->state = QP_TEXT;
		if (c == '\r' || c == '\n') {   /* "=" blanks CRLF: soft */
			d->npend = 0;
			d->state = c == '\r' ? QP_EQ_CR : QP_TEXT;
			return 0;
		}
		o = qp_flush(d, out);
		return o + qp_text(d, c, out + o);
	case QP_EQ_CR:
		d->state = QP_TEXT;
		return c == '\n' ? 0 : qp_text(d, c, out);
	default:
		return qp_text(d, c, out);
	}
}

static size_t
b64_run(struct mime_decoder *d, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64val(in[i]);

		if (v < 0) {
			if (in[i] != '=')
				continue;       /* line breaks, junk */
			/* Padding ends a quantum; a later one may follow
			 * (concatenated encodings). */
			if (d->nbits >= 2)
				out[o++] = (uint8_t)(d->bits >> ((d->nbits - 1) * 6 - 2));
			if (d->nbits == 3)
				out[o++] = (uint8_t)(d->bits >> 2);
			d->bits = 0;
			d->nbits = 0;
			continue;
		}
		d->bits = d->bits << 6 | (uint32_t)v;
		if (++d->nbits == 4) {
			out[o++] = (uint8_t)(d->bits >> 16);
			out[o++] = (uint8_t)(d->bits >> 8);
			out[o++] = (uint8_t)d->bits;
			d->bits = 0;
			d->nbits = 0;
		}
	}
	return o;
}

size_t
mime_decoder_run(struct mime_decoder *d, const uint8_t *in, size_t len,
                 uint8_t *out)
{
	size_t o = 0;

	switch (d->cte) {
	case MIME_CTE_BASE64:
		return b64_run(d, in, len, out);
	case MIME_CTE_QP:
		for (size_t i = 0; i < len; i++)
			o += qp_byte(d, in[i], out + o);
		return o;
	default:
		if (len > 0)
			memcpy(out, in, len);
		return len;
	}
}

size_t
mime_decoder_finish(struct mime_decoder *d, uint8_t *out)
{
	size_t o = 0;

	if (d->cte == MIME_CTE_BASE64) {
		o = b64_run(d, (const uint8_t *)"=", 1, out);
	} else if (d->cte == MIME_CTE_QP) {
		if (d->state == QP_CR) {
			out[o++] = '\r';
		} else if (d->state == QP_EQ) {
			out[o++] = '=';
		} else if (d->state == QP_EQ_HEX) {
			out[o++] = '=';
			out[o++] = d->hex;
		}
		d->npend = 0;   /* blanks ending the body are padding */
	}
	d->state = QP_TEXT;
	return o;
}

int
mime_decoder_feed(struct mime_decoder *d, const uint8_t *in, size_t len,
                  struct rs_buf *out)
{
	while (len > 0) {
		size_t n = len > 65536 ? 65536 : len;
		int rc = rs_buf_reserve(out, mime_decoder_bound(n));

		if (rc != 0)
			return rc;
		out->len += mime_decoder_run(d, in, n, out->data + out->len);
		out->data[out->len] = 0;
		in += n;
		len -= n;
	}
	return 0;
}

int
mime_decoder_end(struct mime_decoder *d, struct rs_buf *out)
{
	uint8_t tmp[MIME_DECODER_FINISH_MAX];
	size_t n = mime_decoder_finish(d, tmp);

	return rs_buf_append(out, tmp, n);
}

uint64_t
mime_decoded_size(enum mime_cte cte, const uint8_t *body, size_t len)
{
	struct mime_decoder d;
	uint8_t out[4096 + MIME_DECODER_PEND + 4];
	uint64_t total = 0;

	if (cte != MIME_CTE_BASE64 && cte != MIME_CTE_QP)
		return len;
	mime_decoder_init(&d, cte);
	for (size_t off = 0; off < len; off += 4096) {
		size_t n = len - off > 4096 ? 4096 : len - off;

		total += mime_decoder_run(&d, body + off, n, out);
	}
	return total + mime_decoder_finish(&d, out);
}

static const struct {
	const char *name;
	enum mime_charset cs;
} charsets[] = {
	{ "utf-8", MIME_CHARSET_UTF8 }, { "utf8", MIME_CHARSET_UTF8 },
	{ "us-ascii", MIME_CHARSET_ASCII }, { "ascii", MIME_CHARSET_ASCII },
	{ "ansi_x3.4-1968", MIME_CHARSET_ASCII },
	{ "iso-8859-1", MIME_CHARSET_LATIN1 },
	{ "iso8859-1", MIME_CHARSET_LATIN1 },
	{ "iso_8859-1", MIME_CHARSET_LATIN1 }, { "latin1", MIME_CHARSET_LATIN1 },
	{ "l1", MIME_CHARSET_LATIN1 },
	{ "windows-1252", MIME_CHARSET_CP1252 },
	{ "cp1252", MIME_CHARSET_CP1252 }, { "x-cp1252", MIME_CHARSET_CP1252 },
};

enum mime_charset
mime_charset_lookup(const char *name, size_t len)
{
	const char *star = memchr(name, '*', len);

	if (star != NULL)
		len = (size_t)(star - name);    /* RFC 2231 section 5 */
	for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
		if (rs_str_ieq_cstr(rs_str_make(name, len), charsets[i].name))
			return charsets[i].cs;
	return MIME_CHARSET_UNKNOWN;
}

/* Windows-1252 0x80..0x9f; the five unassigned octets map to C1. */
static const uint16_t cp1252[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static size_t
utf8_put(uint8_t *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	o[0] = (uint8_t)(0xe0 | cp >> 12);
	o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp & 0x3f));
	return 3;
}

int
mime_charset_to_utf8(enum mime_charset cs, const uint8_t *s, size_t n,
                     struct rs_buf *out)
{
	size_t i = 0;
	int rc = 0;

	if (cs == MIME_CHARSET_UNKNOWN)
		return RS_EINVAL;
	while (i < n && rc == 0) {
		size_t run = i, k;
		uint8_t u[4];
		unsigned cp = 0xfffd;

		while (run < n && s[run] < 0x80)
			run++;
		if (run > i)
			rc = rs_buf_append(out, s + i, run - i);
		i = run;
		if (i >= n || rc != 0)
			break;
		if (cs == MIME_CHARSET_UTF8) {
			k = rs_utf8_seq_len(s + i, n - i);
			if (k > 0) {
				rc = rs_buf_append(out, s + i, k);
				i += k;
				continue;
			}
		} else if (cs == MIME_CHARSET_LATIN1) {
			cp = s[i];
		} else if (cs == MIME_CHARSET_CP1252) {
			cp = s[i] >= 0xa0 ? s[i] : cp1252[s[i] - 0x80];
		}
		rc = rs_buf_append(out, u, utf8_put(u, cp));
		i++;
	}
	return rc;
}

#define EW_MAX 2048              /* longest encoded-word read */

/* An encoded-word "=?charset?E?text?=" at s[0..n): 1 with its parts and
 * *len_r, or 0. RFC 2047 section 2: no blanks inside. */
static int
ew_parse(const char *s, size_t n, struct rs_str *cs, char *enc,
         struct rs_str *text, size_t *len_r)
{
	size_t i = 2, q;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	while (i < n && s[i] != '?' && !is_blank(s[i]) && i < 80)
		i++;
	if (i + 3 >= n || s[i] != '?' || i == 2 || s[i + 2] != '?')
		return 0;
	*cs = rs_str_make(s + 2, i - 2);
	*enc = (char)(s[i + 1] | 0x20);
	if (*enc != 'b' && *enc != 'q')
		return 0;
	q = i + 3;
	/* RFC 2047 2 allows 75 octets; longer ones exist, but a bound
	 * keeps a field of "=?" without "?=" linear. */
	for (i = q; i + 1 < n && i < EW_MAX; i++) {
		if (is_blank(s[i]))
			return 0;
		if (s[i] == '?' && s[i + 1] == '=') {
			*text = rs_str_make(s + q, i - q);
			*len_r = i + 2;
			return 1;
		}
	}
	return 0;
}

/* Decodes the text of an encoded-word and appends the raw octets. */
static int
ew_decode(char enc, struct rs_str text, struct rs_buf *raw)
{
	struct mime_decoder d;
	int rc;

	if (enc == 'b') {
		mime_decoder_init(&d, MIME_CTE_BASE64);
		rc = mime_decoder_feed(&d, (const uint8_t *)text.p, text.len, raw);
		return rc != 0 ? rc : mime_decoder_end(&d, raw);
	}
	for (size_t i = 0; i < text.len; i++) {
		uint8_t c = (uint8_t)text.p[i];

		if (c == '_') {
			c = ' ';        /* RFC 2047 4.2 (2) */
		} else if (c == '=' && i + 2 < text.len &&
		           hexval((uint8_t)text.p[i + 1]) >= 0 &&
		           hexval((uint8_t)text.p[i + 2]) >= 0) {
			c = (uint8_t)(hexval((uint8_t)text.p[i + 1]) << 4 |
			              hexval((uint8_t)text.p[i + 2]));
			i += 2;
		}
		rc = rs_buf_append(raw, &c, 1);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Converts the pending decoded octets of adjacent words (one charset)
 * and empties raw. */
static int
ew_flush(enum mime_charset cs, struct rs_buf *raw, struct rs_buf *out)
{
	int rc = 0;

	if (raw->len > 0)
		rc = mime_charset_to_utf8(cs, raw->data, raw->len, out);
	rs_buf_reset(raw);
	return rc;
}

/* Appends s[0..n) without CR and LF. */
static int
append_unfolded(const char *s, size_t n, struct rs_buf *out)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (s[i] != '\r' && s[i] != '\n')
			rc = rs_buf_append(out, s + i, 1);
	return rc;
}

int
mime_decode_2047(const char *s, size_t n, struct rs_buf *out)
{
	struct rs_buf raw;
	enum mime_charset pcs = MIME_CHARSET_UNKNOWN;
	size_t i = 0, lit = 0;  /* s[lit..i) not yet copied */
	bool after_word = false;
	int rc = 0;

	if (n == 0)
		return 0;
	rs_buf_init(&raw, n + MIME_DECODER_PEND + 8);
	while (i < n && rc == 0) {
		struct rs_str cs, text;
		char enc;
		size_t wl;
		enum mime_charset c;

		if (s[i] != '=' || !ew_parse(s + i, n - i, &cs, &enc, &text, &wl) ||
		    (c = mime_charset_lookup(cs.p, cs.len)) == MIME_CHARSET_UNKNOWN) {
			i++;
			continue;
		}
		/* RFC 2047 section 6.2: blanks between two encoded-words
		 * are dropped; anything else is text. */
		bool only_blank = after_word;

		for (size_t k = lit; k < i && only_blank; k++)
			only_blank = is_blank(s[k]);
		if (!only_blank || c != pcs) {
			rc = ew_flush(pcs, &raw, out);
			if (rc == 0 && !only_blank)
				rc = append_unfolded(s + lit, i - lit, out);
		}
		pcs = c;
		if (rc == 0)
			rc = ew_decode(enc, text, &raw);
		i += wl;
		lit = i;
		after_word = true;
	}
	if (rc == 0)
		rc = ew_flush(pcs, &raw, out);
	if (rc == 0)
		rc = append_unfolded(s + lit, n - lit, out);
	rs_buf_free(&raw);
	return rc;
}
