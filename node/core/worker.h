/* worker.h: a small thread pool for CPU-bound jobs that must stay off the
 * event loop (password hashing). A job runs work(arg) on a pool thread,
 * then done(arg) is posted through the given rs_exec. */
#ifndef ROOST_NODE_CORE_WORKER_H
#define ROOST_NODE_CORE_WORKER_H

#include "lib/rs_exec.h"

struct worker_pool;

/* Never returns NULL; starts nthreads (>= 1) threads. */
struct worker_pool *worker_pool_new(unsigned nthreads);
/* Finishes every queued job (posting its done), joins the threads and
 * frees the pool. NULL-safe. */
void worker_pool_free(struct worker_pool **pp);
/* Queues a job. Never fails. */
void worker_pool_run(struct worker_pool *wp, rs_task_fn *work,
                     rs_task_fn *done, void *arg, struct rs_exec *ex);

#endif
