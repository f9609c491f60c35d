/* rs_mem.h: allocation that never returns NULL.
 * Out of memory aborts (as Postfix's mymalloc does): callers never test for
 * NULL, and multiplications are checked for overflow. */
#ifndef ROOST_LIB_RS_MEM_H
#define ROOST_LIB_RS_MEM_H

#include <stddef.h>

void *rs_xmalloc(size_t n);
void *rs_xcalloc(size_t nmemb, size_t size);
void *rs_xrealloc(void *p, size_t n);
void *rs_xreallocarray(void *p, size_t nmemb, size_t size);
char *rs_xstrdup(const char *s);
char *rs_xstrndup(const char *s, size_t n);
/* Returns owned copy of n bytes plus a terminating NUL. */
void *rs_xmemdup(const void *p, size_t n);
/* Returns an owned printf-formatted string. */
char *rs_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* After freeing a large transient structure at once (a coordination
 * range of n entries: the directory at start is 100,000 accounts and some
 * 40 MB of copies): gives the freed pages back to the system when n is
 * at least RS_MEM_TRIM_ITEMS, rather than keeping them as the process's
 * high-water mark. */
#define RS_MEM_TRIM_ITEMS 10000
void rs_mem_trim_after(size_t n);

/* Frees *pp and sets it to NULL; NULL-safe. */
#define RS_FREE(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

#endif
