/* imap_fetch_util.c: sequence sets, flag lists and UID sets for the
 * message commands (RFC 9051 9: sequence-set, flag-list; RFC 4315
 * uid-set). Replies go through imap_int.h; no store access. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_util.h"

#define IMAP_FETCH_UTIL_RANGES_MAX 10000   /* ranges in one set */

/* One seq-number: nz-number or "*". 0, or RS_EINVAL. */
static int
imap_fetch_util_seqnum(const char **pp, const char *end, uint32_t *v_r)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p < end && *p == '*') {
		*v_r = IMAP_VIEW_STAR;
		*pp = p + 1;
		return 0;
	}
	if (p >= end || *p < '1' || *p > '9')
		return RS_EINVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v >= IMAP_VIEW_STAR)      /* nz-number < 2^32 - 1 */
			return RS_EINVAL;
	}
	*v_r = (uint32_t)v;
	*pp = p;
	return 0;
}

int
imap_fetch_util_ranges(struct rs_str set, struct imap_view_range **ranges_r,
                       size_t *n_r)
{
	const char *p = set.p, *end = set.p + set.len;
	struct imap_view_range *r = NULL;
	size_t n = 0, cap = 0;

	*ranges_r = NULL;
	*n_r = 0;
	for (;;) {
		struct imap_view_range one;

		if (imap_fetch_util_seqnum(&p, end, &one.lo) != 0)
			goto bad;
		one.hi = one.lo;
		if (p < end && *p == ':') {
			p++;
			if (imap_fetch_util_seqnum(&p, end, &one.hi) != 0)
				goto bad;
		}
		if (n == IMAP_FETCH_UTIL_RANGES_MAX)
			goto bad;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			r = rs_xreallocarray(r, cap, sizeof(*r));
		}
		r[n++] = one;
		if (p == end)
			break;
		if (*p != ',')
			goto bad;
		p++;
	}
	*ranges_r = r;
	*n_r = n;
	return 0;
bad:
	free(r);
	return RS_EINVAL;
}

int
imap_fetch_util_set(struct imap_session *s, const struct imap_arg *a,
                    bool uid, uint32_t **uids_r, size_t *n_r)
{
	struct imap_view_range *ranges;
	struct rs_err err;
	size_t nranges;
	int rc;

	*uids_r = NULL;
	*n_r = 0;
	if (a->type != IMAP_ARG_ATOM) {
		imap_reply(s, IMAP_BAD, "Invalid sequence set");
		return -1;
	}
	/* RFC 5182: "$" is the saved search result.
	 * XXX(imsg): SEARCHRES needs a place in the session: empty. */
	if (a->str.len == 1 && a->str.p[0] == '$')
		return 0;
	if (imap_fetch_util_ranges(a->str, &ranges, &nranges) != 0) {
		imap_reply(s, IMAP_BAD, "Invalid sequence set");
		return -1;
	}
	rs_err_clear(&err);
	rc = imap_view_resolve(s->view, ranges, nranges, uid, uids_r, n_r,
	                       &err);
	free(ranges);
	if (rc != 0) {
		imap_reply(s, IMAP_BAD, "Invalid message sequence number");
		return -1;
	}
	return 0;
}

bool
imap_fetch_util_in_ranges(const struct imap_view_range *r, size_t n,
                          uint32_t v)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = r[i].lo < r[i].hi ? r[i].lo : r[i].hi;
		uint32_t hi = r[i].lo < r[i].hi ? r[i].hi : r[i].lo;

		if (v >= lo && v <= hi)
			return true;
	}
	return false;
}

void
imap_fetch_util_view_note(struct imap_session *s, uint32_t uid,
                          uint32_t flags, uint64_t modseq)
{
	struct imap_view *v = s->view;
	uint32_t seq = v != NULL ? imap_view_seq(v, uid) : 0;
	uint8_t *f;

	if (seq == 0)
		return;
	f = &v->flags[seq - 1];
	if ((*f & IMAP_VIEW_F_EXPUNGED) != 0 || modseq < v->modseqs[seq - 1])
		return;
	v->modseqs[seq - 1] = modseq;
	*f = (uint8_t)((*f & ~IMAP_VIEW_SYSFLAGS) |
	               (flags & IMAP_VIEW_SYSFLAGS));
}

static const struct {
	const char *name;
	uint32_t    bit;
} imap_fetch_util_sysflags[] = {
	{ "\\Seen", STORE_FLAG_SEEN },
	{ "\\Answered", STORE_FLAG_ANSWERED },
	{ "\\Flagged", STORE_FLAG_FLAGGED },
	{ "\\Deleted", STORE_FLAG_DELETED },
	{ "\\Draft", STORE_FLAG_DRAFT },
};

