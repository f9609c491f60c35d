/* test_store_bulk.c: volume and durability: iterating 10,000 messages in
 * bounded memory, multi-MB bodies read across chunk boundaries, reopen,
 * and SIGKILL of a process in the middle of group commits. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"
#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan keeps its own heap; mallinfo2 does not see it. */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t
test_heap_used(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
static size_t
test_heap_used(void)
{
	return mallinfo2().uordblks;
}
#endif

#define TEST_ITER_N 10000

void
test_store_iter_10k(void)
{
	struct tsu t;
	struct store_acct a = { 8, 1 };
	struct store_rcpt *r = rs_xcalloc(TEST_ITER_N, sizeof(*r));
	struct store_message msg = { (const uint8_t *)"iter body", 9, 0, NULL,
	                             0, NULL, 0 };
	struct tsu_done d = { 0 };
	struct store_msg_iter *it;
	struct store_msg m;
	size_t heap_early = 0, heap_late;
	uint32_t expect = 1;
	int rc;

	tsu_open(&t, false, 0);
	/* All queued at once: the writer commits them in groups. */
	for (int i = 0; i < TEST_ITER_N; i++) {
		r[i] = tsu_rcpt(a.part, a.id, NULL);
		if (store_deliver(t.st, &msg, &r[i], 1, &t.ex.base, tsu_done_cb,
		                  &d, NULL) != 0)
			abort();
	}
	tsu_run(&t.ex, &d.n, TEST_ITER_N);
	TEST_ASSERT(d.failed == 0);
	TEST_ASSERT(r[TEST_ITER_N - 1].uid == TEST_ITER_N);

	it = store_msg_iter_new(t.st, a, 1, 1);
	while ((rc = store_msg_iter_next(it, &m, NULL)) == 1) {
		if (m.uid != expect || m.modseq != expect || m.size != 9)
			break;
		if (expect == 100)
			heap_early = test_heap_used();
		expect++;
	}
	heap_late = test_heap_used();
	store_msg_iter_free(&it);
	TEST_ASSERT(rc == 0);
	TEST_ASSERT_INTEQ(expect, TEST_ITER_N + 1);
	/* Memory must not grow with the number of messages walked. */
	TEST_ASSERT(heap_late < heap_early + ((size_t)256 << 10));

	it = store_msg_iter_new(t.st, a, 1, 5001);
	expect = 5001;
	while ((rc = store_msg_iter_next(it, &m, NULL)) == 1 &&
	       m.uid == expect)
		expect++;
	store_msg_iter_free(&it);
	TEST_ASSERT(rc == 0 && expect == TEST_ITER_N + 1);
	/* Another mailbox of the same account is empty. */
	it = store_msg_iter_new(t.st, a, 2, 1);
	TEST_ASSERT(store_msg_iter_next(it, &m, NULL) == 0);
	store_msg_iter_free(&it);
	free(r);
	tsu_close(&t);
}

void
test_store_blob_chunks(void)
{
	static const struct {
		uint64_t off;
		size_t len;
		size_t want;
	} cases[] = {
		{ 0, 100, 100 },
		{ STORE_KEYS_CHUNK - 10, 20, 20 },
		{ STORE_KEYS_CHUNK, STORE_KEYS_CHUNK, STORE_KEYS_CHUNK },
		{ 1000, 3 * STORE_KEYS_CHUNK, 3 * STORE_KEYS_CHUNK },
		{ 12 * STORE_KEYS_CHUNK - 1, 2, 2 },
		{ 12 * STORE_KEYS_CHUNK + 100, 1000, 23 },
		{ 12 * STORE_KEYS_CHUNK + 123, 10, 0 },
		{ 1ull << 40, 10, 0 },
	};
	size_t size = 12 * STORE_KEYS_CHUNK + 123;
	uint8_t *body = rs_xmalloc(size), *buf = rs_xmalloc(size + 1);
	uint8_t hash[STORE_HASH_LEN], prefix[STORE_KEYS_BLOB_LEN];
	struct store_rcpt r = tsu_rcpt(9, 1, NULL);
	struct tsu t;
	size_t got, off;

	tsu_open(&t, false, 0);
	tsu_fill(body, size, 42);
	tsu_sha256(body, size, hash);
	TEST_ASSERT(tsu_deliver(&t, body, size, &r, 1) == 0 && r.rc == 0);
	/* 13 chunks and the meta, under the blob's prefix. */
	TEST_ASSERT(tsu_count(&t, prefix, store_keys_blob(prefix, 9, hash) -
	                      1) == 14);

	TEST_ASSERT(store_blob_read(t.st, 9, hash, 0, buf, size + 1, &got,
	                            NULL) == 0);
	TEST_ASSERT(got == size && memcmp(buf, body, size) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memset(buf, 0, cases[i].len);
		rc = store_blob_read(t.st, 9, hash, cases[i].off, buf,
		                     cases[i].len, &got, NULL);
		TEST_ASSERT_IDX(rc == 0, i);
		TEST_ASSERT_IDX(got == cases[i].want, i);
		TEST_ASSERT_IDX(got == 0 ||
		                memcmp(buf, body + cases[i].off, got) == 0, i);
	}
	/* The way POP3 reads: 64 KiB at a time until a short read. */
	off = 0;
	do {
		TEST_ASSERT(store_blob_read(t.st, 9, hash, off, buf + off,
		                            65536, &got, NULL) == 0);
		off += got;
	} while (got == 65536);
	TEST_ASSERT(off == size && memcmp(buf, body, size) == 0);
	hash[0] ^= 1;
	TEST_ASSERT(store_blob_read(t.st, 9, hash, 0, buf, 10, &got, NULL) ==
	            RS_ENOTFOUND);
	free(body);
	free(buf);
	tsu_close(&t);
}

/* What test_store_reopen wrote, as read back. */
static void
test_reopen_check(struct tsu *t, struct store_acct a, uint32_t uidv)
{
	struct store_account_info ai;
	struct store_mailbox mb;
	struct store_msg m;
	struct store_msg_buf buf;
	struct store_change ch[8];
	size_t n;
	char body[8];

	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0);
	TEST_ASSERT(ai.exists && ai.modseq == 5 && ai.messages == 2 &&
	            ai.bytes == 16);
	TEST_ASSERT(store_mailbox_find(t->st, a, NULL, &mb, NULL) == 0);
	TEST_ASSERT(mb.uidvalidity == uidv && mb.uidnext == 4 &&
	            mb.messages == 2 && mb.highestmodseq == 5);
	TEST_ASSERT(store_msg_get(t->st, a, 1, 2, &m, &buf, NULL) == 0);
	TEST_ASSERT(m.flags == STORE_FLAG_ANSWERED && m.modseq == 4);
	TEST_ASSERT(store_blob_read(t->st, a.part, m.blob, 0, body, 8, &n,
	                            NULL) == 0 && n == 8);
	store_msg_buf_free(&buf);
	TEST_ASSERT(store_changes_since(t->st, a, 0, ch, 8, &n, NULL) == 0 &&
	            n == 5);
}

