/* test_dir_env.c: the directory test harness (dir_test_env.h). */
#include <event2/thread.h>
#include <stdlib.h>

#include "tests/unit/node/dir/dir_test_env.h"
#include "tests/unit/test.h"

void
dir_wait_cb(void *arg, int rc, const struct rs_err *err)
{
	struct dir_wait *w = arg;

	(void)err;
	w->done = 1;
	w->rc = rc;
	event_base_loopbreak(w->base);
}

int
dir_wait_run(struct dir_env *e, struct dir_wait *w)
{
	while (!w->done)
		event_base_loop(e->base, EVLOOP_ONCE);
	return w->rc;
}

void
dir_env_open(struct dir_env *e, const char *path)
{
	struct store_opts so = { .path = path, .sync = false };
	struct rs_err err;
	struct dir_wait w = { 0 };

	e->path = path;
	evthread_use_pthreads();
	e->base = event_base_new();
	e->le = loop_exec_new(e->base);
	if (store_open(&so, &e->st, &err) != 0) {
		test_fail(__FILE__, __LINE__, "store_open: %s", err.msg);
		abort();
	}
	e->coord = coord_local_new(e->st, loop_exec_exec(e->le));
	e->dir = dir_new(e->coord, "/roost/t/", 8);
	w.base = e->base;
	TEST_ASSERT(dir_start(e->dir, dir_wait_cb, &w, &err) == 0);
	TEST_ASSERT(dir_wait_run(e, &w) == 0);
}

void
dir_env_close(struct dir_env *e)
{
	dir_free(&e->dir);
	coord_free(&e->coord);
	store_close(&e->st);
	event_base_loop(e->base, EVLOOP_NONBLOCK);
	loop_exec_free(&e->le);
	event_base_free(e->base);
}
