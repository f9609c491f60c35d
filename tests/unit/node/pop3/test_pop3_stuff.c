/* test_pop3_stuff.c: dot-stuffing, CRLF repair and the TOP line limit,
 * fed whole, byte by byte and split at every position. */
#include <stdlib.h>

#include "node/pop3/pop3_stuff.h"
#include "tests/unit/test.h"

/* Runs in through a fresh stuffer in pieces of [0, split) and the rest
 * in steps of step octets; returns the output length. */
static size_t
pop3_stuff_all(const char *in, size_t len, bool top, uint64_t lines,
               size_t split, size_t step, char *out)
{
	struct pop3_stuff st;
	size_t pos = 0, o = 0;

	pop3_stuff_init(&st, top, lines);
	while (pos < len && !pop3_stuff_done(&st)) {
		size_t n = pos < split ? split - pos : step, used = 0, w;

		if (n > len - pos)
			n = len - pos;
		w = pop3_stuff_run(&st, (const uint8_t *)in + pos, n,
		                   (uint8_t *)out + o, &used);
		TEST_ASSERT(w <= pop3_stuff_bound(n));
		TEST_ASSERT(used == n || pop3_stuff_done(&st));
		o += w;
		pos += n;
	}
	o += pop3_stuff_finish(&st, (uint8_t *)out + o);
	out[o] = '\0';
	return o;
}

void
test_pop3_stuff_cases(void)
{
	static const char hdr[] = "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n";
	static const struct {
		const char *in;
		bool top;
		uint64_t lines;
		const char *want;
	} cases[] = {
		{ "", false, 0, ".\r\n" },
		{ "a\r\n", false, 0, "a\r\n.\r\n" },
		{ "a", false, 0, "a\r\n.\r\n" },
		{ ".", false, 0, "..\r\n.\r\n" },
		{ ".\r\n", false, 0, "..\r\n.\r\n" },
		{ "a\r\n.b\r\n..c\r\n", false, 0, "a\r\n..b\r\n...c\r\n.\r\n" },
		{ "a\n.\n", false, 0, "a\r\n..\r\n.\r\n" },
		{ "a\r", false, 0, "a\r\n.\r\n" },
		{ "a\rb", false, 0, "a\rb\r\n.\r\n" },
		{ "a\r.b\r\n", false, 0, "a\r.b\r\n.\r\n" },
		{ "x.\r\n.", false, 0, "x.\r\n..\r\n.\r\n" },
		{ "\r\n.\r\n", false, 0, "\r\n..\r\n.\r\n" },
		{ "\n\n", false, 0, "\r\n\r\n.\r\n" },
		{ hdr, true, 0, "H: 1\r\nH: 2\r\n\r\n.\r\n" },
		{ hdr, true, 2, "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n" },
		{ hdr, true, 3, "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n" },
		{ hdr, true, 10,
		  "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n" },
		{ hdr, false, 1,
		  "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n" },
		{ "H: 1\r\nH: 2", true, 0, "H: 1\r\nH: 2\r\n.\r\n" },
		{ "H: 1\n\n.b1\nb2\n", true, 1, "H: 1\r\n\r\n..b1\r\n.\r\n" },
		{ "H\r\n\r\nb1", true, 5, "H\r\n\r\nb1\r\n.\r\n" },
		{ "H\r\n\r\n\r\n\r\nb\r\n", true, 2,
		  "H\r\n\r\n\r\n\r\n.\r\n" },
		{ "\r\nbody\r\n", true, 0, "\r\n.\r\n" },
		{ ".H: x\r\n\r\n.\r\n", true, 1, "..H: x\r\n\r\n..\r\n.\r\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);
		size_t cap = 2 * len + POP3_STUFF_TAIL_MAX + 1;
		char *out = malloc(cap);

		/* Whole, byte by byte, and split at every position. */
		for (size_t split = 0; split <= len; split++) {
			size_t steps[] = { len + 1, 1, 2 };

			for (size_t k = 0; k < 3; k++) {
				pop3_stuff_all(cases[i].in, len, cases[i].top,
				               cases[i].lines, split,
				               steps[k], out);
				if (strcmp(out, cases[i].want) != 0)
					test_fail(__FILE__, __LINE__,
					          "case %zu split %zu step %zu",
					          i, split, steps[k]);
			}
		}
		free(out);
	}
}

void
test_pop3_stuff_big(void)
{
	/* Dots and bare LFs everywhere: the worst case for the bound. */
	size_t len = 200000;
	char *in = malloc(len), *a = malloc(2 * len + 8), *b;
	size_t na, nb;

	for (size_t i = 0; i < len; i++)
		in[i] = (i % 2) ? '.' : '\n';
	na = pop3_stuff_all(in, len, false, 0, 0, 65536, a);
	b = malloc(2 * len + 8);
	nb = pop3_stuff_all(in, len, false, 0, 0, 1, b);
	TEST_ASSERT(na == nb && memcmp(a, b, na) == 0);
	/* "\n." -> "\r\n.." each: 4 octets per 2 in, then CRLF (the
	 * message ends inside a line) and the terminator. */
	TEST_ASSERT_INTEQ(na, 2 * len + 5);
	/* No "\r\n.\r\n" before the real end. */
	TEST_ASSERT(strstr(a, "\r\n.\r\n") == a + na - 5);
	free(in);
	free(a);
	free(b);
}
