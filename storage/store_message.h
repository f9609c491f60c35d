/* store_message.h: IMAP's writes on messages: STORE with keywords and
 * CONDSTORE's UNCHANGEDSINCE (RFC 9051 6.4.6, RFC 7162 3.1.3), COPY and
 * MOVE with UIDPLUS results (RFC 4315, RFC 6851), and MULTIAPPEND (RFC
 * 3502). Part of the store API: include storage/store.h, which includes
 * this. Each call is one atomic operation of the writer's group: when cb's
 * rc is not 0 nothing of it was stored. Requests carry their inputs and,
 * like struct store_rcpt, receive their results before cb runs; the
 * struct stays the caller's and must live until then. Results are only
 * meaningful when rc is 0. */
#ifndef ROOST_STORAGE_STORE_MESSAGE_H
#define ROOST_STORAGE_STORE_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/* A keyword is an IMAP atom (RFC 9051 9: ATOM-CHAR, so not "\\..."), at
 * most STORE_KEYWORD_MAX octets. Keywords compare case-insensitively
 * (ASCII); the first spelling stored is kept. $Junk, $NotJunk and
 * $Forwarded are plain keywords. "NIL" (any case) is not one: it is the
 * nil token of the grammar. */
bool store_keyword_valid(const char *kw);

/* ---- STORE ---- */

enum store_flags_status {
	STORE_FLAGS_CHANGED = 1,      /* changed: a new modseq */
	STORE_FLAGS_SAME,             /* already so: modseq kept */
	STORE_FLAGS_MODIFIED,         /* modseq > unchangedsince: left alone,
	                               * for the MODIFIED response code */
};

struct store_flags_item {
	uint32_t uid;
	enum store_flags_status status;
	uint64_t modseq;              /* the message's modseq afterwards */
	uint64_t prev_modseq;         /* ... and before this STORE: a caller
	                               * that knew this one knows every
	                               * earlier change of the message */
	uint32_t flags;               /* enum store_flag bits afterwards */
	uint32_t kw_first;            /* keywords afterwards: */
	uint32_t nkw;                 /* kw[kw_first .. kw_first + nkw) */
};

struct store_flags {
	/* inputs, copied by store_flags_update */
	struct store_acct  acct;
	uint32_t           mailbox;
	const uint32_t    *uids;      /* any order, duplicates allowed */
	size_t             n;
	enum store_flag_op op;
	uint32_t           flags;     /* enum store_flag bits */
	const char *const *keywords;  /* store_keyword_valid each */
	size_t             nkeywords; /* <= STORE_KEYWORDS_MAX */
	bool               conditional; /* UNCHANGEDSINCE given */
	uint64_t           unchangedsince;
	/* results: one item per listed UID that exists, ascending */
	struct store_flags_item *items;   /* owns */
	size_t             nitems;
	const char       **kw;        /* owns; strings in kwpool */
	char              *kwpool;    /* owns */
};

/* STORE [UNCHANGEDSINCE]: applies op to the flags and keywords of the
 * listed messages (SET replaces both). Each message that changes gets
 * its own modseq and STORE_CHANGE_FLAGS entry; missing UIDs are skipped.
 * Queue errors: RS_EINVAL (flags, op, keyword). cb's rc: 0, RS_ENOTFOUND
 * (mailbox), RS_ETOOBIG (a message would pass STORE_KEYWORDS_MAX, or the
 * mailbox STORE_MAILBOX_KEYWORDS_MAX: IMAP's [LIMIT]). Free the results
 * with store_flags_free. */
int store_flags_update(struct store *st, struct store_flags *f,
                       struct rs_exec *ex, store_done_fn *cb, void *arg,
                       struct rs_err *err) RS_MUST_CHECK;
/* Frees the results; inputs untouched. */
void store_flags_free(struct store_flags *f);

/* ---- COPY and MOVE ---- */

struct store_copy {
	/* inputs, copied by store_copy */
	struct store_acct  acct;
	uint32_t           src;       /* source mailbox id */
	const char        *dst;       /* destination name */
	const uint32_t    *uids;      /* any order, duplicates allowed */
	size_t             n;
	bool               move;      /* RFC 6851: copy and expunge at once */
	struct store_quota quota;     /* COPY only: MOVE adds nothing */
	/* results */
	bool               dst_missing; /* RS_ENOTFOUND was the destination */
	uint32_t           dst_id;
	uint32_t           uidvalidity; /* of the destination (COPYUID) */
	uint32_t          *src_uids;  /* owns: UIDs copied, ascending */
	uint32_t          *dst_uids;  /* owns: their new UIDs, same order */
	size_t             ncopied;
};

/* COPY/MOVE of the listed messages of mailbox src into mailbox dst of
 * the same account, in ascending UID order: flags, keywords, internal
 * date and body (one more blob reference each for COPY) carry over; each
 * copy gets the destination's next UID and a STORE_CHANGE_APPEND entry,
 * and for MOVE each source message a STORE_CHANGE_EXPUNGE entry, in the
 * same atomic write. Missing UIDs are skipped. cb's rc: 0, RS_ENOTFOUND
 * (dst_missing tells which mailbox: [TRYCREATE] for the destination),
 * RS_EQUOTA (COPY over quota: nothing copied), RS_ETOOBIG (UIDs used up).
 * Free the results with store_copy_free. */
int store_copy(struct store *st, struct store_copy *c, struct rs_exec *ex,
               store_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;
void store_copy_free(struct store_copy *c);

/* ---- APPEND and MULTIAPPEND ---- */

struct store_append_msg {
	struct store_message msg;     /* borrowed until cb runs */
	uint32_t           flags;     /* enum store_flag bits */
	const char *const *keywords;  /* store_keyword_valid each */
	size_t             nkeywords;
};

struct store_append {
	/* inputs, borrowed until cb runs */
	struct store_acct  acct;
	const char        *mailbox;   /* NULL or "INBOX": the inbox */
	const struct store_append_msg *msgs;
	size_t             n;
	bool               enforce_quota;
	struct store_quota quota;
	/* results: the messages got UIDs uid_first .. uid_first + n - 1 */
	uint32_t           mailbox_id;
	uint32_t           uidvalidity; /* APPENDUID */
	uint32_t           uid_first;
};

/* APPEND, or MULTIAPPEND's n messages, all or none (RFC 3502), in order,
 * with the client's internal dates, flags and keywords; one
 * STORE_CHANGE_APPEND entry each. Creates the account if it has no
 * state. Queue errors: RS_EINVAL, RS_ETOOBIG (a message or its meta too
 * big). cb's rc: 0, RS_ENOTFOUND (mailbox: [TRYCREATE]), RS_EQUOTA (the
 * whole set is over quota), RS_ETOOBIG (STORE_MAILBOX_KEYWORDS_MAX, or
 * UIDs used up). */
int store_append(struct store *st, struct store_append *ap,
                 struct rs_exec *ex, store_done_fn *cb, void *arg,
                 struct rs_err *err) RS_MUST_CHECK;

#endif
