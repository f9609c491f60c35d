/* notify.c: the commit hook posts one small event per changed account to
 * the loop; there subscribers are found in a map keyed by account and
 * called. Delivery is once per commit and in commit order (one writer,
 * one FIFO exec); a subscriber reads the change log for the details, so a
 * late or merged event never loses a change.
 *
 * Lifetime: the hook runs on the store's writer, so notify must outlive
 * every commit: the node frees it after store_close, once the loop has
 * run the events that were posted. */
#include "node/notify/notify.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_map.h"
#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"

struct notify_sub {
	struct notify     *nf;
	char               key[40];
	notify_fn         *fn;
	void              *arg;
	bool               dead;      /* unsubscribed while dispatching */
	struct notify_sub *next;
};

struct notify {
	struct node_ctx *node;
	struct rs_map   *subs;        /* account key -> first notify_sub */
	unsigned         count;
	unsigned         dispatching; /* depth of callbacks running */
	unsigned         inflight;    /* events posted, not yet run */
	bool             freeing;     /* free once inflight reaches 0 */
};

struct notify_event {
	struct notify    *nf;
	struct store_acct a;
	uint64_t          modseq;
};

static void
notify_key(struct store_acct a, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu32 ":%016" PRIx64, a.part, a.id);
}

static void notify_dispatch(void *arg);

/* Writer thread: only post. inflight is changed under the exec's order:
 * counted here, uncounted on the loop; the atomic keeps both sides
 * honest without a lock. */
static void
notify_hook(void *arg, struct store_acct a, uint64_t modseq)
{
	struct notify *nf = arg;
	struct notify_event *ev = rs_xmalloc(sizeof(*ev));

	ev->nf = nf;
	ev->a = a;
	ev->modseq = modseq;
	__atomic_add_fetch(&nf->inflight, 1, __ATOMIC_RELAXED);
	rs_exec_post(nf->node->exec, notify_dispatch, ev);
}

struct notify *
notify_new(struct node_ctx *n)
{
	struct notify *nf = rs_xcalloc(1, sizeof(*nf));

	nf->node = n;
	nf->subs = rs_map_new();
	store_set_commit_hook(n->store, notify_hook, nf);
	return nf;
}

static void
notify_destroy(struct notify *nf)
{
	size_t pos = 0;
	const char *k;
	void *v;

	while (rs_map_next(nf->subs, &pos, &k, &v)) {
		struct notify_sub *s = v, *next;

		for (; s != NULL; s = next) {
			next = s->next;
			free(s);
		}
	}
	rs_map_free(&nf->subs);
	free(nf);
}

void
notify_free(struct notify **pp)
{
	struct notify *nf = *pp;

	if (nf == NULL)
		return;
	*pp = NULL;
	if (__atomic_load_n(&nf->inflight, __ATOMIC_RELAXED) > 0) {
		nf->freeing = true;         /* the last event frees it */
		return;
	}
	notify_destroy(nf);
}

/* Drops the dead subscriptions of one account. */
static void
notify_sweep(struct notify *nf, const char *skey)
{
	char key[40];
	struct notify_sub *head, **pp = &head;

	/* skey may live in a subscription freed below. */
	snprintf(key, sizeof(key), "%s", skey);
	head = rs_map_get(nf->subs, key);

	while (*pp != NULL) {
		struct notify_sub *s = *pp;

		if (s->dead) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
	if (head == NULL)
		rs_map_del(nf->subs, key);
	else
		rs_map_put(nf->subs, key, head);
}

static void
notify_dispatch(void *arg)
{
	struct notify_event *ev = arg;
	struct notify *nf = ev->nf;
	char key[40];

	if (__atomic_sub_fetch(&nf->inflight, 1, __ATOMIC_RELAXED) == 0 &&
	    nf->freeing) {
		notify_destroy(nf);
		free(ev);
		return;
	}
	if (!nf->freeing) {
		notify_key(ev->a, key, sizeof(key));
		nf->dispatching++;
		for (struct notify_sub *s = rs_map_get(nf->subs, key); s != NULL;
		     s = s->next)
			if (!s->dead)
				s->fn(s->arg, ev->a, ev->modseq);
		if (--nf->dispatching == 0)
			notify_sweep(nf, key);
	}
	free(ev);
}

struct notify_sub *
notify_subscribe(struct notify *nf, struct store_acct a, notify_fn *fn,
                 void *arg)
{
	struct notify_sub *s = rs_xcalloc(1, sizeof(*s));

	s->nf = nf;
	notify_key(a, s->key, sizeof(s->key));
	s->fn = fn;
	s->arg = arg;
	/* New subscriptions go first: a dispatch running now already passed
	 * the head and so does not call a subscriber added meanwhile. */
	s->next = rs_map_get(nf->subs, s->key);
	rs_map_put(nf->subs, s->key, s);
	nf->count++;
	return s;
}

void
notify_unsubscribe(struct notify_sub **pp)
{
	struct notify_sub *s = *pp;
	struct notify *nf;

	if (s == NULL)
		return;
	*pp = NULL;
	nf = s->nf;
	nf->count--;
	s->dead = true;
	if (nf->dispatching == 0)
		notify_sweep(nf, s->key);
}

unsigned
notify_count(const struct notify *nf)
{
	return nf->count;
}
