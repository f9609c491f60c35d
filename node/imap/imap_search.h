/* imap_search.h: SEARCH programs (RFC 9051 6.4.4 with the IMAP4rev1 keys
 * of RFC 3501 6.4.4, MODSEQ of RFC 7162 3.1.5, RETURN options of RFC 4731
 * and RFC 5182 SAVE/"$"), SORT criteria (RFC 5256, RFC 5957), and the
 * evaluator the SEARCH/SORT executor calls per message. Parsing reads the
 * argument tree of imap_parser.h; evaluation asks the caller for header
 * and body text only when a key needs it. Pure: no I/O. */
#ifndef ROOST_NODE_IMAP_SEARCH_H
#define ROOST_NODE_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"
#include "node/imap/imap_fetch_sort.h"   /* struct imap_fetch_sort_crit */
#include "node/imap/imap_parser.h"
#include "node/imap/imap_seqset.h"

#define IMAP_SEARCH_NODES_MAX  1024   /* keys in one program */
#define IMAP_SEARCH_DEPTH_MAX  32     /* nesting of (), NOT and OR */

/* err->code of imap_search_parse for an unknown CHARSET: answer
 * NO [BADCHARSET (UTF-8 US-ASCII)]. */
#define IMAP_SEARCH_EBADCHARSET RS_ENOTFOUND

enum imap_search_key {
	IMAP_SEARCH_ALL = 1,
	IMAP_SEARCH_AND,        /* children: a parenthesised list, the top */
	IMAP_SEARCH_OR,         /* two children */
	IMAP_SEARCH_NOT,        /* one child */
	IMAP_SEARCH_FLAG,       /* flag (store_flag bit) set */
	IMAP_SEARCH_UNFLAG,     /* flag clear */
	IMAP_SEARCH_RECENT,
	IMAP_SEARCH_KEYWORD,    /* str */
	IMAP_SEARCH_UNKEYWORD,
	IMAP_SEARCH_BEFORE,     /* INTERNALDATE; num: day start (UTC) */
	IMAP_SEARCH_ON,
	IMAP_SEARCH_SINCE,
	IMAP_SEARCH_SENTBEFORE, /* Date: header, in its own zone */
	IMAP_SEARCH_SENTON,
	IMAP_SEARCH_SENTSINCE,
	IMAP_SEARCH_LARGER,     /* num: octets */
	IMAP_SEARCH_SMALLER,
	IMAP_SEARCH_HEADER,     /* field, str (FROM, TO, CC, BCC, SUBJECT) */
	IMAP_SEARCH_BODY,       /* str */
	IMAP_SEARCH_TEXT,       /* str: header and body */
	IMAP_SEARCH_SEQSET,     /* set: sequence numbers */
	IMAP_SEARCH_UIDSET,     /* set: UIDs */
	IMAP_SEARCH_MODSEQ,     /* num: modseq at least */
};

/* A program is its nodes in pre-order, as imap_arg: n + n->skip is the
 * next sibling. nodes[0] is the top-level AND. */
struct imap_search_node {
	enum imap_search_key key;
	uint32_t skip;          /* 1 + descendants */
	uint32_t nchildren;
	uint32_t flag;          /* FLAG, UNFLAG */
	uint32_t need;          /* IMAP_SEARCH_NEED_* of this subtree */
	int64_t  num;           /* dates, sizes, modseq */
	char    *field;         /* owns: HEADER's field name */
	char    *str;           /* owns: the string searched, a keyword */
	size_t   len;           /* of str */
	struct imap_seqset set; /* owns: SEQSET, UIDSET as parsed */
	struct imap_seqset rset;/* owns: set with "*" resolved */
};

/* ESEARCH RETURN options (RFC 4731 3.1, RFC 5182). */
#define IMAP_SEARCH_RET_MIN    0x01u
#define IMAP_SEARCH_RET_MAX    0x02u
#define IMAP_SEARCH_RET_ALL    0x04u
#define IMAP_SEARCH_RET_COUNT  0x08u
#define IMAP_SEARCH_RET_SAVE   0x10u

/* What evaluating a program needs beyond the message's index entry
 * (seq, UID, flags, keywords, modseq, INTERNALDATE, size). */