static int
imap_fetch_util_flag1(const struct imap_arg *a, struct imap_fetch_util_flags *f,
                      const char **why_r)
{
	size_t i;

	if (a->type != IMAP_ARG_ATOM) {
		*why_r = "Flags must be atoms";
		return RS_EINVAL;
	}
	if (a->str.p[0] == '\\') {
		for (i = 0; i < sizeof(imap_fetch_util_sysflags) /
		            sizeof(imap_fetch_util_sysflags[0]); i++) {
			if (strcasecmp(a->str.p,
			               imap_fetch_util_sysflags[i].name) == 0) {
				f->flags |= imap_fetch_util_sysflags[i].bit;
				return 0;
			}
		}
		if (strcasecmp(a->str.p, "\\Recent") == 0)
			return 0;
		*why_r = "Unknown system flag";
		return RS_EINVAL;
	}
	if (!store_keyword_valid(a->str.p)) {
		*why_r = "Invalid keyword";
		return RS_EINVAL;
	}
	for (i = 0; i < f->nkw; i++) {
		if (strcasecmp(f->kw[i], a->str.p) == 0)
			return 0;
	}
	if (f->nkw == IMAP_FETCH_UTIL_KW_MAX) {
		*why_r = "Too many keywords";
		return RS_EINVAL;
	}
	f->kw[f->nkw++] = a->str.p;
	return 0;
}

int
imap_fetch_util_flags_parse(const struct imap_arg *a,
                            const struct imap_arg *end,
                            struct imap_fetch_util_flags *f,
                            const char **why_r)
{
	memset(f, 0, sizeof(*f));
	*why_r = "Invalid flags";
	if (a < end && a->type == IMAP_ARG_LIST) {
		if (imap_arg_next(a) != end)
			return RS_EINVAL;
		end = imap_arg_next(a);
		a++;
	}
	for (; a < end; a = imap_arg_next(a)) {
		if (imap_fetch_util_flag1(a, f, why_r) != 0)
			return RS_EINVAL;
	}
	return 0;
}

void
imap_fetch_util_flags_out(struct evbuffer *out, uint32_t flags,
                          const char *const *kw, size_t nkw)
{
	bool sp = false;
	size_t i;

	evbuffer_add(out, "(", 1);
	for (i = 0; i < sizeof(imap_fetch_util_sysflags) /
	            sizeof(imap_fetch_util_sysflags[0]); i++) {
		if ((flags & imap_fetch_util_sysflags[i].bit) == 0)
			continue;
		if (sp)
			evbuffer_add(out, " ", 1);
		evbuffer_add(out, imap_fetch_util_sysflags[i].name,
		             strlen(imap_fetch_util_sysflags[i].name));
		sp = true;
	}
	for (i = 0; i < nkw; i++) {
		if (sp)
			evbuffer_add(out, " ", 1);
		evbuffer_add(out, kw[i], strlen(kw[i]));
		sp = true;
	}
	evbuffer_add(out, ")", 1);
}

/* Calls emit for each run lo:hi of uids. */
#define IMAP_FETCH_UTIL_RUNS(uids, n, body) do { \
	size_t i_ = 0; \
	while (i_ < (n)) { \
		uint32_t lo = (uids)[i_], hi = lo; \
		while (i_ + 1 < (n) && (uids)[i_ + 1] == hi + 1) \
			hi = (uids)[++i_]; \
		i_++; \
		body \
	} \
} while (0)

void
imap_fetch_util_uidset(struct evbuffer *out, const uint32_t *uids, size_t n)
{
	bool first = true;

	IMAP_FETCH_UTIL_RUNS(uids, n, {
		if (lo == hi)
			evbuffer_add_printf(out, "%s%" PRIu32,
			                    first ? "" : ",", lo);
		else
			evbuffer_add_printf(out, "%s%" PRIu32 ":%" PRIu32,
			                    first ? "" : ",", lo, hi);
		first = false;
	});
}

int
imap_fetch_util_uidset_buf(struct rs_buf *b, const uint32_t *uids, size_t n)
{
	bool first = true;
	int rc = 0;

	IMAP_FETCH_UTIL_RUNS(uids, n, {
		if (rc == 0 && lo == hi)
			rc = rs_buf_printf(b, "%s%" PRIu32,
			                   first ? "" : ",", lo);
		else if (rc == 0)
			rc = rs_buf_printf(b, "%s%" PRIu32 ":%" PRIu32,
			                   first ? "" : ",", lo, hi);
		first = false;
	});
	return rc;
}

bool
imap_fetch_util_has(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uids[mid] == uid)
			return true;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int
imap_fetch_util_number(const struct imap_arg *a, uint64_t max, uint64_t *v_r)
{
	if (a->type != IMAP_ARG_ATOM)
		return RS_EINVAL;
	return rs_str_to_u64(a->str, max, v_r);
}

void
imap_fetch_util_store_failed(struct imap_session *s, int rc, const char *what)
{
	switch (rc) {
	case RS_EQUOTA:
		imap_reply(s, IMAP_NO, "[OVERQUOTA] %s: over quota", what);
		break;
	case RS_ETOOBIG:
		imap_reply(s, IMAP_NO, "[LIMIT] %s: limit reached", what);
		break;
	case RS_ENOTFOUND:
		imap_reply(s, IMAP_NO, "[NONEXISTENT] %s: no such mailbox",
		           what);
		break;
	case RS_EUNAVAIL:
		imap_reply(s, IMAP_NO, "[UNAVAILABLE] %s: try again later",
		           what);
		break;
	default:
		imap_reply(s, IMAP_NO, "[SERVERBUG] %s failed", what);
		break;
	}
}
