/* imap_view.h: the selected mailbox as one IMAP session sees it (RFC 9051
 * 2.3.1.2, 7.5.1; RFC 7162 3.2.10): the UIDs behind the message sequence
 * numbers, each message's system flags and modseq, and the changes other
 * sessions made that the client has not been told about yet. The view
 * turns those into untagged EXISTS, EXPUNGE (or VANISHED under QRESYNC)
 * and FETCH FLAGS responses when the protocol allows. The pure part
 * (update, emit, lookups) needs no store and is unit-tested; reading the
 * store and subscribing to notify are imap_view_open/imap_view_refresh.
 * Loop thread only. */
#ifndef ROOST_NODE_IMAP_VIEW_H
#define ROOST_NODE_IMAP_VIEW_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"
#include "storage/store.h"

struct notify_sub;

/* Bits of imap_view.flags[i] above the enum store_flag bits (0x1f). */
#define IMAP_VIEW_F_RECENT    0x20u  /* \Recent for this session (RFC
                                      * 3501 2.3.2; IMAP4rev1 only) */
#define IMAP_VIEW_F_DIRTY     0x40u  /* flags/keywords/modseq changed:
                                      * a FETCH FLAGS is owed */
#define IMAP_VIEW_F_EXPUNGED  0x80u  /* gone from the store; the client
                                      * still numbers it until the
                                      * EXPUNGE/VANISHED is sent */
#define IMAP_VIEW_SYSFLAGS    0x1fu  /* enum store_flag bits */

/* The "*" of a sequence set in struct imap_view_range. */
#define IMAP_VIEW_STAR        UINT32_MAX

/* Messages are in UID order; message i has sequence number i + 1. */
struct imap_view {
	struct store_acct  acct;
	uint32_t           mailbox;      /* store mailbox id */
	uint32_t           uidvalidity;
	uint32_t           uidnext;      /* above every UID seen */
	uint64_t           modseq;       /* changes up to here are applied */
	uint32_t          *uids;         /* owns: ascending */
	uint8_t           *flags;        /* owns: store_flag | IMAP_VIEW_F_* */
	uint64_t          *modseqs;      /* owns: each message's modseq */
	uint32_t           n;            /* messages, expunged ones included */
	uint32_t           cap;          /* allocated entries of the arrays */
	uint32_t           nexpunged;    /* entries marked EXPUNGED */
	uint32_t           ndirty;       /* entries marked DIRTY */
	uint32_t           exists;       /* the count the client was told */
	bool               readonly;     /* EXAMINE, or SELECT refused rw */
	bool               stale;        /* notify said something changed:
	                                  * imap_view_refresh has work */
	bool               gone;         /* the mailbox was deleted */
	/* \Recent (IMAP4rev1 sessions, imap_recent.c): whether the
	 * session sees it at all, how far it knows which messages are
	 * recent (UIDs below recent_upto are settled), a claim in flight,
	 * and the count the client was last told (UINT32_MAX: never). */
	bool               recent_on;
	bool               claiming;
	bool               recent_changed; /* bits set since the last
	                                    * RECENT: count again */
	uint32_t           recent_upto;
	uint32_t           recent_told;
	struct notify_sub *sub;          /* owns: commits on acct */
	/* The keywords the client was told in FLAGS (imap_flags.c): one
	 * allocation from store_mailbox_keywords. */
	char             **kw;           /* owns */
	size_t             nkw;
};

/* One message's state after a change, for imap_view_update. */
struct imap_view_update {
	uint32_t uid;
	bool     expunged;               /* the message is gone */
	uint32_t flags;                  /* enum store_flag bits */
	uint64_t modseq;
};

/* A range of a sequence set, lo..hi inclusive in either order;
 * IMAP_VIEW_STAR stands for "*" (RFC 9051 9, seq-number). */
struct imap_view_range {
	uint32_t lo;
	uint32_t hi;
};

/* How imap_view_emit writes a FETCH FLAGS response's keywords: append
 * " kw1 kw2" (each with its leading space) for message uid to out.
 * Called before the response's first octet is written, so it may send
 * responses of its own first (a new FLAGS list). NULL: system flags
 * only. */
typedef void imap_view_keywords_fn(void *arg, uint32_t uid,
                                   struct evbuffer *out);

