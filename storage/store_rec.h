/* store_rec.h: the binary encoding of the store's values. Each record is
 * a version octet followed by fields, integers as LEB128 varints. Decoders
 * check every length against the value, so a truncated or corrupt value
 * gives RS_EIO, never a read out of bounds. A version-1 decoder ignores
 * octets after the fields it knows, so fields can be appended later
 * without a version bump; a value that ends where an older writer's ended
 * reads the appended group as 0 (account: log_floor, then idem_day;
 * mailbox: deleted,
 * deleted_bytes, nkeywords). Pure: no I/O, no allocation. */
#ifndef ROOST_STORAGE_STORE_REC_H
#define ROOST_STORAGE_STORE_REC_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define STORE_REC_V1        1
#define STORE_REC_FLAGS_ALL 0x1fu   /* every enum store_flag bit */

/* Account state: P 'a' acct 'S'. */
struct store_rec_acct {
	uint64_t modseq;              /* highest modseq handed out */
	uint64_t bytes;               /* sum of message sizes */
	uint64_t messages;
	uint32_t next_mbox;           /* id the next new mailbox gets */
	uint32_t nmbox;               /* mailboxes that exist */
	uint64_t log_floor;           /* change log trimmed up to here */
	uint32_t idem_day;            /* idempotency keys older than this
	                               * day were trimmed (store_idem.c) */
};

/* Blob meta: P 'b' hash 'R'. */
struct store_rec_blob {
	uint64_t refs;                /* message records pointing here */
	uint64_t size;                /* octets over all chunks */
};

/* Upper bounds of an encoded record, for stack buffers. */
#define STORE_REC_ACCT_MAX   (1 + 7 * 10)
#define STORE_REC_BLOB_MAX   (1 + 2 * 10)
#define STORE_REC_CHANGE_MAX (1 + 3 * 10)
#define STORE_REC_MBOX_MAX   (1 + 12 * 10 + STORE_MAILBOX_NAME_MAX)

/* Encoders write into out (at least the _MAX above, or
 * store_rec_msg_bound() octets) and return the length. Decoders return 0
 * or RS_EIO. */
size_t store_rec_acct_enc(uint8_t *out, const struct store_rec_acct *r);
int store_rec_acct_dec(const uint8_t *p, size_t len, struct store_rec_acct *r)
	RS_MUST_CHECK;

size_t store_rec_blob_enc(uint8_t *out, const struct store_rec_blob *r);
int store_rec_blob_dec(const uint8_t *p, size_t len, struct store_rec_blob *r)
	RS_MUST_CHECK;

/* The key holds the modseq; the record kind, mailbox and uid. */
size_t store_rec_change_enc(uint8_t *out, const struct store_change *c);
int store_rec_change_dec(const uint8_t *p, size_t len, struct store_change *c)
	RS_MUST_CHECK;

/* The key holds the id; everything else is in the record. The decoder
 * leaves m->id alone and NUL-terminates m->name. */
size_t store_rec_mbox_enc(uint8_t *out, const struct store_mailbox *m);
int store_rec_mbox_dec(const uint8_t *p, size_t len, struct store_mailbox *m)
	RS_MUST_CHECK;

/* The key holds mailbox and uid; the decoder leaves them alone. Keywords
 * are stored with their NUL, so the decoded m->keywords are borrowed from
 * p (valid while p is). The meta is not part of the record (it lives with
 * the blob): the encoder ignores m->meta, the decoder sets it to NULL.
 * The encoder takes the keyword strings as C strings and trusts the
 * limits of store.h (checked when the write was queued). */
size_t store_rec_msg_bound(const struct store_msg *m);
size_t store_rec_msg_enc(uint8_t *out, const struct store_msg *m);
int store_rec_msg_dec(const uint8_t *p, size_t len, struct store_msg *m)
	RS_MUST_CHECK;
/* Only the leading fields, for scans that need no more (the mailbox
 * index): no keyword or hash checks. 0 or RS_EIO. */
int store_rec_msg_head_dec(const uint8_t *p, size_t len, uint64_t *modseq_r,
                           uint32_t *flags_r) RS_MUST_CHECK;

#endif
