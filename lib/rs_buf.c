/* rs_buf.c: capped byte buffers and slices. */
#include "lib/rs_buf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

void
rs_buf_init(struct rs_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void
rs_buf_free(struct rs_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
rs_buf_reset(struct rs_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int
rs_buf_reserve(struct rs_buf *b, size_t n)
{
	size_t need, cap;

	if (n > b->max || b->len > b->max - n)
		return RS_ETOOBIG;
	need = b->len + n + 1;                 /* + NUL */
	if (need <= b->cap)
		return 0;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	b->data = rs_xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

int
rs_buf_append(struct rs_buf *b, const void *p, size_t n)
{
	int rc = rs_buf_reserve(b, n);

	if (rc != 0)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
rs_buf_append_str(struct rs_buf *b, const char *s)
{
	return rs_buf_append(b, s, strlen(s));
}

int
rs_buf_printf(struct rs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return RS_EINVAL;
	if ((rc = rs_buf_reserve(b, (size_t)n)) != 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
rs_buf_consume(struct rs_buf *b, size_t n)
{
	if (n >= b->len) {
		rs_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

uint8_t *
rs_buf_steal(struct rs_buf *b, size_t *len_r)
{
	uint8_t *p = b->data;

	if (len_r != NULL)
		*len_r = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

struct rs_str
rs_str_cstr(const char *s)
{
	return rs_str_make(s, strlen(s));
}

bool
rs_str_eq(struct rs_str a, struct rs_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool
rs_str_ieq(struct rs_str a, struct rs_str b)
{
	return a.len == b.len && (a.len == 0 || strncasecmp(a.p, b.p, a.len) == 0);
}

bool
rs_str_ieq_cstr(struct rs_str a, const char *s)
{
	return rs_str_ieq(a, rs_str_cstr(s));
}

bool
rs_str_istarts(struct rs_str a, const char *prefix)
{
	size_t n = strlen(prefix);

	return a.len >= n && strncasecmp(a.p, prefix, n) == 0;
}

struct rs_str
rs_str_trim(struct rs_str s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

char *
rs_str_dup(struct rs_str s)
{
	return rs_xmemdup(s.p, s.len);
}

int
rs_str_to_u64(struct rs_str s, uint64_t max, uint64_t *v_r)
{
	uint64_t v = 0;

	if (s.len == 0 || s.len > 20)
		return RS_EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d;

		if (!isdigit((unsigned char)s.p[i]))
			return RS_EINVAL;
		d = (unsigned)(s.p[i] - '0');
		if (v > (max - d) / 10)
			return RS_EINVAL;
		v = v * 10 + d;
	}
	*v_r = v;
	return 0;
}
