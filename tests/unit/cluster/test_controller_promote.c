/* test_controller_promote.c: the choice of the in-sync follower a
 * failover promotes (controller_promote_pick, cluster/
 * controller_promote.c): the furthest that answered, the first of
 * equals, the first live one when none answered, none when none is
 * live. Asking and the CAS run in tests/integration/test_replication.py
 * (test_failover_promotes_the_furthest_follower). */
#include <stdbool.h>
#include <stdio.h>

#include "cluster/controller.h"
#include "tests/unit/test.h"

#define T_CANDS 4

/* One candidate: "E/L" answered at epoch E, lsn L, "?" no answer; a
 * leading "-" makes it dead (no longer may lead). */
static void
t_cand(struct controller_cand *c, size_t i, const char *text)
{
	long long epoch;
	unsigned long long lsn;

	snprintf(c->id, sizeof(c->id), "n%zu", i + 1);
	c->live = text[0] != '-';
	if (!c->live)
		text++;
	c->answered = sscanf(text, "%lld/%llu", &epoch, &lsn) == 2;
	c->epoch = c->answered ? epoch : 0;
	c->lsn = c->answered ? lsn : 0;
}

void
test_controller_promote_pick(void)
{
	static const struct {
		const char *cands[T_CANDS];   /* NULL ends */
		size_t      want;             /* index; the count: none */
	} cases[] = {
		{ { "3/10", "3/12", NULL }, 1 },        /* further */
		{ { "3/12", "3/10", NULL }, 0 },
		{ { "3/12", "3/12", NULL }, 0 },        /* first of equals */
		{ { "2/50", "3/1", NULL }, 1 },         /* a later epoch wins */
		{ { "3/1", "2/50", NULL }, 0 },
		{ { "?", "3/5", NULL }, 1 },            /* silent: skipped */
		{ { "3/5", "?", "3/9", NULL }, 2 },
		{ { "?", "?", NULL }, 0 },              /* none answered */
		{ { "-?", "?", NULL }, 1 },             /* first live */
		{ { "-3/20", "3/5", "3/9", NULL }, 2 }, /* dead: skipped */
		{ { "3/9", "-?", "3/5", NULL }, 0 },
		{ { "-3/9", "?", NULL }, 1 },
		{ { "-?", "-3/9", NULL }, 2 },          /* none live */
		{ { "0/0", NULL }, 0 },                 /* an empty partition */
		{ { NULL }, 0 },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct controller_cand c[T_CANDS];
		size_t n = 0;

		while (n < T_CANDS && cases[k].cands[n] != NULL) {
			t_cand(&c[n], n, cases[k].cands[n]);
			n++;
		}
		TEST_ASSERT_IDX(controller_promote_pick(c, n) == cases[k].want,
		                k);
	}
}
