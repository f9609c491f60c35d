/* rs_exec.h: where a completion runs. A module that finishes work on its
 * own thread (the store's writer, the password hasher) posts the callback
 * through an rs_exec, and the owner of the event loop implements it (see
 * node/core/loop_exec.h). Keeps lib/ and storage/ free of libevent. */
#ifndef ROOST_LIB_RS_EXEC_H
#define ROOST_LIB_RS_EXEC_H

typedef void rs_task_fn(void *arg);

struct rs_exec {
	/* Runs fn(arg) later on the executor's thread; callable from any
	 * thread; never fails, never runs fn synchronously. */
	void (*post)(struct rs_exec *ex, rs_task_fn *fn, void *arg);
};

static inline void
rs_exec_post(struct rs_exec *ex, rs_task_fn *fn, void *arg)
{
	ex->post(ex, fn, arg);
}

#endif
