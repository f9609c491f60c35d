/* mime_header.c: header field iteration and lookup on raw octets, and the
 * HEADER.FIELDS answers. One memchr per line: linear in the header. */
#include <string.h>

#include "node/mime/mime_header.h"

void
mime_header_iter_init(struct mime_header_iter *it, const uint8_t *hdr,
                      size_t len)
{
	it->p = hdr;
	it->len = len;
	it->off = 0;
	it->done = false;
}

/* Offset after the line starting at off (after its LF, or len). */
static size_t
hdr_line_end(const uint8_t *p, size_t len, size_t off)
{
	const uint8_t *nl = memchr(p + off, '\n', len - off);

	return nl == NULL ? len : (size_t)(nl - p) + 1;
}

int
mime_header_iter_next(struct mime_header_iter *it,
                      struct mime_header_field *f)
{
	const uint8_t *p = it->p;

	while (!it->done) {
		size_t start = it->off, end, first, colon;
		const uint8_t *c;

		if (start >= it->len) {
			it->done = true;
			break;
		}
		if (p[start] == '\n' || (p[start] == '\r' &&
		    start + 1 < it->len && p[start + 1] == '\n')) {
			it->off = start + (p[start] == '\n' ? 1 : 2);
			it->done = true;
			break;
		}
		first = end = hdr_line_end(p, it->len, start);
		/* RFC 5322 2.2.3: a line starting with WSP continues. */
		while (end < it->len && (p[end] == ' ' || p[end] == '\t'))
			end = hdr_line_end(p, it->len, end);
		it->off = end;
		c = memchr(p + start, ':', first - start);
		if (c == NULL || p[start] == ' ' || p[start] == '\t')
			continue;    /* not a field: skipped */
		colon = (size_t)(c - p);
		f->name.p = (const char *)p + start;
		f->name.len = colon - start;
		while (f->name.len > 0 && (f->name.p[f->name.len - 1] == ' ' ||
		       f->name.p[f->name.len - 1] == '\t'))
			f->name.len--;
		f->raw = rs_str_make((const char *)p + start, end - start);
		f->value.p = (const char *)p + colon + 1;
		f->value.len = end - colon - 1;
		if (f->value.len > 0 && f->value.p[f->value.len - 1] == '\n')
			f->value.len--;
		if (f->value.len > 0 && f->value.p[f->value.len - 1] == '\r')
			f->value.len--;
		return 1;
	}
	return 0;
}

size_t
mime_header_iter_end(const struct mime_header_iter *it)
{
	return it->off < it->len ? it->off : it->len;
}

size_t
mime_header_len(const uint8_t *msg, size_t len)
{
	size_t off = 0;

	while (off < len) {
		if (msg[off] == '\n')
			return off + 1;
		if (msg[off] == '\r' && off + 1 < len && msg[off + 1] == '\n')
			return off + 2;
		off = hdr_line_end(msg, len, off);
	}
	return len;
}

int
mime_header_find(const uint8_t *hdr, size_t len, const char *name,
                 struct mime_header_field *f)
{
	struct mime_header_iter it;

	mime_header_iter_init(&it, hdr, len);
	while (mime_header_iter_next(&it, f) == 1)
		if (rs_str_ieq_cstr(f->name, name))
			return 0;
	return RS_ENOTFOUND;
}

int
mime_header_unfold(struct rs_str value, struct rs_buf *out)
{
	size_t i = 0, n = value.len, run;
	int rc = 0;

	while (i < n && (value.p[i] == ' ' || value.p[i] == '\t' ||
	       value.p[i] == '\r' || value.p[i] == '\n'))
		i++;
	while (n > i && (value.p[n - 1] == ' ' || value.p[n - 1] == '\t' ||
	       value.p[n - 1] == '\r' || value.p[n - 1] == '\n'))
		n--;
	while (i < n && rc == 0) {
		run = i;
		while (run < n && value.p[run] != '\r' && value.p[run] != '\n')
			run++;
		rc = rs_buf_append(out, value.p + i, run - i);
		i = run;
		while (i < n && (value.p[i] == '\r' || value.p[i] == '\n'))
			i++;
	}
	return rc;
}

int
mime_header_fields(const uint8_t *hdr, size_t len,
                   const struct rs_str *names, size_t n, bool negate,
                   struct rs_buf *out)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	size_t start = out->len;
	int rc = 0;

	mime_header_iter_init(&it, hdr, len);
	while (rc == 0 && mime_header_iter_next(&it, &f) == 1) {
		bool match = false;

		for (size_t i = 0; i < n && !match; i++)
			match = rs_str_ieq(f.name, names[i]);
		if (match == negate)
			continue;
		rc = rs_buf_append(out, f.raw.p, f.raw.len);
		if (rc == 0 && f.raw.p[f.raw.len - 1] != '\n')
			rc = rs_buf_append(out, "\r\n", 2);
	}
	if (rc == 0)
		rc = rs_buf_append(out, "\r\n", 2);
	if (rc != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = 0;
	}
	return rc;
}
