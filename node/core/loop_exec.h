/* loop_exec.h: an rs_exec that runs posted tasks on a libevent loop. Other
 * threads (the store's writer, the password workers) post completions
 * here; the loop runs them in posting order. */
#ifndef ROOST_NODE_CORE_LOOP_EXEC_H
#define ROOST_NODE_CORE_LOOP_EXEC_H

#include <event2/event.h>

#include "lib/rs_exec.h"

struct loop_exec;

/* Never returns NULL. Requires evthread_use_pthreads() before the base
 * was created. */
struct loop_exec *loop_exec_new(struct event_base *base);
/* Runs nothing more; tasks still queued are dropped without running, so
 * free only after every producer has stopped. NULL-safe. */
void loop_exec_free(struct loop_exec **pp);
/* The rs_exec view, valid while the loop_exec lives. */
struct rs_exec *loop_exec_exec(struct loop_exec *le);
/* Tasks posted and not yet run (for shutdown draining). */
size_t loop_exec_pending(struct loop_exec *le);

#endif
