/* mime_int.h: what the files of node/mime share and nothing outside the
 * module includes: the summary's byte layout, the sticky-error output
 * buffer, IMAP string emitters and the header-field readers the parser
 * and the envelope code both use. */
#ifndef ROOST_NODE_MIME_INT_H
#define ROOST_NODE_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "node/mime/mime.h"

/* The summary, version 1, integers little-endian:
 *   0  "RMS1"   magic and version
 *   4  u32      FNV-1a of bytes [8, len): any damaged octet is caught
 *   8  u32      flags
 *  12  u32      nparts
 *  16  u64      msg_size
 *  24  i64      sent_date
 *  32  i32      sent_tz
 *  36  u8       subject_reply, 3 octets zero
 *  40  u32[13]  lengths of the strings below
 *  92  u32      zero
 *  96  strings: envelope, bodystructure, body, then the ten sort-key
 *      strings in struct mime_sort_keys order
 *  table_off: nparts records of MIME_REC_SIZE octets, in preorder:
 *   0 u8 kind, 1 u8 cte, 2 u16 zero, 4 u32 end (index after the subtree),
 *   8 u64 hdr_off, hdr_len, body_len, lines, msg_hdr_off, msg_hdr_len,
 *     msg_text_off, msg_text_len.
 * The first record is the message's own body entity (its header is the
 * message header); a message part's only child is the embedded body. */
#define MIME_META_MAGIC   "RMS1"
#define MIME_META_HDR     96u
#define MIME_META_NSTR    13u
#define MIME_REC_SIZE     72u

/* An output buffer whose first failure sticks, so that emitters need not
 * check every append; rc is tested once at the end. */
struct mime_out {
	struct rs_buf buf;        /* owns */
	int           rc;         /* 0 or RS_ETOOBIG */
};

static inline void
mime__put(struct mime_out *o, const void *p, size_t n)
{
	if (o->rc == 0)
		o->rc = rs_buf_append(&o->buf, p, n);
}

static inline void
mime__puts(struct mime_out *o, const char *s)
{
	mime__put(o, s, strlen(s));
}

static inline bool
mime__wsp(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends an IMAP string holding p[0..n) (CR and LF dropped when unfold,
 * NUL always dropped, leading and trailing white space trimmed when
 * unfold): quoted when every octet is printable ASCII, else a literal. */
void mime__str(struct mime_out *o, const char *p, size_t n, bool unfold);
/* The same, NIL when p is NULL (an absent field; a present but empty
 * one is "", as Dovecot sends it). */
void mime__nstr(struct mime_out *o, const char *p, size_t n, bool unfold);

/* Offset of the first octet at or after i that is neither white space
 * nor inside a comment (RFC 5322 3.2.2 CFWS), or n. */
size_t mime__skip_cfws(const char *p, size_t n, size_t i);

/* Appends the words of an RFC 5322 phrase (or local part, domain):
 * quoted strings unquoted, comments dropped, runs of white space made one
 * space, trimmed. */
void mime__phrase(const char *p, size_t n, struct mime_out *o);

/* Header fields the parser keeps: the first occurrence of each, the last
 * for the ENVELOPE's strings (as Dovecot does). */
enum mime_field {
	MIME_F_CTYPE = 0, MIME_F_CTE, MIME_F_CDISP, MIME_F_CLANG, MIME_F_CLOC,
	MIME_F_CID, MIME_F_CDESC, MIME_F_CMD5,
	MIME_F_DATE, MIME_F_SUBJECT, MIME_F_FROM, MIME_F_SENDER,
	MIME_F_REPLY_TO, MIME_F_TO, MIME_F_CC, MIME_F_BCC, MIME_F_IN_REPLY_TO,
	MIME_F_MESSAGE_ID, MIME_F_REFERENCES, MIME_F_MIME_VERSION,
	MIME_F_COUNT
};

struct mime_fields {
	struct rs_str f[MIME_F_COUNT]; /* borrowed from the message, folded,
	                                * p NULL when absent */
};

/* One address of a list, as mime__addr_parse() finds it: slices of the
 * raw field (still to be passed through mime__phrase). */
struct mime_addr {
	int kind;                 /* 0 mailbox, 1 group start, 2 group end */
	struct rs_str name;       /* phrase or comment; len 0 if none */
	struct rs_str route;      /* "@a,@b" or len 0 */
	struct rs_str local, domain; /* p NULL when missing */
};

typedef void mime_addr_fn(void *arg, const struct mime_addr *a);

/* Calls fn for every address of an RFC 5322 address list, leniently;
 * at most max addresses. */
void mime__addr_parse(const char *p, size_t n, size_t max, mime_addr_fn *fn,
                      void *arg);

/* Parses an RFC 5322 date-time (obsolete forms too). 0 with *t_r seconds
 * since the epoch (UTC) and *tz_r minutes east, or -1. */
int mime__date_parse(const char *p, size_t n, int64_t *t_r, int32_t *tz_r);

/* RFC 5256 section 2.1 base subject of UTF-8 text s, appended to out;
 * *reply_r tells whether a reply or forward marker was removed. */
void mime__base_subject(const char *s, size_t n, struct mime_out *out,
                        bool *reply_r);

/* What the parser hands the envelope code: a scratch buffer it reuses. */
struct mime_env_ctx {
	struct mime_out tmp;      /* scratch */
	size_t          max_addr; /* addresses per list */
};

/* Appends the ENVELOPE of fields to o. */
void mime__envelope(struct mime_env_ctx *c, const struct mime_fields *f,
                    struct mime_out *o);

/* The sort keys, strings appended to keys in struct mime_sort_keys order
 * with their lengths in len[10]. */
void mime__sort_keys(struct mime_env_ctx *c, const struct mime_fields *f,
                     struct mime_out *keys, uint32_t len[10], int64_t *date_r,
                     int32_t *tz_r, bool *reply_r);

/* Parses a Content-Type/Disposition parameter list (after the value, at
 * the first ';') and appends it as an IMAP body-fld-param: NIL or
 * ("name" "value" ...), RFC 2231 continuations joined and decoded to
 * UTF-8; "charset" "us-ascii" added if dflt_charset and none is given.
 * If boundary is not NULL, the boundary value (unquoted) is copied to it
 * (up to 200 octets; *boundary_len 0 when absent). */
void mime__params(struct mime_out *tmp, const char *p, size_t n,
                  struct mime_out *o, bool dflt_charset, char *boundary,
                  size_t *boundary_len);

static inline void
mime__le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
mime__le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t
mime__rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t
mime__rd64(const uint8_t *p)
{
	return (uint64_t)mime__rd32(p) | (uint64_t)mime__rd32(p + 4) << 32;
}

static inline uint32_t
mime__fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

#endif
