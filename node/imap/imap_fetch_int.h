/* imap_fetch_int.h: the state of one FETCH command, shared by the files
 * of the FETCH engine: imap_fetch.c (the command, the record walk, the
 * items) and imap_fetch_body.c (body sections: literals streamed from the
 * store, headers filtered, BINARY decoded). Internal to node/imap. */
#ifndef ROOST_NODE_IMAP_FETCH_INT_H
#define ROOST_NODE_IMAP_FETCH_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "node/imap/imap_fetch_items.h"
#include "node/imap/imap_fetch_meta.h"
#include "node/imap/imap_int.h"
#include "node/mime/mime_decode.h"

#define IMAP_FETCH_CHUNK      ((size_t)256 * 1024) /* one blob read */
#define IMAP_FETCH_MEM_MAX    ((size_t)32 * 1024 * 1024) /* decoded or
                                                        * filtered part */
#define IMAP_FETCH_DEC_INLINE ((size_t)1024 * 1024) /* bigger: streamed */
#define IMAP_FETCH_ITER_GAP   256u  /* UIDs skipped by walking, not seeking */

/* The message being answered. */
struct imap_fetch_cur {
	uint32_t uid, seq;
	uint32_t flags;
	uint64_t modseq;
	int64_t  internal_date;
	uint64_t size;
	uint8_t  blob[STORE_HASH_LEN];
	const char *kw[STORE_KEYWORDS_MAX]; /* into kwbuf */
	size_t   nkw;
	struct rs_buf kwbuf;          /* owns */
	const uint8_t *meta;          /* borrowed from the iterator */
	size_t   meta_len;
	bool     meta_loaded;
	struct imap_fetch_meta fm;    /* owns */
};

struct imap_fetch {
	struct imap_fetch_req req;    /* owns */
	bool     uid_cmd;
	uint32_t *uids;               /* owns: the set, ascending */
	size_t   n, next;
	uint32_t *seen;               /* owns: UIDs this FETCH set \Seen on */
	size_t   nseen;
	bool     waiting;             /* the \Seen write is in flight */
	/* the record walk */
	struct store_msg_iter *it;    /* owns */
	struct store_msg pend;        /* borrowed from it: read, not used */
	bool     have_pend;
	bool     it_end;
	uint32_t it_pos;              /* the last UID read */
	/* the response */
	bool     in_msg;              /* "* n FETCH (" written */
	size_t   item;                /* next item of the message */
	struct imap_fetch_cur cur;
	uint64_t lit_off, lit_left;   /* a literal being streamed */
	/* BINARY of a big encoded part: decoded as it streams. lit_left
	 * counts decoded octets still to send. */
	bool     dec_on;
	bool     dec_done;            /* the decoder was finished */
	struct mime_decoder dec;
	uint64_t dec_end;             /* the part's end in the message */
	uint64_t dec_skip;            /* decoded octets before the partial */
	uint8_t *dec_in, *dec_out;    /* owns: one chunk each */
	struct rs_buf scratch;        /* owns: filtered or decoded parts */
	bool     unknown_cte;
	bool     failed;
};

/* imap_fetch.c: the current message's summary, loaded on first use.
 * 0 or -1 (logged). */
int imap_fetch__meta(struct imap_session *s, struct imap_fetch *f)
	RS_MUST_CHECK;

/* imap_fetch_body.c: writes a body item (BODY[...], BINARY[...],
 * BINARY.SIZE[...], RFC822...); a literal too big to write now is left
 * in f->lit_* for imap_fetch_body__stream. */
void imap_fetch_body__section(struct imap_session *s, struct imap_fetch *f,
                              const struct imap_fetch_item *it);
/* One chunk of the literal being streamed. 0, or -1 (the session was
 * closed: a body vanished mid-literal). */
int imap_fetch_body__stream(struct imap_session *s, struct imap_fetch *f)
	RS_MUST_CHECK;

#endif
