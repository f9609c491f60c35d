/* test_repl_log.c: the replication log's bookkeeping (cluster/repl.c):
 * every kept entry is found from either end, the trim keeps the newest
 * within the size and links the new oldest entry, a gap clears the
 * log, and lookups outside it find nothing. */
#include <stdlib.h>

#include "cluster/repl_int.h"
#include "lib/rs_mem.h"
#include "tests/unit/test.h"

static void
t_append(struct repl_part *rp, uint64_t lsn)
{
	struct repl_entry *e = rs_xcalloc(1, sizeof(*e));

	e->lsn = lsn;
	e->epoch = 1;
	e->len = 100;
	e->data = rs_xcalloc(1, e->len);
	repl__log_append(rp, e);
}

/* Every LSN in [first, last] is found, and is that entry; none outside;
 * the links agree both ways. */
static void
t_check(const struct repl_part *rp, uint64_t first, uint64_t last)
{
	const struct repl_entry *e;

	TEST_ASSERT(rp->log != NULL && rp->log->lsn == first);
	TEST_ASSERT(rp->log->prev == NULL);
	TEST_ASSERT(rp->log_tail->lsn == last && rp->log_tail->next == NULL);
	TEST_ASSERT(rp->log_bytes == (last - first + 1) * 100);
	for (uint64_t l = first; l <= last; l++) {
		e = repl__log_find(rp, l);
		TEST_ASSERT_IDX(e != NULL && e->lsn == l, l);
		if (l > first)
			TEST_ASSERT_IDX(e->prev != NULL && e->prev->lsn == l - 1, l);
	}
	TEST_ASSERT(repl__log_find(rp, first - 1) == NULL);
	TEST_ASSERT(repl__log_find(rp, last + 1) == NULL);
}

void
test_repl_log(void)
{
	struct repl r = { .log_max = 1000 };     /* ten entries of 100 */
	struct repl_part rp = { .r = &r };

	TEST_ASSERT(repl__log_find(&rp, 1) == NULL);
	for (uint64_t l = 1; l <= 7; l++)
		t_append(&rp, l);
	t_check(&rp, 1, 7);
	/* Past the size: the oldest go, the newest ten stay. */
	for (uint64_t l = 8; l <= 25; l++)
		t_append(&rp, l);
	t_check(&rp, 16, 25);
	/* An entry that does not follow the last: the log starts again. */
	t_append(&rp, 40);
	t_check(&rp, 40, 40);
	t_append(&rp, 41);
	t_check(&rp, 40, 41);
	repl__log_clear(&rp);
	TEST_ASSERT(rp.log == NULL && rp.log_tail == NULL &&
	            rp.log_bytes == 0);
	TEST_ASSERT(repl__log_find(&rp, 40) == NULL);
}
