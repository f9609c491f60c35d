/* rs_rand.c: getrandom(2) wrappers. */
#include "lib/rs_rand.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void
rs_rand_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fatal: getrandom failed\n");
			abort();
		}
		p += r;
		n -= (size_t)r;
	}
}

void
rs_rand_hex(char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t n;

	if (size == 0)
		return;
	n = size - 1;
	if (n > 2 * sizeof(raw))
		n = 2 * sizeof(raw);
	rs_rand_bytes(raw, (n + 1) / 2);
	for (size_t i = 0; i < n; i++)
		buf[i] = hex[(raw[i / 2] >> ((i & 1) ? 0 : 4)) & 0xf];
	buf[n] = '\0';
}

uint64_t
rs_rand_u64(void)
{
	uint64_t v;

	rs_rand_bytes(&v, sizeof(v));
	return v;
}
