/* fuzz_smtp_data.c: libFuzzer target for node/smtp/smtp_data.c. The first
 * byte n (mod 8) and the n bytes after it are chunk sizes, used in turn;
 * the rest, followed by a terminator so that every input ends, is the
 * DATA stream. The decoder's result, fed chunk by chunk, must equal a
 * simple reference decoder's on the whole input: the message ends at the
 * first CRLF "." CRLF (the stream starts at a line start), lines split at
 * CRLF lose one leading dot, and any CR not before LF or LF not after CR
 * is "bare". A second run with a small cap checks the size limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/smtp/smtp_data.h"

struct fuzz_ref {
	size_t used;            /* octets up to and including the terminator */
	bool   bare;
};

static void
fuzz_ref(const uint8_t *in, size_t len, struct rs_buf *out,
         struct fuzz_ref *r)
{
	size_t end = 0, bol = 0;
	bool found = false;

	/* The stream is preceded by the DATA line's CRLF. */
	if (len >= 3 && memcmp(in, ".\r\n", 3) == 0) {
		found = true;
	} else {
		for (size_t i = 0; i + 5 <= len; i++)
			if (memcmp(in + i, "\r\n.\r\n", 5) == 0) {
				end = i + 2;
				found = true;
				break;
			}
	}
	if (!found)
		abort();                /* the caller appended one */
	r->used = end + 3;
	r->bare = false;
	for (size_t i = 0; i < end; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			r->bare = true;
		if (in[i] == '\r' && in[i + 1] != '\n')
			r->bare = true;
	}
	/* Lines split at CRLF; a leading dot goes. */
	while (bol < end) {
		size_t eol = bol;

		while (eol + 1 < end && !(in[eol] == '\r' && in[eol + 1] == '\n'))
			eol++;
		eol = eol + 1 < end ? eol + 2 : end;
		if (in[bol] == '.')
			bol++;
		if (rs_buf_append(out, in + bol, eol - bol) != 0)
			abort();
		bol = eol;
	}
}

static int
fuzz_dec(const uint8_t *in, size_t len, const uint8_t *steps, size_t nsteps,
         struct rs_buf *out, struct smtp_data *d)
{
	size_t off = 0, k = 0;
	int rc = 0;

	smtp_data_init(d, out);
	while (off < len && rc == 0) {
		size_t step = nsteps > 0 ? (size_t)steps[k++ % nsteps] + 1 : len;
		size_t n = len - off < step ? len - off : step, used = 0;

		rc = smtp_data_feed(d, in + off, n, &used);
		if (used > n || (rc == 0 && used != n))
			abort();
		off += used;
	}
	if (d->received != off)
		abort();
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_buf in, want, got;
	struct smtp_data d;
	struct fuzz_ref ref;
	size_t nsteps;

	if (size < 1)
		return 0;
	nsteps = data[0] % 8;
	if (size < 1 + nsteps)
		return 0;
	rs_buf_init(&in, RS_BUF_UNLIMITED);
	rs_buf_init(&want, RS_BUF_UNLIMITED);
	rs_buf_init(&got, RS_BUF_UNLIMITED);
	if (rs_buf_append(&in, data + 1 + nsteps, size - 1 - nsteps) != 0 ||
	    rs_buf_append(&in, "\r\n.\r\n", 5) != 0)
		abort();
	fuzz_ref(in.data, in.len, &want, &ref);
	if (fuzz_dec(in.data, in.len, data + 1, nsteps, &got, &d) != 1 ||
	    d.received != ref.used || d.bare != ref.bare || d.too_big ||
	    got.len != want.len ||
	    (got.len > 0 && memcmp(got.data, want.data, got.len) != 0))
		abort();
	/* Capped: the end is still found; what was kept is a prefix. */
	rs_buf_free(&got);
	rs_buf_init(&got, want.len / 2);
	if (fuzz_dec(in.data, in.len, data + 1, nsteps, &got, &d) != 1 ||
	    d.received != ref.used || d.bare != ref.bare ||
	    d.too_big != (want.len > want.len / 2) || got.len > want.len / 2 ||
	    (got.len > 0 && memcmp(got.data, want.data, got.len) != 0))
		abort();
	rs_buf_free(&in);
	rs_buf_free(&want);
	rs_buf_free(&got);
	return 0;
}
