/* imap_fetch_sort.c: SORT's comparison (RFC 5256 3): strings by the
 * i;ascii-casemap collation, numbers ascending, REVERSE per criterion,
 * and the sequence number last so that the order is total. No I/O. */
#include <stdlib.h>
#include <string.h>

#include "node/imap/imap_fetch_sort.h"

struct imap_fetch_sort_ctx {
	const struct imap_fetch_sort_crit *crit;
	size_t ncrit;
};

static int
imap_fetch_sort_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* i;ascii-casemap (RFC 4790 9.2). */
static int
imap_fetch_sort_str(struct rs_str a, struct rs_str b)
{
	size_t n = a.len < b.len ? a.len : b.len;

	for (size_t i = 0; i < n; i++) {
		int x = imap_fetch_sort_lower((unsigned char)a.p[i]);
		int y = imap_fetch_sort_lower((unsigned char)b.p[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return a.len == b.len ? 0 : a.len < b.len ? -1 : 1;
}

static int
imap_fetch_sort_num(int64_t a, int64_t b)
{
	return a == b ? 0 : a < b ? -1 : 1;
}

static int
imap_fetch_sort_one(const struct imap_fetch_sort_rec *a,
                    const struct imap_fetch_sort_rec *b,
                    enum imap_fetch_sort_key k)
{
	switch (k) {
	case IMAP_FETCH_SORT_ARRIVAL:
		return imap_fetch_sort_num(a->arrival, b->arrival);
	case IMAP_FETCH_SORT_DATE:
		return imap_fetch_sort_num(a->date, b->date);
	case IMAP_FETCH_SORT_SIZE:
		return a->size == b->size ? 0 : a->size < b->size ? -1 : 1;
	case IMAP_FETCH_SORT_SUBJECT:
		return imap_fetch_sort_str(a->subject, b->subject);
	case IMAP_FETCH_SORT_FROM:
		return imap_fetch_sort_str(a->from, b->from);
	case IMAP_FETCH_SORT_TO:
		return imap_fetch_sort_str(a->to, b->to);
	case IMAP_FETCH_SORT_CC:
		return imap_fetch_sort_str(a->cc, b->cc);
	case IMAP_FETCH_SORT_DISPLAYFROM:
		return imap_fetch_sort_str(a->dfrom, b->dfrom);
	case IMAP_FETCH_SORT_DISPLAYTO:
		return imap_fetch_sort_str(a->dto, b->dto);
	}
	return 0;
}

static int
imap_fetch_sort_cmp(const void *x, const void *y, void *arg)
{
	const struct imap_fetch_sort_rec *a = x, *b = y;
	const struct imap_fetch_sort_ctx *ctx = arg;

	for (size_t i = 0; i < ctx->ncrit; i++) {
		int c = imap_fetch_sort_one(a, b, ctx->crit[i].key);

		if (c != 0)
			return ctx->crit[i].reverse ? -c : c;
	}
	/* RFC 5256 3: ties go by sequence number. */
	return a->seq == b->seq ? 0 : a->seq < b->seq ? -1 : 1;
}

void
imap_fetch_sort(struct imap_fetch_sort_rec *recs, size_t n,
                const struct imap_fetch_sort_crit *crit, size_t ncrit)
{
	struct imap_fetch_sort_ctx ctx = { crit, ncrit };

	if (n > 1)
		qsort_r(recs, n, sizeof(*recs), imap_fetch_sort_cmp, &ctx);
}
