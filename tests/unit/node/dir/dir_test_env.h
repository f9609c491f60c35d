/* dir_test_env.h: a directory on the embedded coordination backend and a
 * real store, for the directory's tests (test_dir_env.c). */
#ifndef ROOST_TESTS_UNIT_NODE_DIR_TEST_ENV_H
#define ROOST_TESTS_UNIT_NODE_DIR_TEST_ENV_H

#include <event2/event.h>

#include "cluster/coord_local.h"
#include "node/core/loop_exec.h"
#include "node/dir/dir.h"
#include "storage/store.h"

struct dir_env {
	struct event_base *base;
	struct loop_exec  *le;
	struct store      *st;
	struct coord      *coord;
	struct dir        *dir;
	const char        *path;
};

struct dir_wait {
	struct event_base *base;
	int                done;
	int                rc;
};

/* A dir_done_fn: records rc in the struct dir_wait arg, breaks the loop. */
void dir_wait_cb(void *arg, int rc, const struct rs_err *err);
/* Runs the loop until the pending callback fired; returns its rc. */
int dir_wait_run(struct dir_env *e, struct dir_wait *w);
/* Opens the store at path, a coord_local on it and a loaded directory
 * ("/roost/t/", 8 partitions). */
void dir_env_open(struct dir_env *e, const char *path);
void dir_env_close(struct dir_env *e);

/* Performs one change and returns its final rc (sync error or callback). */
#define DIR_DO(e, call_with_cb) ({ \
	struct dir_wait w_ = { (e)->base, 0, 0 }; \
	struct rs_err err_; \
	dir_done_fn *cb_ = dir_wait_cb; void *arg_ = &w_; \
	int rc_ = (call_with_cb); \
	rc_ == 0 ? dir_wait_run((e), &w_) : err_.code; })

#endif