/* What imap_view_emit may send and how (the session's state). */
struct imap_view_emit_opts {
	bool allow_expunge;              /* RFC 9051 7.5.1: false during
	                                  * FETCH, STORE, SEARCH without UID */
	bool vanished;                   /* QRESYNC enabled: VANISHED uid-set
	                                  * instead of EXPUNGE (RFC 7162
	                                  * 3.2.10), and UID in FETCH */
	bool modseq;                     /* CONDSTORE enabled: UID and
	                                  * MODSEQ in FETCH (RFC 7162 3.1) */
	bool recent;                     /* IMAP4rev1: \Recent in FETCH
	                                  * FLAGS, "* n RECENT" when the
	                                  * count changed (RFC 3501 7.3.2) */
	imap_view_keywords_fn *keywords;
	void *keywords_arg;
};

/* ---- pure part (no store) ---- */

/* An empty view with room for hint messages (SELECT's count: growing a
 * 100,000-entry view step by step costs more than filling it); free with
 * imap_view_free. Never returns NULL. */
struct imap_view *imap_view_new(struct store_acct a, uint32_t mailbox,
                                size_t hint);
/* Unsubscribes and frees *pp, sets it to NULL; NULL-safe. */
void imap_view_free(struct imap_view **pp);

/* Appends a message the client already knows about (SELECT's list):
 * no response owed. UIDs must ascend. */
void imap_view_add_known(struct imap_view *v, uint32_t uid, uint32_t flags,
                         uint64_t modseq);

/* Applies changes up to modseq: a UID above the last becomes a new
 * message (EXISTS owed), a known UID's new flags/modseq mark it DIRTY, an
 * expunged one is marked EXPUNGED; unknown UIDs below the last are
 * ignored (appended and expunged in between). Sets v->modseq. */
void imap_view_update(struct imap_view *v, const struct imap_view_update *u,
                      size_t n, uint64_t modseq);

/* Writes the untagged responses owed, within o's rules: EXPUNGE in
 * descending sequence order (each number valid when sent) or one VANISHED,
 * then "* n EXISTS" if the count grew, "* n RECENT" (o->recent) if the
 * count of recent messages is not what the client was told, then FETCH
 * (FLAGS ...) for DIRTY messages. Expunged entries leave the view once reported. Returns the
 * number of lines written. */
size_t imap_view_emit(struct imap_view *v, const struct imap_view_emit_opts *o,
                      struct evbuffer *out);

/* Marks the messages with UIDs in [lo, hi) \Recent. */
void imap_view_set_recent(struct imap_view *v, uint32_t lo, uint32_t hi);
/* Messages marked \Recent among those the client numbers. */
uint32_t imap_view_recent_count(const struct imap_view *v);

/* Sequence number of uid, or 0 if it is not in the view. O(log n). */
uint32_t imap_view_seq(const struct imap_view *v, uint32_t uid);
/* UID of sequence number seq (1..n), or 0 out of range. */
uint32_t imap_view_uid(const struct imap_view *v, uint32_t seq);
/* True if message seq is expunged but not reported yet (FETCH of it
 * answers from nothing: RFC 9051 7.5.1 lets the server send NO or omit). */
bool imap_view_is_expunged(const struct imap_view *v, uint32_t seq);

/* Resolves a sequence set (uid false: sequence numbers; uid true: UIDs)
 * into the UIDs of the view's messages it names, ascending, without
 * duplicates, expunged-pending ones included. "*" is the last message
 * (its UID when uid is true, so "UID 900:*" names the last message even
 * if its UID is below 900). *uids_r returns owned (free()), NULL when
 * *n_r is 0. Sequence numbers above n: RS_EINVAL (RFC 9051 9: invalid
 * message sequence number, answer BAD); UIDs outside: silently skipped. */
int imap_view_resolve(const struct imap_view *v,
                      const struct imap_view_range *ranges, size_t nranges,
                      bool uid, uint32_t **uids_r, size_t *n_r,
                      struct rs_err *err) RS_MUST_CHECK;

/* ---- store part ---- */

struct imap_session;

/* Brings the view up to date with the store's change log of its mailbox
 * (store_mailbox_changes since v->modseq, then the current flags of the
 * messages that changed). Does nothing unless v->stale. 0, or -1 with err
 * (the store failed; the view stays as it was). */
int imap_view_refresh(struct imap_session *s, struct rs_err *err)
	RS_MUST_CHECK;

#endif
