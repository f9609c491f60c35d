/* Tests for node/imap/imap_fetch_sort.c: SORT orderings (RFC 5256). */
#include <string.h>

#include "node/imap/imap_fetch_sort.h"
#include "tests/unit/test.h"

static void
test_imap_fetch_sort_set(struct imap_fetch_sort_rec *r, uint32_t seq,
                         uint64_t size, int64_t date, const char *subject,
                         const char *from)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->uid = seq * 10;
	r->size = size;
	r->arrival = 1000 - seq;
	r->date = date;
	r->subject = rs_str_cstr(subject);
	r->from = rs_str_cstr(from);
	r->dfrom = rs_str_cstr(from);
}

static void
test_imap_fetch_sort_order(const struct imap_fetch_sort_crit *c, size_t nc,
                           const char *want)
{
	struct imap_fetch_sort_rec r[5];
	char got[32] = "";

	test_imap_fetch_sort_set(&r[0], 1, 300, 50, "beta", "zed");
	test_imap_fetch_sort_set(&r[1], 2, 100, 40, "Alpha", "amy");
	test_imap_fetch_sort_set(&r[2], 3, 200, 50, "alpha", "Bob");
	test_imap_fetch_sort_set(&r[3], 4, 100, 10, "", "bob");
	test_imap_fetch_sort_set(&r[4], 5, 500, 90, "gamma", "");
	imap_fetch_sort(r, 5, c, nc);
	for (size_t i = 0; i < 5; i++)
		got[i] = (char)('0' + r[i].seq);
	TEST_ASSERT_STREQ(got, want);
}

void
test_imap_fetch_sort_keys(void)
{
	static const struct imap_fetch_sort_crit size[] = {
		{ IMAP_FETCH_SORT_SIZE, false } };
	static const struct imap_fetch_sort_crit rsize[] = {
		{ IMAP_FETCH_SORT_SIZE, true } };
	static const struct imap_fetch_sort_crit subj_date[] = {
		{ IMAP_FETCH_SORT_SUBJECT, false },
		{ IMAP_FETCH_SORT_DATE, true } };
	static const struct imap_fetch_sort_crit from[] = {
		{ IMAP_FETCH_SORT_FROM, false } };
	static const struct imap_fetch_sort_crit arrival[] = {
		{ IMAP_FETCH_SORT_ARRIVAL, false } };
	static const struct imap_fetch_sort_crit date[] = {
		{ IMAP_FETCH_SORT_DATE, false } };

	/* Ties (sizes 100, dates 50, "alpha"/"Alpha", "Bob"/"bob") go by
	 * sequence number. */
	test_imap_fetch_sort_order(size, 1, "24315");
	test_imap_fetch_sort_order(rsize, 1, "51324");
	test_imap_fetch_sort_order(subj_date, 2, "43215");
	test_imap_fetch_sort_order(from, 1, "52341");
	test_imap_fetch_sort_order(arrival, 1, "54321");
	test_imap_fetch_sort_order(date, 1, "42135");
	test_imap_fetch_sort_order(NULL, 0, "12345");
}
