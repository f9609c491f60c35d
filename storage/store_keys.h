/* store_keys.h: the store's key layout. Every key starts with the 4-byte
 * big-endian partition number, so a partition is one contiguous key range
 * and an account (P 'a' acct) is one contiguous range inside it. Integers
 * are big-endian so that byte order is numeric order. Pure: no I/O.
 *
 *   key                                    value (storage/store_rec.h)
 *   P 'a' acct(8) 'S'                      account state
 *   P 'a' acct(8) 'N' name                 mailbox id, 4 octets BE
 *   P 'a' acct(8) 'X' mbox(4)              mailbox record
 *   P 'a' acct(8) 'M' mbox(4) uid(4)       message record (no meta)
 *   P 'a' acct(8) 'I' mbox(4) chunk(4)     index: (uid, flags, modseq) of
 *                                          uids chunk*64.. (store_idx.c)
 *   P 'a' acct(8) 'C' modseq(8)            change-log record
 *   P 'a' acct(8) 'c' mbox(4) modseq(8)    the same, per mailbox
 *   P 'a' acct(8) 'K' mbox(4) lower(kw)    keyword ever used: its spelling
 *   P 'a' acct(8) 'U' name                 subscription (empty value)
 *   P 'a' acct(8) 'R' mbox(4)              \Recent: first UID no session
 *                                          claimed, 4 BE (store_recent.c)
 *   P 'a' acct(8) 'D' day(4) idem          a delivery's idempotency key:
 *                                          mailbox, uidvalidity, uid
 *                                          (store_idem.c)
 *   P 'b' hash(32) 'D' chunk(4)            blob data, STORE_KEYS_CHUNK each
 *   P 'b' hash(32) 'M'                     blob's parsed meta (opaque)
 *   P 'b' hash(32) 'R'                     blob meta {refcount, size}
 *   P 'u'                                  last UIDVALIDITY issued, 4 BE
 *
 * INBOX is indexed under the name "INBOX" whatever case a client used.
 * The parsed meta of a message (MIME summary, KBs) belongs to its body
 * octets, so it lives with the blob: message records stay small enough
 * for a 100,000-message mailbox to be scanned in milliseconds, and copies
 * never duplicate it. Keywords are case-insensitive (ASCII): the key
 * holds the lower-case form, the value the first spelling seen.
 * Partition STORE_PART_LOCAL holds other modules' keys (store_raw.h); the
 * letters above are only used in partitions 0..STORE_PART_MAX. */
#ifndef ROOST_STORAGE_STORE_KEYS_H
#define ROOST_STORAGE_STORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/* Blob data is split so that a 50 MB message is never one value and can
 * be read piecewise. */
#define STORE_KEYS_CHUNK      ((size_t)256 * 1024)

#define STORE_KEYS_ACCT_LEN   14      /* P 'a' acct tag */
#define STORE_KEYS_MBOX_LEN   18
#define STORE_KEYS_MSG_LEN    22
#define STORE_KEYS_IDX_LEN    22
#define STORE_KEYS_CHANGE_LEN 22
#define STORE_KEYS_MCHANGE_LEN 26     /* P 'a' acct 'c' mbox modseq */
#define STORE_KEYS_BLOB_LEN   38      /* P 'b' hash 'R' */
#define STORE_KEYS_CHUNK_LEN  42
#define STORE_KEYS_UIDV_LEN   5
/* Longest key the store builds itself (a name index key). */
#define STORE_KEYS_MAX        (STORE_KEYS_ACCT_LEN + STORE_MAILBOX_NAME_MAX)
/* Longest range prefix: a name index key plus the separator '/'. */
#define STORE_KEYS_MAX_RANGE  (STORE_KEYS_MAX + 1)

