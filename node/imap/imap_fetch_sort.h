/* imap_fetch_sort.h: the ordering of SORT (RFC 5256 3, RFC 5957
 * DISPLAYFROM/DISPLAYTO): one record per message with its keys, compared
 * criterion by criterion, ties broken by sequence number. Pure; the SORT
 * command (imap_sort.c) fills the records. Internal to node/imap. */
#ifndef ROOST_NODE_IMAP_FETCH_SORT_H
#define ROOST_NODE_IMAP_FETCH_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"

enum imap_fetch_sort_key {
	IMAP_FETCH_SORT_ARRIVAL = 1,
	IMAP_FETCH_SORT_CC,
	IMAP_FETCH_SORT_DATE,
	IMAP_FETCH_SORT_FROM,
	IMAP_FETCH_SORT_SIZE,
	IMAP_FETCH_SORT_SUBJECT,
	IMAP_FETCH_SORT_TO,
	IMAP_FETCH_SORT_DISPLAYFROM,
	IMAP_FETCH_SORT_DISPLAYTO,
};

#define IMAP_FETCH_SORT_CRIT_MAX 16

struct imap_fetch_sort_crit {
	enum imap_fetch_sort_key key;
	bool reverse;
};

/* One message's keys; strings borrowed (from the caller's pool). */
struct imap_fetch_sort_rec {
	uint32_t seq, uid;
	uint64_t modseq;             /* not a key: SORT reports the highest
	                              * (RFC 7162 3.1.5) */
	uint64_t size;
	int64_t  arrival;            /* INTERNALDATE */
	int64_t  date;               /* Date:, or INTERNALDATE if none
	                              * (RFC 5256 2.2) */
	struct rs_str subject;       /* base subject */
	struct rs_str from, to, cc;  /* addr-mailbox, lowercased */
	struct rs_str dfrom, dto;    /* display names, or the mailbox */
};

/* Sorts recs[0..n) by crit[0..ncrit), then by sequence number. */
void imap_fetch_sort(struct imap_fetch_sort_rec *recs, size_t n,
                     const struct imap_fetch_sort_crit *crit, size_t ncrit);

#endif
