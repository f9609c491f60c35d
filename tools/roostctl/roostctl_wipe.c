/* roostctl_wipe.c: allocators for libcurl and Jansson that clear memory
 * before freeing it. Passwords pass through Jansson (the request body) and
 * the token through libcurl (the header list, the request buffer); with
 * these, neither lingers in freed heap. Our own buffers are wiped where
 * they are used; this covers the libraries' internal copies. */
#include "tools/roostctl/roostctl_wipe.h"

#include <curl/curl.h>
#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static void
roostctl_wipe_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *
roostctl_wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	/* realloc may move the block and free the old one unwiped, so move
	 * it ourselves. */
	q = malloc(n != 0 ? n : 1);
	if (q == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	roostctl_wipe_free(p);
	return q;
}

static char *
roostctl_wipe_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

int
roostctl_wipe_init(void)
{
	json_set_alloc_funcs(malloc, roostctl_wipe_free);
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc,
	                         roostctl_wipe_free, roostctl_wipe_realloc,
	                         roostctl_wipe_strdup, calloc) != CURLE_OK)
		return -1;
	return 0;
}

void
roostctl_wipe_cleanup(void)
{
	curl_global_cleanup();
}
