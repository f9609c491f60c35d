/* fuzz_pop3_stuff.c: libFuzzer target for node/pop3/pop3_stuff.c. The
 * first byte picks a chunk size and the second TOP's line count (255:
 * RETR). Checks that chunking does not matter, that the output stays in
 * its bound, that no "CRLF . CRLF" appears before the end, and that
 * undoing the stuffing gives back the input (bare LFs as CRLF). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/pop3/pop3_stuff.h"

static size_t
fuzz_stuff(const uint8_t *in, size_t len, size_t step, bool top,
           uint64_t lines, uint8_t *out)
{
	struct pop3_stuff st;
	size_t pos = 0, o = 0;

	pop3_stuff_init(&st, top, lines);
	while (pos < len && !pop3_stuff_done(&st)) {
		size_t n = len - pos < step ? len - pos : step, used, w;

		w = pop3_stuff_run(&st, in + pos, n, out + o, &used);
		if (w > pop3_stuff_bound(n) || (used != n && !st.done))
			abort();
		o += w;
		pos += n;
	}
	return o + pop3_stuff_finish(&st, out + o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *in = data + 2;
	size_t len, na, nb, j = 0;
	uint8_t *a, *b;
	bool top;

	if (size < 2)
		return 0;
	len = size - 2;
	top = data[1] != 255;
	a = malloc(2 * len + POP3_STUFF_TAIL_MAX);
	b = malloc(2 * len + POP3_STUFF_TAIL_MAX);
	na = fuzz_stuff(in, len, len + 1, top, data[1], a);
	nb = fuzz_stuff(in, len, (size_t)data[0] + 1, top, data[1], b);
	if (na != nb || memcmp(a, b, na) != 0 || na < 3 ||
	    memcmp(a + na - 3, ".\r\n", 3) != 0)
		abort();
	if (na > 3 && (na < 5 || memcmp(a + na - 5, "\r\n", 2) != 0))
		abort();
	/* Undo: drop one "." at each line start, CRLF back to the input's
	 * line ending; RETR must give the input back exactly. */
	for (size_t i = 0, bol = 1; i + 3 < na; i++) {
		if (bol && a[i] == '.') {
			if (i + 1 >= na - 3 || a[i + 1] != '.')
				abort();                /* early terminator */
			i++;
		}
		bol = a[i] == '\n';
		if (top)
			continue;
		if (a[i] == '\r' && i + 1 < na && a[i + 1] == '\n' &&
		    (j >= len || in[j] != '\r')) {
			bol = 0;
			continue;                       /* added CR */
		}
		if (j < len && in[j] == a[i])
			j++;
		else if (j != len)
			abort();
	}
	if (!top && j != len)
		abort();
	free(a);
	free(b);
	return 0;
}
