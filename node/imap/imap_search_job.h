/* imap_search_job.h: a SEARCH/SORT walk on the IMAP search pool
 * (imap_search_cmd.c). The job owns copies of what it reads (the view's
 * UIDs and "$", the program); fn runs on the pool thread for each match
 * and must touch nothing but arg; then end runs there; then done runs on
 * the loop with the session open (if it closed meanwhile, free alone
 * runs). */
#ifndef ROOST_NODE_IMAP_SEARCH_JOB_H
#define ROOST_NODE_IMAP_SEARCH_JOB_H

#include "node/imap/imap_fetch_util.h"

typedef void imap_search_job_end_fn(void *arg);
/* rc 0, or -1 with err. */
typedef void imap_search_job_done_fn(struct imap_session *s, void *arg,
                                     int rc, const struct rs_err *err);

/* Takes prog. Call from run and return IMAP_RUN_ASYNC. done (or, if the
 * session closed, nothing) then free(arg) run on the loop. */
void imap_search_job_start(struct imap_session *s, struct imap_search *prog,
                           bool want_meta, imap_search_walk_fn *fn,
                           imap_search_job_end_fn *end,
                           imap_search_job_done_fn *done,
                           void (*free_fn)(void *arg), void *arg);

#endif
