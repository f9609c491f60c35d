/* store_mailbox.h: mailbox management for IMAP (RFC 9051 6.3: CREATE,
 * DELETE, RENAME, SUBSCRIBE), the compact mailbox index behind SELECT, and
 * the CONDSTORE/QRESYNC reads (RFC 7162). Part of the store API: include
 * storage/store.h, which includes this. Names are UTF-8 with '/' as the
 * hierarchy separator; the store checks their encoding and length and
 * otherwise compares them octet for octet, except that INBOX is
 * case-insensitive. Writes follow the rules of store.h: queued, one atomic
 * operation each, cb posted through ex after the commit. */
#ifndef ROOST_STORAGE_STORE_MAILBOX_H
#define ROOST_STORAGE_STORE_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/* ---- writes ---- */

/* Creates mailbox name with special use use (STORE_USE_NONE or an RFC 6154
 * one; not STORE_USE_INBOX). It gets the next id, a UIDVALIDITY the
 * account never had, and a STORE_CHANGE_MAILBOX entry whose modseq is its
 * HIGHESTMODSEQ. Creates the account if it has no state. Queue errors:
 * RS_EINVAL (bad name or use). cb's rc: 0, RS_ECONFLICT (exists; any case
 * of INBOX does), RS_ETOOBIG (mailbox ids used up). If r is not NULL it
 * receives the new mailbox before cb runs (borrowed until then). */