void
test_store_reopen(void)
{
	struct tsu t;
	struct store_acct a = { 10, 1 };
	struct store_rcpt r[3];
	struct store_account_info ai;
	uint32_t uid = 2, uidv;

	tsu_open(&t, true, 0);
	for (int i = 0; i < 3; i++) {
		r[i] = tsu_rcpt(a.part, a.id, NULL);
		TEST_ASSERT(tsu_deliver(&t, "abcdefgh", 8, &r[i], 1) == 0);
	}
	uidv = r[0].uidvalidity;
	TEST_ASSERT(tsu_flags(&t, a, 1, &uid, 1, STORE_FLAGS_ADD,
	                      STORE_FLAG_ANSWERED) == 0);
	uid = 3;
	TEST_ASSERT(tsu_expunge(&t, a, 1, &uid, 1) == 0);
	for (int pass = 0; pass < 2; pass++) {
		tsu_reopen(&t);
		test_reopen_check(&t, a, uidv);
	}
	/* Counting goes on where it stopped. */
	TEST_ASSERT(tsu_deliver(&t, "x", 1, &r[0], 1) == 0);
	TEST_ASSERT(r[0].uid == 4 && r[0].uidvalidity == uidv);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.modseq == 6);
	tsu_close(&t);
}

/* ---- SIGKILL in the middle of group commits ---- */

#define TEST_CRASH_INFLIGHT 16

struct test_crash;

/* One delivery in flight: its recipient and where it reports. */
struct test_crash_slot {
	struct store_rcpt  r;
	struct test_crash *c;
};

struct test_crash {
	struct tsu             t;
	struct test_crash_slot slots[TEST_CRASH_INFLIGHT];
	int                    fd;
};

static void test_crash_send(struct test_crash_slot *s);

/* Child: each acknowledged uid goes down the pipe, then the slot
 * delivers again. */
