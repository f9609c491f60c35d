/* rs_mem.c: aborting allocators. */
#include "lib/rs_mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static void
rs_mem_oom(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
rs_xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		rs_mem_oom(n);
	return p;
}

void *
rs_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (p == NULL)
		rs_mem_oom(nmemb * size);
	return p;
}

void *
rs_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	if (q == NULL)
		rs_mem_oom(n);
	return q;
}

void *
rs_xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		rs_mem_oom(SIZE_MAX);
	return rs_xrealloc(p, nmemb * size);
}

char *
rs_xstrdup(const char *s)
{
	return rs_xstrndup(s, strlen(s));
}

char *
rs_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = rs_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *
rs_xmemdup(const void *p, size_t n)
{
	char *q = rs_xmalloc(n + 1);

	if (n > 0)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

char *
rs_xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		rs_mem_oom(0);
	p = rs_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
rs_mem_trim_after(size_t n)
{
#ifdef __GLIBC__
	if (n >= RS_MEM_TRIM_ITEMS)
		malloc_trim(0);
#else
	(void)n;
#endif
}