enum store_keys_tag {
	STORE_KEYS_STATE = 'S',
	STORE_KEYS_NAME = 'N',
	STORE_KEYS_MBOX = 'X',
	STORE_KEYS_MSG = 'M',
	STORE_KEYS_IDX = 'I',
	STORE_KEYS_CHANGE = 'C',
	STORE_KEYS_MCHANGE = 'c',
	STORE_KEYS_KEYWORD = 'K',
	STORE_KEYS_SUBSCR = 'U',
	STORE_KEYS_IDEM = 'D',
	STORE_KEYS_RECENT = 'R',
};

static inline void
store_keys_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
store_keys_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void store_keys_put64(uint8_t *p, uint64_t v);
uint64_t store_keys_get64(const uint8_t *p);

/* Each builder writes into k (at least the _LEN above, or STORE_KEYS_MAX)
 * and returns the key length. */

/* P 'a' acct: the whole account's range (13 octets). */
size_t store_keys_acct(uint8_t *k, struct store_acct a);
/* P 'a' acct tag: one record family of the account (14 octets); with
 * STORE_KEYS_MSG it is every message of every mailbox. */
size_t store_keys_acct_tag(uint8_t *k, struct store_acct a,
                           enum store_keys_tag tag);
/* name is at most STORE_MAILBOX_NAME_MAX octets. */
size_t store_keys_name(uint8_t *k, struct store_acct a, const char *name,
                       size_t len);
size_t store_keys_mbox(uint8_t *k, struct store_acct a, uint32_t mbox);
/* P 'a' acct 'M' mbox: one mailbox's messages (18 octets). */
size_t store_keys_msg_prefix(uint8_t *k, struct store_acct a, uint32_t mbox);
size_t store_keys_msg(uint8_t *k, struct store_acct a, uint32_t mbox,
                      uint32_t uid);
/* P 'a' acct 'I' mbox chunk: one chunk of a mailbox's index. */
size_t store_keys_idx(uint8_t *k, struct store_acct a, uint32_t mbox,
                      uint32_t chunk);
size_t store_keys_change(uint8_t *k, struct store_acct a, uint64_t modseq);
/* P 'a' acct tag mbox (18 octets): one mailbox's records of family tag
 * (STORE_KEYS_MSG, STORE_KEYS_IDX, STORE_KEYS_MCHANGE or
 * STORE_KEYS_KEYWORD), or its one STORE_KEYS_RECENT record. */
size_t store_keys_mbox_tag(uint8_t *k, struct store_acct a,
                           enum store_keys_tag tag, uint32_t mbox);
size_t store_keys_mchange(uint8_t *k, struct store_acct a, uint32_t mbox,
                          uint64_t modseq);
/* kw is at most STORE_KEYWORD_MAX octets; the key holds it lower-cased
 * (ASCII), so that spellings differing in case share one key. */
size_t store_keys_keyword(uint8_t *k, struct store_acct a, uint32_t mbox,
                          const char *kw, size_t len);
/* name is at most STORE_MAILBOX_NAME_MAX octets. */
size_t store_keys_subscr(uint8_t *k, struct store_acct a, const char *name,
                         size_t len);
/* idem is at most STORE_IDEM_MAX octets. */
size_t store_keys_idem(uint8_t *k, struct store_acct a, uint32_t day,
                       const uint8_t *idem, size_t len);
size_t store_keys_blob(uint8_t *k, uint32_t part,
                       const uint8_t hash[STORE_HASH_LEN]);
/* P 'b' hash 'M': the body's parsed meta (STORE_KEYS_BLOB_LEN octets). */
size_t store_keys_blob_meta(uint8_t *k, uint32_t part,
                            const uint8_t hash[STORE_HASH_LEN]);
size_t store_keys_chunk(uint8_t *k, uint32_t part,
                        const uint8_t hash[STORE_HASH_LEN], uint32_t chunk);
size_t store_keys_uidv(uint8_t *k, uint32_t part);

/* The smallest key greater than every key starting with prefix, for an
 * iterator's upper bound: into end (plen octets), returning its length,
 * or 0 when prefix is all 0xff and no such key exists. */
size_t store_keys_prefix_end(const uint8_t *prefix, size_t plen,
                             uint8_t *end);

#endif
