/* imap_fetch_util.c: sequence sets, flag lists and UID sets for the
 * message commands (RFC 9051 9: sequence-set, flag-list; RFC 4315
 * uid-set), and the replies for a store that refused a write. Replies
 * go through imap_int.h; of the store only its health is read. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_seqset.h"
#include "node/imap/imap_string.h"
#include "storage/store.h"

int
imap_fetch_util_set(struct imap_session *s, const struct imap_arg *a,
                    bool uid, uint32_t **uids_r, size_t *n_r)
{
	struct imap_view_range *ranges;
	struct imap_seqset set;
	struct rs_err err;
	int rc;

	*uids_r = NULL;
	*n_r = 0;
	rs_err_clear(&err);
	if (a->type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(a->str, 0, &set, &err) != 0) {
		imap_seqset_free(&set);
		imap_reply(s, IMAP_BAD, "Invalid sequence set");
		return -1;
	}
	/* RFC 5182 2.1: "$" is the saved result, UIDs even in a command
	 * without the UID prefix. */
	if (set.saved) {
		imap_seqset_free(&set);
		if (s->saved.n == 0)
			return 0;
		set.r = rs_xmemdup(s->saved.r, s->saved.n * sizeof(*set.r));
		set.n = s->saved.n;
		uid = true;
	}
	/* IMAP_SEQSET_STAR and IMAP_VIEW_STAR are both UINT32_MAX. */
	ranges = rs_xreallocarray(NULL, set.n + 1, sizeof(*ranges));
	for (size_t i = 0; i < set.n; i++) {
		ranges[i].lo = set.r[i].lo;
		ranges[i].hi = set.r[i].hi;
	}
	rc = imap_view_resolve(s->view, ranges, set.n, uid, uids_r, n_r,
	                       &err);
	free(ranges);
	imap_seqset_free(&set);
	if (rc != 0) {
		imap_reply(s, IMAP_BAD, "Invalid message sequence number");
		return -1;
	}
	return 0;
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

#define IMAP_FETCH_UTIL_SYSFLAGS 5   /* enum store_flag bits 0..4 */

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
		uint32_t bit = imap_string_flag_bit(a->str);

		if (bit != 0) {
			f->flags |= bit;
			return 0;
		}
		/* \Recent cannot be stored (IMAP4rev1 clients send it). */
		if (strcasecmp(a->str.p, "\\Recent") == 0)
			return 0;
		*why_r = "Unknown system flag";
		return RS_EINVAL;
	}
	if (!store_keyword_valid(a->str.p)) {
		/* "NIL" too: RFC 9051 9 makes it the nil token. */
		*why_r = imap_arg_is_nil(a) ? "NIL is not a keyword"
		                            : "Invalid keyword";
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
imap_fetch_util_flags_out(struct evbuffer *out, uint32_t flags, bool recent,
                          const char *const *kw, size_t nkw)
{
	bool sp = false;
	size_t i;

	evbuffer_add(out, "(", 1);
	for (i = 0; i < IMAP_FETCH_UTIL_SYSFLAGS; i++) {
		const char *name = imap_string_flag_name(1u << i);

		if ((flags & (1u << i)) == 0 || name == NULL)
			continue;
		if (sp)
			evbuffer_add(out, " ", 1);
		evbuffer_add(out, name, strlen(name));
		sp = true;
	}
	if (recent) {
		evbuffer_add_printf(out, "%s\\Recent", sp ? " " : "");
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

void
imap_fetch_util_uidset(struct evbuffer *out, const uint32_t *uids, size_t n)
{
	struct rs_buf b;

	rs_buf_init(&b, RS_BUF_UNLIMITED);
	if (imap_seqset_format_uids(&b, uids, n) == 0)
		evbuffer_add(out, b.data, b.len);
	rs_buf_free(&b);
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
	case RS_ENOSPC:
		imap_fetch_util_store_full(s, what, STORE_STATE_LOW_SPACE);
		break;
	default:
		if (store_health_state(imap_store(s)) == STORE_STATE_FAILED)
			imap_fetch_util_store_full(s, what, STORE_STATE_FAILED);
		else
			imap_reply(s, IMAP_NO, "[SERVERBUG] %s failed", what);
		break;
	}
}

bool
imap_fetch_util_store_full(struct imap_session *s, const char *what,
                           enum store_state state)
{
	if (state == STORE_STATE_OK)
		state = store_health_state(imap_store(s));
	/* RFC 5530 has no code for a server's full disk: OVERQUOTA is
	 * the user's own quota, which deleting his mail would fix, and
	 * LIMIT an implementation limit. UNAVAILABLE ("a subsystem is
	 * down") is the temporary failure a client retries later. */
	if (state == STORE_STATE_LOW_SPACE)
		imap_reply(s, IMAP_NO, "[UNAVAILABLE] %s: mail system full, "
		           "try again later", what);
	else if (state == STORE_STATE_FAILED)
		imap_reply(s, IMAP_NO, "[UNAVAILABLE] %s: mail store "
		           "unavailable, try again later", what);
	return state != STORE_STATE_OK;
}
