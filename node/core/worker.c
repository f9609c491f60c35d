/* worker.c: fixed thread pool with one FIFO job queue. */
#include "node/core/worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/rs_mem.h"

struct worker_job {
	rs_task_fn        *work, *done;
	void              *arg;
	struct rs_exec    *ex;
	struct worker_job *next;
};

struct worker_pool {
	pthread_mutex_t    mu;
	pthread_cond_t     cv;
	struct worker_job *head, *tail;   /* owns, guarded by mu */
	bool               stopping;      /* guarded by mu */
	pthread_t         *threads;       /* owns */
	unsigned           nthreads;
};

static void *
worker_main(void *arg)
{
	struct worker_pool *wp = arg;

	pthread_setname_np(pthread_self(), "worker");
	for (;;) {
		struct worker_job *j;

		pthread_mutex_lock(&wp->mu);
		while (wp->head == NULL && !wp->stopping)
			pthread_cond_wait(&wp->cv, &wp->mu);
		j = wp->head;
		if (j == NULL) {             /* stopping and drained */
			pthread_mutex_unlock(&wp->mu);
			return NULL;
		}
		wp->head = j->next;
		if (wp->head == NULL)
			wp->tail = NULL;
		pthread_mutex_unlock(&wp->mu);
		j->work(j->arg);
		rs_exec_post(j->ex, j->done, j->arg);
		free(j);
	}
}

struct worker_pool *
worker_pool_new(unsigned nthreads)
{
	struct worker_pool *wp = rs_xcalloc(1, sizeof(*wp));

	if (nthreads == 0)
		nthreads = 1;
	pthread_mutex_init(&wp->mu, NULL);
	pthread_cond_init(&wp->cv, NULL);
	wp->threads = rs_xcalloc(nthreads, sizeof(*wp->threads));
	wp->nthreads = nthreads;
	for (unsigned i = 0; i < nthreads; i++)
		if (pthread_create(&wp->threads[i], NULL, worker_main, wp) != 0)
			abort();
	return wp;
}

void
worker_pool_free(struct worker_pool **pp)
{
	struct worker_pool *wp = *pp;

	if (wp == NULL)
		return;
	pthread_mutex_lock(&wp->mu);
	wp->stopping = true;
	pthread_cond_broadcast(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
	for (unsigned i = 0; i < wp->nthreads; i++)
		pthread_join(wp->threads[i], NULL);
	pthread_cond_destroy(&wp->cv);
	pthread_mutex_destroy(&wp->mu);
	free(wp->threads);
	free(wp);
	*pp = NULL;
}

void
worker_pool_run(struct worker_pool *wp, rs_task_fn *work, rs_task_fn *done,
                void *arg, struct rs_exec *ex)
{
	struct worker_job *j = rs_xmalloc(sizeof(*j));

	j->work = work;
	j->done = done;
	j->arg = arg;
	j->ex = ex;
	j->next = NULL;
	pthread_mutex_lock(&wp->mu);
	if (wp->tail != NULL)
		wp->tail->next = j;
	else
		wp->head = j;
	wp->tail = j;
	pthread_cond_signal(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
}
