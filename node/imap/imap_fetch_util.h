/* imap_fetch_util.h: helpers shared by the message commands (FETCH,
 * STORE, COPY/MOVE, SEARCH, SORT, EXPUNGE, APPEND): sequence sets to UIDs
 * through the view, flag lists in and out, compact UID sets for
 * COPYUID/APPENDUID/VANISHED/ESEARCH. Internal to node/imap; loop thread
 * only. */
#ifndef ROOST_NODE_IMAP_FETCH_UTIL_H
#define ROOST_NODE_IMAP_FETCH_UTIL_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "node/imap/imap_fetch_meta.h"
#include "node/imap/imap_int.h"
#include "node/imap/imap_search.h"

/* The end of cmd's argument tree (args holds the lists' children too,
 * so it is not args + nargs). */
static inline const struct imap_arg *
imap_fetch_util_end(const struct imap_cmd *cmd)
{
	const struct imap_arg *a = cmd->args;

	for (size_t i = 0; i < cmd->nargs; i++)
		a = imap_arg_next(a);
	return a;
}

/* Reads a sequence set argument of the selected mailbox (uid: UIDs,
 * else sequence numbers) into the UIDs it names, ascending; *uids_r
 * returns owned (free()), NULL when *n_r is 0. 0, or -1 after sending
 * the tagged BAD (malformed set, sequence number past the last one). */
int imap_fetch_util_set(struct imap_session *s, const struct imap_arg *a,
                        bool uid, uint32_t **uids_r, size_t *n_r)
	RS_MUST_CHECK;

/* Tells the view a message's flags and modseq after this session's own
 * write (whose FETCH the command sends), so that the view does not send
 * them again as news. */
void imap_fetch_util_view_note(struct imap_session *s, uint32_t uid,
                               uint32_t flags, uint64_t modseq);

/* The most keywords one flag list may name (store.h's per-message cap). */
#define IMAP_FETCH_UTIL_KW_MAX STORE_KEYWORDS_MAX

/* Flags parsed from a flag list: system flags and keywords (borrowed from
 * the argument tree: valid until the command ends). */
struct imap_fetch_util_flags {
	uint32_t    flags;                        /* enum store_flag bits */
	const char *kw[IMAP_FETCH_UTIL_KW_MAX];
	size_t      nkw;
};

/* Parses a flag list "(\Seen $Junk)" or the flags in args [a, end) (STORE
 * accepts them unparenthesised). \Recent is ignored (IMAP4rev1 clients
 * may send it; it cannot be stored). 0, or RS_EINVAL with *why_r a short
 * reason (an unknown \flag, a keyword that is no atom, too many). */
int imap_fetch_util_flags_parse(const struct imap_arg *a,
                                const struct imap_arg *end,
                                struct imap_fetch_util_flags *f,
                                const char **why_r) RS_MUST_CHECK;

/* Writes "(\Seen \Flagged kw...)", with \Recent after the system flags
 * when recent (IMAP4rev1, RFC 3501 2.3.2). */
void imap_fetch_util_flags_out(struct evbuffer *out, uint32_t flags,
                               bool recent, const char *const *kw,
                               size_t nkw);

/* Writes uids (ascending) compactly: "1:3,5,9:10". Nothing if n is 0. */
void imap_fetch_util_uidset(struct evbuffer *out, const uint32_t *uids,
                            size_t n);
/* True if uid is in the ascending array uids[0..n). */
bool imap_fetch_util_has(const uint32_t *uids, size_t n, uint32_t uid);

/* Parses a decimal number argument (an atom) up to max; 0 or RS_EINVAL. */
int imap_fetch_util_number(const struct imap_arg *a, uint64_t max,
                           uint64_t *v_r) RS_MUST_CHECK;

/* The tagged reply for a store failure rc (after a write's callback or a
 * queue error), with the store's message kept out of the reply. */
void imap_fetch_util_store_failed(struct imap_session *s, int rc,
                                  const char *what);
/* Whether the store refuses new messages now (its disk at the reserve,
 * or failed): then replies NO [UNAVAILABLE] and returns true. state
 * STORE_STATE_OK asks the store; another state is taken as given. */
bool imap_fetch_util_store_full(struct imap_session *s, const char *what,
                                enum store_state state);

/* ---- imap_search_cmd.c: evaluating a SEARCH program over the selected
 * mailbox, for SEARCH and SORT ---- */
/* A matching message: its record (borrowed for the call), sequence
 * number, and with want_meta its summary (borrowed for the call). */
typedef void imap_search_walk_fn(void *arg, const struct store_msg *m,
                                 uint32_t seq, struct imap_fetch_meta *fm);

/* Resolves prog against the view and calls fn for each message of the
 * view that matches, in UID order. 0, or -1 with err (store failure). */
int imap_search_walk__run(struct imap_session *s, struct imap_search *prog,
                          bool want_meta, imap_search_walk_fn *fn, void *arg,
                          struct rs_err *err) RS_MUST_CHECK;

/* Evaluates prog on record m (message seq, \Recent or not for this
 * session); 1, 0 or -1. With want_meta a match leaves the summary
 * loaded in fm. Touches no session: the search pool calls it too. */
int imap_search_walk__one(struct store *st, uint32_t part,
                          const struct imap_search *prog, unsigned needs,
                          const struct store_msg *m, uint32_t seq,
                          bool recent, struct imap_fetch_meta *fm,
                          bool want_meta);

/* The reply to a program that did not parse. */
void imap_search_walk__bad(struct imap_session *s, const struct rs_err *err);

/* ---- the run functions of imap_cmd_msg_table.c ---- */
int imap_fetch__run(struct imap_session *s, const struct imap_cmd *cmd);
int imap_store_cmd__run(struct imap_session *s, const struct imap_cmd *cmd);
int imap_copy__copy(struct imap_session *s, const struct imap_cmd *cmd);
int imap_copy__move(struct imap_session *s, const struct imap_cmd *cmd);
int imap_expunge__run(struct imap_session *s, const struct imap_cmd *cmd);
int imap_append__run(struct imap_session *s, const struct imap_cmd *cmd);
bool imap_append__literal(struct imap_session *s, const struct imap_event *ev);
void imap_append__data(struct imap_session *s, const struct imap_event *ev);
int imap_search_cmd__run(struct imap_session *s, const struct imap_cmd *cmd);
int imap_sort__run(struct imap_session *s, const struct imap_cmd *cmd);
int imap_quota__getquotaroot(struct imap_session *s,
                             const struct imap_cmd *cmd);
int imap_quota__getquota(struct imap_session *s, const struct imap_cmd *cmd);
int imap_quota__setquota(struct imap_session *s, const struct imap_cmd *cmd);

#endif
