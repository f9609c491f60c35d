/* fuzz_pop3_parser.c: libFuzzer target for node/pop3/pop3_parser.c.
 * The first input byte picks a chunk size, so lines split at arbitrary
 * places; "AUTH x" switches to the SASL line as the session does. Checks
 * the parser's promises: consumption, limits, no CR or NUL in a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/pop3/pop3_parser.h"

static void
fuzz_check_slice(struct rs_str s, size_t max)
{
	if (s.len > max || (s.len > 0 && (memchr(s.p, '\r', s.len) != NULL ||
	                                  memchr(s.p, '\n', s.len) != NULL ||
	                                  memchr(s.p, '\0', s.len) != NULL)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_parser *p;
	size_t step, pos = 1;

	if (size == 0)
		return 0;
	step = (size_t)data[0] + 1;
	p = pop3_parser_new();
	while (pos < size) {
		size_t n = size - pos < step ? size - pos : step, off = 0;

		while (off < n) {
			struct pop3_cmd cmd;
			struct rs_err err;
			size_t used = 0;
			int rc = pop3_parser_feed(p, data + pos + off, n - off,
			                          &used, &cmd, &err);

			if (used > n - off || (rc == 0 && used != n - off) ||
			    (rc != 0 && used == 0))
				abort();
			off += used;
			if (rc < 0 && err.msg[0] == '\0')
				abort();
			if (rc != 1)
				continue;
			if (cmd.verb <= POP3_VERB_NONE ||
			    cmd.verb >= POP3_VERB_COUNT ||
			    cmd.nargs > POP3_ARGS_MAX)
				abort();
			for (size_t a = 0; a < cmd.nargs; a++) {
				fuzz_check_slice(cmd.args[a], POP3_PASS_MAX);
				if (cmd.args[a].len == 0)
					abort();
			}
			fuzz_check_slice(cmd.rest, POP3_SASL_LINE_MAX);
			if (cmd.verb == POP3_VERB_AUTH && cmd.nargs == 1)
				pop3_parser_set_sasl(p);
			if (cmd.verb == POP3_VERB_PASS)
				pop3_parser_wipe(p);
		}
		pos += n;
	}
	pop3_parser_free(&p);
	return 0;
}
