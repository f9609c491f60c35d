/* smtp_data.c: DATA body decoding: terminator, dot-unstuffing, bare CR
 * and LF detection. Inside a line the bytes are moved in runs found with
 * memchr, so the cost is one copy into the output and no per-line
 * allocation. */
#include "node/smtp/smtp_data.h"

#include <string.h>

void
smtp_data_init(struct smtp_data *d, struct rs_buf *out)
{
	memset(d, 0, sizeof(*d));
	d->state = SMTP_DATA_BOL;
	d->out = out;
}

static void
smtp_data_emit(struct smtp_data *d, const void *p, size_t n)
{
	if (d->too_big || n == 0)
		return;
	if (rs_buf_append(d->out, p, n) != 0)
		d->too_big = true;
}

/* Inside a line: consumes a run up to and including the next CR or LF
 * and returns its length (> 0). */
static size_t
smtp_data_run(struct smtp_data *d, const uint8_t *p, size_t n)
{
	const uint8_t *nl = memchr(p, '\n', n);
	size_t run = nl != NULL ? (size_t)(nl - p) : n;
	const uint8_t *cr = memchr(p, '\r', run);

	if (cr != NULL) {
		size_t k = (size_t)(cr - p);

		if (nl != NULL && k + 1 == run) {
			/* The usual case: the line and its CRLF at once. */
			smtp_data_emit(d, p, run + 1);
			d->state = SMTP_DATA_BOL;
			return run + 1;
		}
		/* A CR whose next byte is elsewhere: decided later. */
		smtp_data_emit(d, p, k);
		d->state = SMTP_DATA_CR;
		return k + 1;
	}
	if (nl == NULL) {
		smtp_data_emit(d, p, n);
		return n;
	}
	/* RFC 5321 section 2.3.8: a bare LF is no line end. */
	d->bare = true;
	smtp_data_emit(d, p, run + 1);
	return run + 1;
}

int
smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len,
               size_t *used_r)
{
	size_t i = 0;

	while (i < len && d->state != SMTP_DATA_END) {
		uint8_t c = in[i];

		switch (d->state) {
		case SMTP_DATA_BOL:
			if (c == '.') {
				d->state = SMTP_DATA_DOT;
				i++;
			} else {
				d->state = SMTP_DATA_MID;
			}
			break;
		case SMTP_DATA_DOT:
			/* RFC 5321 section 4.5.2: a leading dot followed by
			 * more is removed; the byte is looked at again. */
			if (c == '\r') {
				d->state = SMTP_DATA_DOT_CR;
				i++;
			} else {
				d->state = SMTP_DATA_MID;
			}
			break;
		case SMTP_DATA_DOT_CR:
			if (c == '\n') {
				d->state = SMTP_DATA_END;
				i++;
			} else {
				d->state = SMTP_DATA_CR; /* ".\r" + more */
			}
			break;
		case SMTP_DATA_CR:
			if (c == '\n') {
				smtp_data_emit(d, "\r\n", 2);
				d->state = SMTP_DATA_BOL;
				i++;
			} else {
				d->bare = true;
				smtp_data_emit(d, "\r", 1);
				d->state = SMTP_DATA_MID;
			}
			break;
		case SMTP_DATA_MID:
			i += smtp_data_run(d, in + i, len - i);
			break;
		case SMTP_DATA_END:
			break;
		}
	}
	*used_r = i;
	d->received += i;
	return d->state == SMTP_DATA_END;
}
