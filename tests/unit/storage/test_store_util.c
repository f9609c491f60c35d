/* test_store_util.c: scaffolding shared by the store's tests (see
 * test_store_util.h). Test code: failures abort rather than limp on. */
#include "tests/unit/storage/test_store_util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"
#include "storage/store_rec.h"
#include "tests/unit/test.h"

struct tsu_task {
	rs_task_fn      *fn;
	void            *arg;
	struct tsu_task *next;
};

static void
tsu_post(struct rs_exec *base, rs_task_fn *fn, void *arg)
{
	struct tsu_exec *ex = (struct tsu_exec *)base;
	struct tsu_task *k = rs_xcalloc(1, sizeof(*k));

	k->fn = fn;
	k->arg = arg;
	pthread_mutex_lock(&ex->mu);
	*ex->tail = k;
	ex->tail = &k->next;
	ex->posted++;
	pthread_cond_signal(&ex->cv);
	pthread_mutex_unlock(&ex->mu);
}

void
tsu_exec_init(struct tsu_exec *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->base.post = tsu_post;
	pthread_mutex_init(&ex->mu, NULL);
	pthread_cond_init(&ex->cv, NULL);
	ex->tail = &ex->head;
}

void
tsu_exec_destroy(struct tsu_exec *ex)
{
	tsu_run_pending(ex);
	pthread_cond_destroy(&ex->cv);
	pthread_mutex_destroy(&ex->mu);
}

/* Pops one task, waiting until deadline; NULL on timeout. */
static struct tsu_task *
tsu_pop(struct tsu_exec *ex, const struct timespec *deadline)
{
	struct tsu_task *k;

	pthread_mutex_lock(&ex->mu);
	while (ex->head == NULL && deadline != NULL)
		if (pthread_cond_timedwait(&ex->cv, &ex->mu, deadline) != 0)
			break;
	k = ex->head;
	if (k != NULL) {
		ex->head = k->next;
		if (ex->head == NULL)
			ex->tail = &ex->head;
	}
	pthread_mutex_unlock(&ex->mu);
	return k;
}

void
tsu_run(struct tsu_exec *ex, const int *counter, int want)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 120;
	while (*counter < want) {
		struct tsu_task *k = tsu_pop(ex, &deadline);

		if (k == NULL) {
			test_fail(__FILE__, __LINE__, "completion never came "
			          "(%d of %d)", *counter, want);
			abort();
		}
		k->fn(k->arg);
		free(k);
	}
}

void
tsu_run_pending(struct tsu_exec *ex)
{
	struct tsu_task *k;

	while ((k = tsu_pop(ex, NULL)) != NULL) {
		k->fn(k->arg);
		free(k);
	}
}

void
tsu_done_cb(void *arg, int rc)
{
	struct tsu_done *d = arg;

	d->n++;
	d->rc = rc;
	if (rc != 0)
		d->failed++;
}

static void
tsu_start(struct tsu *t)
{
	struct rs_err err;

	if (store_open(&t->o, &t->st, &err) != 0) {
		test_fail(__FILE__, __LINE__, "store_open: %s", err.msg);
		abort();
	}
}

void
tsu_open(struct tsu *t, bool sync, unsigned group_max_ops)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/db", test_tmpdir());
	t->o.path = t->dir;
	t->o.sync = sync;
	t->o.group_max_ops = group_max_ops;
	t->o.cache_bytes = (size_t)8 << 20;
	tsu_exec_init(&t->ex);
	tsu_start(t);
}

void
tsu_reopen(struct tsu *t)
{
	store_close(&t->st);
	tsu_run_pending(&t->ex);
	tsu_start(t);
}

void
tsu_close(struct tsu *t)
{
	store_close(&t->st);
	TEST_ASSERT(t->st == NULL);
	tsu_exec_destroy(&t->ex);
}

int
tsu_wait(struct tsu *t, int qrc, struct tsu_done *d, const struct rs_err *e)
{
	if (qrc != 0)
		return e->code;
	tsu_run(&t->ex, &d->n, 1);
	return d->rc;
}

int
tsu_deliver(struct tsu *t, const void *body, size_t len,
            struct store_rcpt *r, size_t n)
{
	struct store_message m = { .data = body, .len = len,
	                           .internal_date = 1700000000 };
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_deliver(t->st, &m, r, n, &t->ex.base,
	                                 tsu_done_cb, &d, &e), &d, &e);
}

int
tsu_create(struct tsu *t, struct store_acct a, const char *name,
           struct store_mailbox *r)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_mailbox_create(t->st, a, name, STORE_USE_NONE,
	                                        r, &t->ex.base, tsu_done_cb,
	                                        &d, &e), &d, &e);
}

