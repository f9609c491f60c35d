/* loop_exec.c: a mutex-protected task queue drained by one libevent event.
 * Posting activates the event from any thread (libevent's pthread
 * support wakes the loop); the callback swaps the queue out under the lock
 * and runs it unlocked, so a task may post again without deadlock. */
#include "node/core/loop_exec.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/rs_mem.h"

struct loop_task {
	rs_task_fn       *fn;
	void             *arg;
	struct loop_task *next;
};

struct loop_exec {
	struct rs_exec    exec;        /* first: cast from struct rs_exec */
	struct event     *ev;          /* owns */
	pthread_mutex_t   mu;
	struct loop_task *head, *tail; /* owns, guarded by mu */
	size_t            pending;     /* guarded by mu */
};

static void
loop_exec_post(struct rs_exec *ex, rs_task_fn *fn, void *arg)
{
	struct loop_exec *le = (struct loop_exec *)ex;
	struct loop_task *t = rs_xmalloc(sizeof(*t));
	int was_empty;

	t->fn = fn;
	t->arg = arg;
	t->next = NULL;
	pthread_mutex_lock(&le->mu);
	was_empty = le->head == NULL;
	if (le->tail != NULL)
		le->tail->next = t;
	else
		le->head = t;
	le->tail = t;
	le->pending++;
	pthread_mutex_unlock(&le->mu);
	if (was_empty)
		event_active(le->ev, EV_READ, 0);
}

static void
loop_exec_run(evutil_socket_t fd, short what, void *arg)
{
	struct loop_exec *le = arg;
	struct loop_task *t;
	size_t n = 0;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&le->mu);
	t = le->head;
	le->head = le->tail = NULL;
	pthread_mutex_unlock(&le->mu);
	while (t != NULL) {
		struct loop_task *next = t->next;

		t->fn(t->arg);
		free(t);
		t = next;
		n++;
	}
	pthread_mutex_lock(&le->mu);
	le->pending -= n;
	pthread_mutex_unlock(&le->mu);
}

struct loop_exec *
loop_exec_new(struct event_base *base)
{
	struct loop_exec *le = rs_xcalloc(1, sizeof(*le));

	le->exec.post = loop_exec_post;
	pthread_mutex_init(&le->mu, NULL);
	le->ev = event_new(base, -1, 0, loop_exec_run, le);
	if (le->ev == NULL)
		abort();
	return le;
}

void
loop_exec_free(struct loop_exec **pp)
{
	struct loop_exec *le = *pp;
	struct loop_task *t;

	if (le == NULL)
		return;
	event_free(le->ev);
	t = le->head;
	while (t != NULL) {
		struct loop_task *next = t->next;

		free(t);
		t = next;
	}
	pthread_mutex_destroy(&le->mu);
	free(le);
	*pp = NULL;
}

struct rs_exec *
loop_exec_exec(struct loop_exec *le)
{
	return &le->exec;
}

size_t
loop_exec_pending(struct loop_exec *le)
{
	size_t n;

	pthread_mutex_lock(&le->mu);
	n = le->pending;
	pthread_mutex_unlock(&le->mu);
	return n;
}