int store_mailbox_create(struct store *st, struct store_acct a,
                         const char *name, enum store_special_use use,
                         struct store_mailbox *r, struct rs_exec *ex,
                         store_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;

/* Deletes the mailbox named name and only it (inferiors are the caller's
 * business): its messages go, dropping their blob references, with its
 * keyword set and per-mailbox change index; the account log gets one
 * STORE_CHANGE_MAILBOX entry. Subscriptions are left alone. A
 * never-used account is created first (its defaults can be deleted).
 * Queue errors: RS_EINVAL (bad name). cb's rc: 0, RS_ENOTFOUND,
 * RS_EPERM (INBOX). */
int store_mailbox_delete(struct store *st, struct store_acct a,
                         const char *name, struct rs_exec *ex,
                         store_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;

/* Renames from and every inferior "from/..." to "to/...", atomically;
 * ids, UIDVALIDITY, messages and special use stay; one
 * STORE_CHANGE_MAILBOX entry per renamed mailbox. Renaming INBOX follows
 * RFC 9051 6.3.6: a new mailbox named to is created and every INBOX
 * message moves into it (new UIDs, EXPUNGE and APPEND entries); INBOX
 * stays, empty, with its UIDVALIDITY; its inferiors are unaffected.
 * Subscriptions are left alone. Queue errors: RS_EINVAL (bad name, or to
 * inside from). cb's rc: 0, RS_ENOTFOUND (no from), RS_ECONFLICT (a
 * target exists), RS_ETOOBIG (a target name too long). */
int store_mailbox_rename(struct store *st, struct store_acct a,
                         const char *from, const char *to,
                         struct rs_exec *ex, store_done_fn *cb, void *arg,
                         struct rs_err *err) RS_MUST_CHECK;

/* Adds (on) or removes a name from the subscriptions, which exist
 * independently of mailboxes (RFC 9051 6.3.7). Logs STORE_CHANGE_MAILBOX
 * when a mailbox of that name exists and its subscribed flag changes.
 * Idempotent: no change, no entry. Creates the account if it has no
 * state. Queue errors: RS_EINVAL (bad name). */
int store_mailbox_subscribe(struct store *st, struct store_acct a,
                            const char *name, bool on, struct rs_exec *ex,
                            store_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;

/* ---- reads (synchronous) ---- */

/* Subscribed names in octet order, into *names_r: returns owned, one
 * allocation holding the pointers and the strings (free(*names_r)).
 * A never-used account has the default mailboxes subscribed. */
int store_mailbox_subscriptions(struct store *st, struct store_acct a,
                                char ***names_r, size_t *n_r,
                                struct rs_err *err) RS_MUST_CHECK;

/* The keywords ever used in a mailbox (for FLAGS and PERMANENTFLAGS), in
 * their first spelling, ordered case-insensitively; same allocation rule
 * as store_mailbox_subscriptions. An unknown mailbox has none. */
int store_mailbox_keywords(struct store *st, struct store_acct a,
                           uint32_t mailbox, char ***kw_r, size_t *n_r,
                           struct rs_err *err) RS_MUST_CHECK;

/* The mailbox with id mailbox and its counters (one point read): how a
 * selected session learns that its mailbox was deleted meanwhile (ids
 * are never reused; a rename keeps the id). 0, RS_ENOTFOUND or RS_EIO. */
int store_mailbox_get(struct store *st, struct store_acct a, uint32_t mailbox,
                      struct store_mailbox *r, struct rs_err *err)
	RS_MUST_CHECK;

/* One message in the index: 16 octets. */
struct store_index_entry {
	uint32_t uid;
	uint32_t flags;               /* enum store_flag bits */
	uint64_t modseq;
};

/* A mailbox and its messages in UID order, from one snapshot (so that
 * uidnext is above every UID listed and highestmodseq covers every
 * modseq). */
struct store_index {
	struct store_mailbox      mb;
	struct store_index_entry *v;  /* owns */
	size_t                    n;
};

/* SELECT/EXAMINE: fills r in one pass over the mailbox's compact index
 * (no keywords, no meta, no allocation per message). With changedsince >
 * 0 only messages whose modseq is above it are listed (FETCH
 * CHANGEDSINCE, QRESYNC); r->mb is the whole mailbox either way.
 * RS_ENOTFOUND if the mailbox does not exist. A never-used account has
 * its default mailboxes, empty and as store_mailbox_find shows them
 * (uidvalidity 0 until the account's first write: IMAP, which must not
 * show UIDVALIDITY 0, can create the account at login with
 * store_mailbox_subscribe(a, "INBOX", true, ...), an idempotent write
 * that logs nothing). r is emptied first and must be freed with
 * store_index_free (also after an error). */
int store_mailbox_index(struct store *st, struct store_acct a,
                        uint32_t mailbox, uint64_t changedsince,
                        struct store_index *r, struct rs_err *err)
	RS_MUST_CHECK;
/* NULL-safe; leaves r empty. */
void store_index_free(struct store_index *r);

/* The change log of one mailbox: entries with modseq > since, oldest
 * first, at most max (as store_changes_since, without other mailboxes'
 * entries). A deleted mailbox has none. */
int store_mailbox_changes(struct store *st, struct store_acct a,
                          uint32_t mailbox, uint64_t since,
                          struct store_change *out, size_t max, size_t *n_r,
                          struct rs_err *err) RS_MUST_CHECK;

/* UIDs expunged from a mailbox after modseq since, ascending, into
 * *uids_r (returns owned, free()). *complete_r is false when since is
 * below the account's changes_floor: older expunges were trimmed, and the
 * caller must fall back on the client's known UIDs (RFC 7162 3.2.5.2) or
 * a full resync. */
int store_mailbox_vanished(struct store *st, struct store_acct a,
                           uint32_t mailbox, uint64_t since,
                           uint32_t **uids_r, size_t *n_r, bool *complete_r,
                           struct rs_err *err) RS_MUST_CHECK;

/* ---- \Recent (RFC 3501 2.3.2, IMAP4rev1) ----
 * Each mailbox remembers the first UID that no session has claimed as
 * recent (1 when none was). A session that selects the mailbox
 * read-write claims the UIDs from there up to upto; the claim is one
 * write, so concurrent sessions never both get a message. EXAMINE
 * claims nothing: it reads store_recent_first. */
struct store_recent {
	/* inputs */
	struct store_acct acct;
	uint32_t          mailbox;
	uint32_t          upto;       /* claim UIDs below this (capped at
	                               * UIDNEXT) */
	/* result: this claim got [first, upto); none when first >= upto */
	uint32_t          first;
};

/* Queues the claim. Queue errors: RS_EINVAL. cb's rc: 0, RS_ENOTFOUND
 * (mailbox deleted). r is the caller's until cb ran. */
int store_recent_claim(struct store *st, struct store_recent *r,
                       struct rs_exec *ex, store_done_fn *cb, void *arg,
                       struct rs_err *err) RS_MUST_CHECK;
/* The first unclaimed UID of mailbox: the messages at or above it are
 * recent for the next session to select it. 0, or RS_EIO. */
int store_recent_first(struct store *st, struct store_acct a,
                       uint32_t mailbox, uint32_t *uid_r,
                       struct rs_err *err) RS_MUST_CHECK;

#endif
