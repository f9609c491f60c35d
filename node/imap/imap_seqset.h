/* imap_seqset.h: IMAP sequence sets (RFC 9051 9 sequence-set, RFC 5182
 * "$"): parsing into sorted, merged ranges, resolving "*" against the
 * mailbox, O(log n) membership, iteration, and compact formatting of UID
 * sets (COPYUID, APPENDUID, VANISHED, ESEARCH ALL). Also the paired sets
 * of QRESYNC's seq-match-data (RFC 7162 3.2.5.2). Pure: no I/O. */
#ifndef ROOST_NODE_IMAP_SEQSET_H
#define ROOST_NODE_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"

/* "*" in a range before imap_seqset_resolve (as IMAP_VIEW_STAR). A number
 * 4294967295 reads as 4294967294: no UID or sequence number gets that
 * high (the store's last UID is 4294967294), and it must not read as
 * "*", which alone means the last message. */
#define IMAP_SEQSET_STAR UINT32_MAX
/* Default cap on the ranges of one set. */
#define IMAP_SEQSET_RANGES_MAX 4096

struct imap_seqset_range {
	uint32_t lo, hi;            /* lo <= hi, inclusive */
};

struct imap_seqset {
	struct imap_seqset_range *r;  /* owns: ascending, disjoint, not
	                               * adjacent */
	size_t n;
	bool   saved;               /* "$": the saved SEARCH result; no
	                             * ranges */
};

/* Parses s ("1:*,5,7:9" or "$") into *set (freed with imap_seqset_free
 * even on error). Ranges are sorted and merged with "*" as the largest
 * value. 0, or -1 with err: RS_EINVAL (0, empty element, junk) or
 * RS_ETOOBIG (more than max_ranges elements; 0 means the default). */
int imap_seqset_parse(struct rs_str s, size_t max_ranges,
                      struct imap_seqset *set, struct rs_err *err)
	RS_MUST_CHECK;

/* Frees the ranges; set is empty after. NULL-safe. */
void imap_seqset_free(struct imap_seqset *set);

/* Replaces "*" by max (the last sequence number or the highest UID),
 * reorders reversed ranges ("10:*" with max 5 is 5:10) and merges again.
 * With max 0 (an empty mailbox) every range that named "*" goes. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t max);

/* True if v is in the set (binary search; "*" counts as the largest
 * value until resolved). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t v);

/* How many values the set holds ("*" counts as one value until
 * resolved). */
uint64_t imap_seqset_count(const struct imap_seqset *set);

/* The largest value, 0 if empty. */
uint32_t imap_seqset_max(const struct imap_seqset *set);

struct imap_seqset_iter {
	const struct imap_seqset *set;
	size_t   i;
	uint64_t next;
};

void imap_seqset_iter_init(struct imap_seqset_iter *it,
                           const struct imap_seqset *set);
/* True with *v_r the next value in ascending order; false at the end. */
bool imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *v_r);

/* Appends the set compactly ("1:3,5"; "*" as "*"). 0 or RS_ETOOBIG. */
int imap_seqset_format(struct rs_buf *b, const struct imap_seqset *set)
	RS_MUST_CHECK;
/* Appends ascending values compactly: "1:3,5,9:10"; nothing if n is 0.
 * 0 or RS_ETOOBIG. */
int imap_seqset_format_uids(struct rs_buf *b, const uint32_t *v, size_t n)
	RS_MUST_CHECK;

/* QRESYNC seq-match-data: the known sequence numbers and UIDs, paired in
 * the order written (no "*", no "$"), at most max_values of each.
 * *seqs_r and *uids_r return owned arrays of *n_r values. 0, or -1 with
 * err (bad set, counts differ, RS_ETOOBIG past max_values). */
int imap_seqset_match_pairs(struct rs_str seqs, struct rs_str uids,
                            size_t max_values, uint32_t **seqs_r,
                            uint32_t **uids_r, size_t *n_r,
                            struct rs_err *err) RS_MUST_CHECK;

#endif