int
tsu_mdelete(struct tsu *t, struct store_acct a, const char *name)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_mailbox_delete(t->st, a, name, &t->ex.base,
	                                        tsu_done_cb, &d, &e), &d, &e);
}

int
tsu_rename(struct tsu *t, struct store_acct a, const char *from,
           const char *to)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_mailbox_rename(t->st, a, from, to, &t->ex.base,
	                                        tsu_done_cb, &d, &e), &d, &e);
}

int
tsu_subscribe(struct tsu *t, struct store_acct a, const char *name, bool on)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_mailbox_subscribe(t->st, a, name, on,
	                                           &t->ex.base, tsu_done_cb,
	                                           &d, &e), &d, &e);
}

uint32_t
tsu_mbox_id(struct tsu *t, struct store_acct a, const char *name)
{
	struct store_mailbox mb;

	if (store_mailbox_find(t->st, a, name, &mb, NULL) != 0)
		return 0;
	return mb.id;
}

int
tsu_expunge(struct tsu *t, struct store_acct a, uint32_t mbox,
            const uint32_t *uids, size_t n)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_expunge(t->st, a, mbox, uids, n, &t->ex.base,
	                                 tsu_done_cb, &d, &e), &d, &e);
}

int
tsu_flags(struct tsu *t, struct store_acct a, uint32_t mbox,
          const uint32_t *uids, size_t n, enum store_flag_op op,
          uint32_t flags)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_set_flags(t->st, a, mbox, uids, n, op, flags,
	                                   &t->ex.base, tsu_done_cb, &d, &e),
	                &d, &e);
}

int
tsu_delete(struct tsu *t, struct store_acct a)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_account_delete(t->st, a, &t->ex.base,
	                                        tsu_done_cb, &d, &e), &d, &e);
}

int
tsu_submit(struct tsu *t, store_apply_fn *apply, void *arg)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_submit(t->st, apply, arg, &t->ex.base,
	                                tsu_done_cb, &d, &e), &d, &e);
}

struct store_rcpt
tsu_rcpt(uint32_t part, uint64_t id, const char *mbox)
{
	struct store_rcpt r;

	memset(&r, 0, sizeof(r));
	r.acct.part = part;
	r.acct.id = id;
	r.mailbox = mbox;
	return r;
}

void
tsu_sha256(const void *data, size_t len, uint8_t out[STORE_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
		abort();
}

uint64_t
tsu_blob_refs(struct tsu *t, uint32_t part,
              const uint8_t hash[STORE_HASH_LEN])
{
	uint8_t key[STORE_KEYS_BLOB_LEN];
	struct store_rec_blob r = { 0 };
	struct rs_buf b;

	rs_buf_init(&b, RS_BUF_UNLIMITED);
	if (store_raw_get(t->st, key, store_keys_blob(key, part, hash), &b,
	                  NULL) == 0 &&
	    store_rec_blob_dec(b.data, b.len, &r) != 0)
		test_fail(__FILE__, __LINE__, "corrupt blob meta");
	rs_buf_free(&b);
	return r.refs;
}

static int
tsu_count_fn(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
             size_t vlen)
{
	(void)key; (void)klen; (void)val; (void)vlen;
	(*(size_t *)arg)++;
	return 0;
}

size_t
tsu_count(struct tsu *t, const void *prefix, size_t plen)
{
	size_t n = 0;

	if (store_raw_scan(t->st, prefix, plen, tsu_count_fn, &n, NULL) != 0)
		test_fail(__FILE__, __LINE__, "scan failed");
	return n;
}

void
tsu_fill(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

void
tsu_gate_init(struct tsu_gate *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
}

void
tsu_gate_destroy(struct tsu_gate *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
}

void
tsu_gate_enter(void *arg)
{
	struct tsu_gate *g = arg;

	pthread_mutex_lock(&g->mu);
	g->entered = true;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

void
tsu_gate_wait_entered(struct tsu_gate *g)
{
	pthread_mutex_lock(&g->mu);
	while (!g->entered)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static int
tsu_gate_apply(struct store_txn *txn, void *arg, struct rs_err *err)
{
	(void)txn; (void)err;
	tsu_gate_enter(arg);
	return 0;
}

void
tsu_gate_queue(struct tsu *t, struct tsu_gate *g, struct tsu_done *d)
{
	struct rs_err e;

	if (store_submit(t->st, tsu_gate_apply, g, &t->ex.base, tsu_done_cb, d,
	                 &e) != 0) {
		test_fail(__FILE__, __LINE__, "gate: %s", e.msg);
		abort();
	}
	tsu_gate_wait_entered(g);
}

void
tsu_gate_open(struct tsu_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void
tsu_hold_before_sync(void *arg)
{
	struct tsu_hold *h = arg;

	if (__atomic_load_n(&h->armed, __ATOMIC_ACQUIRE))
		tsu_gate_enter(&h->gate);
}
