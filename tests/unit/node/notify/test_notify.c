/* test_notify.c: store commits reach subscribers of the changed account
 * on the loop, in order; unsubscribing from inside a callback is safe. */
#include <event2/event.h>
#include <event2/thread.h>
#include <stdlib.h>

#include "node/core/loop_exec.h"
#include "node/core/node_ctx.h"
#include "node/notify/notify.h"
#include "storage/store.h"
#include "tests/unit/test.h"

struct test_nf {
	struct event_base *base;
	int                calls;
	uint64_t           modseq;
	struct notify_sub *self;     /* unsubscribed on the second call */
	int                delivered;
};

static void
test_nf_cb(void *arg, struct store_acct a, uint64_t modseq)
{
	struct test_nf *t = arg;

	(void)a;
	t->calls++;
	t->modseq = modseq;
	if (t->calls == 2)
		notify_unsubscribe(&t->self);
}

static void
test_nf_delivered(void *arg, int rc)
{
	struct test_nf *t = arg;

	TEST_ASSERT(rc == 0);
	t->delivered++;
}

static void
test_nf_deliver(struct node_ctx *n, struct test_nf *t, struct store_acct a)
{
	static const uint8_t body[] = "Subject: x\r\n\r\nhi\r\n";
	struct store_message m = { body, sizeof(body) - 1, 1700000000, NULL, 0, NULL, 0 };
	struct store_rcpt r = { .acct = a };
	int want = t->delivered + 1;
	struct rs_err err;

	TEST_ASSERT(store_deliver(n->store, &m, &r, 1, n->exec,
	                          test_nf_delivered, t, &err) == 0);
	while (t->delivered < want)
		event_base_loop(n->base, EVLOOP_ONCE);
	/* The notification was posted before the completion: it ran. */
}

void
test_notify_pubsub(void)
{
	struct store_opts so = { .path = test_tmpdir(), .sync = false };
	struct store_acct alice = { 3, 1 }, bob = { 3, 2 };
	struct test_nf t = { 0 }, other = { 0 };
	struct node_ctx n = { 0 };
	struct loop_exec *le;
	struct notify *nf;
	struct notify_sub *os;
	struct rs_err err;

	evthread_use_pthreads();
	n.base = event_base_new();
	le = loop_exec_new(n.base);
	n.exec = loop_exec_exec(le);
	TEST_ASSERT(store_open(&so, &n.store, &err) == 0);
	nf = notify_new(&n);
	t.self = notify_subscribe(nf, alice, test_nf_cb, &t);
	os = notify_subscribe(nf, bob, test_nf_cb, &other);
	TEST_ASSERT(notify_count(nf) == 2);

	test_nf_deliver(&n, &t, alice);
	TEST_ASSERT(t.calls == 1 && t.modseq == 1 && other.calls == 0);
	test_nf_deliver(&n, &t, bob);
	TEST_ASSERT(t.calls == 1 && other.calls == 1);
	test_nf_deliver(&n, &t, alice);       /* second call unsubscribes */
	TEST_ASSERT(t.calls == 2 && t.modseq == 2 && t.self == NULL);
	TEST_ASSERT(notify_count(nf) == 1);
	test_nf_deliver(&n, &t, alice);
	TEST_ASSERT(t.calls == 2);
	notify_unsubscribe(&os);
	TEST_ASSERT(notify_count(nf) == 0);

	store_close(&n.store);
	event_base_loop(n.base, EVLOOP_NONBLOCK);
	notify_free(&nf);
	loop_exec_free(&le);
	event_base_free(n.base);
}