#define IMAP_SEARCH_NEED_META   0x01u  /* the MIME summary: sent date */
#define IMAP_SEARCH_NEED_HEADER 0x02u  /* header fields */
#define IMAP_SEARCH_NEED_BODY   0x04u  /* body text */

struct imap_search {
	struct imap_search_node *nodes;     /* owns */
	size_t   n;
	bool     esearch;       /* RETURN was given: answer ESEARCH */
	unsigned ret;           /* IMAP_SEARCH_RET_*; RETURN () means ALL */
	bool     uses_saved;    /* "$" appears: needs the saved result */
	bool     uses_modseq;   /* MODSEQ appears: RFC 7162 3.1.5 answers
	                         * with (MODSEQ n) */
	uint32_t max_seq, max_uid;          /* of imap_search_resolve */
	const struct imap_seqset *saved;    /* borrowed: UIDs of "$" */
};

/* Parses SEARCH's arguments args[0..nargs) (top level): [RETURN (...)]
 * [CHARSET name] keys. *prog_r returns owned (imap_search_free). 0, or -1
 * with err: RS_EINVAL (answer BAD with err->msg), RS_ETOOBIG (too many
 * keys or too deep), IMAP_SEARCH_EBADCHARSET. Strings are copied: the
 * program outlives the command's argument tree. */
int imap_search_parse(const struct imap_arg *args, size_t nargs,
                      struct imap_search **prog_r, struct rs_err *err)
	RS_MUST_CHECK;
/* The same for SORT and THREAD, whose charset is positional and
 * mandatory: args[0] is the charset, the keys follow; no RETURN. */
int imap_search_parse_charset_keys(const struct imap_arg *args, size_t nargs,
                                   struct imap_search **prog_r,
                                   struct rs_err *err) RS_MUST_CHECK;
/* Frees *pp, sets it to NULL; NULL-safe. */
void imap_search_free(struct imap_search **pp);

/* SORT criteria (RFC 5256 3: ARRIVAL CC DATE FROM REVERSE SIZE SUBJECT
 * TO; RFC 5957: DISPLAYFROM DISPLAYTO) from the list a into crit[0..max),
 * *n_r filled. 0, or -1 with err (empty, unknown, REVERSE last or
 * doubled, too many). */
int imap_search_sort_parse(const struct imap_arg *a,
                           struct imap_fetch_sort_crit *crit, size_t max,
                           size_t *n_r, struct rs_err *err) RS_MUST_CHECK;

/* Before evaluating: the mailbox's last sequence number and highest UID
 * for "*", and the saved result (UIDs; NULL: empty) for "$". */
void imap_search_resolve(struct imap_search *prog, uint32_t max_seq,
                         uint32_t max_uid, const struct imap_seqset *saved);

/* IMAP_SEARCH_NEED_* bits: 0 means flags and the index alone decide. */
unsigned imap_search_needs(const struct imap_search *prog);

/* Text lookups for one message; 1 found, 0 not, -1 the data could not
 * be read (evaluation fails). needle[0..nlen) is matched as a substring,
 * case folded as imap_search_text.h says.
 * field: the header field's name (decoded text of every such field), or
 * NULL for the whole header. */
typedef int imap_search_header_fn(void *arg, const char *field,
                                  const char *needle, size_t nlen);
/* The body text (text false: BODY) or the whole message (text true:
 * TEXT, header included). */
typedef int imap_search_body_fn(void *arg, bool text, const char *needle,
                                size_t nlen);

/* One message, filled by the caller; the callbacks are called only when
 * a key needs them and at most once per key. */
struct imap_search_msg {
	uint32_t seq, uid;
	uint32_t flags;               /* enum store_flag bits */
	bool     recent;
	const char *const *keywords;  /* borrowed */
	size_t   nkeywords;
	uint64_t modseq;
	int64_t  internal_date;       /* seconds since the epoch */
	uint64_t size;
	int64_t  sent_date;           /* Date: in UTC; 0 if none (then
	                               * INTERNALDATE is used) */
	int32_t  sent_tz;             /* its zone, minutes east */
	imap_search_header_fn *header;
	imap_search_body_fn   *body;
	void    *arg;
};

/* 1 the message matches, 0 not, -1 a callback failed. */
int imap_search_eval(const struct imap_search *prog,
                     const struct imap_search_msg *m);

#endif