static void
test_crash_done(void *arg, int rc)
{
	struct test_crash_slot *s = arg;

	if (rc != 0 || s->r.rc != 0)
		_exit(3);
	if (write(s->c->fd, &s->r.uid, 4) != 4)
		_exit(4);
	test_crash_send(s);
}

static void
test_crash_send(struct test_crash_slot *s)
{
	static const char body[] = "Subject: crash\r\n\r\nstill here?\r\n";
	struct store_message m = { (const uint8_t *)body, sizeof(body) - 1, 0,
	                           NULL, 0, NULL, 0 };

	s->r = tsu_rcpt(11, 1, NULL);
	if (store_deliver(s->c->t.st, &m, &s->r, 1, &s->c->t.ex.base,
	                  test_crash_done, s, NULL) != 0)
		_exit(2);
}

static void
test_crash_child(const char *dir, int fd)
{
	static struct test_crash c;
	int never = 0;

	tsu_exec_init(&c.t.ex);
	snprintf(c.t.dir, sizeof(c.t.dir), "%s", dir);
	c.t.o.path = c.t.dir;
	c.t.o.sync = true;
	c.fd = fd;
	if (store_open(&c.t.o, &c.t.st, NULL) != 0)
		_exit(1);
	for (int i = 0; i < TEST_CRASH_INFLIGHT; i++) {
		c.slots[i].c = &c;
		test_crash_send(&c.slots[i]);
	}
	tsu_run(&c.t.ex, &never, 1);    /* until killed (or 120 s) */
	_exit(5);
}

/* Parent: reads acknowledged uids until it has want, kills the child,
 * then drains what was acknowledged before the kill. */
static void
test_crash_collect(pid_t pid, int fd, uint32_t want, uint32_t *acked_r,
                   uint32_t *max_r)
{
	uint32_t uid;
	int status;

	*acked_r = *max_r = 0;
	while (*acked_r < want && read(fd, &uid, 4) == 4) {
		(*acked_r)++;
		*max_r = uid > *max_r ? uid : *max_r;
	}
	kill(pid, SIGKILL);
	while (read(fd, &uid, 4) == 4) {
		(*acked_r)++;
		*max_r = uid > *max_r ? uid : *max_r;
	}
	TEST_ASSERT(waitpid(pid, &status, 0) == pid);
	TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	TEST_ASSERT(*acked_r >= want);
}

/* Every acknowledged uid is there, with nothing half-written: uids are
 * dense, and counters and change log match the records. */
static void
test_crash_verify(struct tsu *t, uint32_t acked, uint32_t max_acked)
{
	struct store_acct a = { 11, 1 };
	struct store_account_info ai;
	struct store_mailbox mb;
	struct store_msg_iter *it;
	struct store_msg m;
	struct store_change ch[1];
	uint32_t count = 0;
	size_t n;
	int rc;

	it = store_msg_iter_new(t->st, a, 1, 1);
	while ((rc = store_msg_iter_next(it, &m, NULL)) == 1) {
		count++;
		if (m.uid != count || m.modseq != count)
			break;
	}
	store_msg_iter_free(&it);
	TEST_ASSERT(rc == 0);
	TEST_ASSERT(count >= max_acked && count >= acked);
	TEST_ASSERT(store_mailbox_find(t->st, a, NULL, &mb, NULL) == 0);
	TEST_ASSERT(mb.messages == count && mb.uidnext == count + 1);
	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0);
	TEST_ASSERT(ai.modseq == count && ai.messages == count);
	TEST_ASSERT(store_changes_since(t->st, a, count - 1, ch, 1, &n,
	                                NULL) == 0);
	TEST_ASSERT(n == 1 && ch[0].uid == count);
}

void
test_store_crash_kill(void)
{
	uint32_t max_acked, acked;
	int fds[2];
	pid_t pid;
	struct tsu t;

	memset(&t, 0, sizeof(t));
	snprintf(t.dir, sizeof(t.dir), "%s/db", test_tmpdir());
	TEST_ASSERT(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		test_crash_child(t.dir, fds[1]);
	}
	close(fds[1]);
	test_crash_collect(pid, fds[0], 300, &acked, &max_acked);
	close(fds[0]);

	tsu_exec_init(&t.ex);
	t.o.path = t.dir;
	TEST_ASSERT(store_open(&t.o, &t.st, NULL) == 0);
	if (t.st != NULL)
		test_crash_verify(&t, acked, max_acked);
	tsu_close(&t);
}
