/* imap_view.c: the pure part of the selected-mailbox view (see
 * imap_view.h): the arrays behind sequence numbers, applying changes, and
 * writing the untagged responses they owe. No store access here: the
 * refresh from the store's change log is in imap_select.c. */
#include "node/imap/imap_view.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/notify/notify.h"

struct imap_view *
imap_view_new(struct store_acct a, uint32_t mailbox, size_t hint)
{
	struct imap_view *v = rs_xcalloc(1, sizeof(*v));

	v->acct = a;
	v->mailbox = mailbox;
	v->recent_upto = 1;
	v->recent_told = UINT32_MAX;
	if (hint > 0 && hint < UINT32_MAX - 64) {
		/* Room for a few deliveries while selected. */
		v->cap = (uint32_t)hint + 64;
		v->uids = rs_xreallocarray(NULL, v->cap, sizeof(*v->uids));
		v->flags = rs_xreallocarray(NULL, v->cap, sizeof(*v->flags));
		v->modseqs = rs_xreallocarray(NULL, v->cap,
		                              sizeof(*v->modseqs));
	}
	return v;
}

void
imap_view_free(struct imap_view **pp)
{
	struct imap_view *v = *pp;

	if (v == NULL)
		return;
	notify_unsubscribe(&v->sub);
	free(v->kw);
	free(v->uids);
	free(v->flags);
	free(v->modseqs);
	free(v);
	*pp = NULL;
}

static void
imap_view_grow(struct imap_view *v)
{
	uint32_t cap;

	if (v->n < v->cap)
		return;
	cap = v->cap < 16 ? 16 : v->cap + v->cap / 2;
	if (cap < v->cap)
		abort();                /* 2^32 messages: the store refuses */
	v->uids = rs_xreallocarray(v->uids, cap, sizeof(*v->uids));
	v->flags = rs_xreallocarray(v->flags, cap, sizeof(*v->flags));
	v->modseqs = rs_xreallocarray(v->modseqs, cap, sizeof(*v->modseqs));
	v->cap = cap;
}

static void
imap_view_push(struct imap_view *v, uint32_t uid, uint32_t flags,
               uint64_t modseq)
{
	imap_view_grow(v);
	v->uids[v->n] = uid;
	v->flags[v->n] = (uint8_t)(flags & IMAP_VIEW_SYSFLAGS);
	v->modseqs[v->n] = modseq;
	v->n++;
	if (uid >= v->uidnext)
		v->uidnext = uid + 1;
}

void
imap_view_add_known(struct imap_view *v, uint32_t uid, uint32_t flags,
                    uint64_t modseq)
{
	if (v->n > 0 && uid <= v->uids[v->n - 1])
		return;                 /* not ascending: a caller bug */
	imap_view_push(v, uid, flags, modseq);
	v->exists = v->n;
}

/* Index of the first entry with a UID >= uid (n if none). */
static uint32_t
imap_view_lower(const struct imap_view *v, uint32_t uid)
{
	uint32_t lo = 0, hi = v->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
imap_view_update_one(struct imap_view *v, const struct imap_view_update *u)
{
	uint32_t i = imap_view_lower(v, u->uid);
	uint8_t *f;

	if (i == v->n || v->uids[i] != u->uid) {
		/* New, unless it came and went between two refreshes. */
		if (!u->expunged && i == v->n)
			imap_view_push(v, u->uid, u->flags, u->modseq);
		return;
	}
	f = &v->flags[i];
	if ((*f & IMAP_VIEW_F_EXPUNGED) != 0)
		return;
	if (u->expunged) {
		if ((*f & IMAP_VIEW_F_DIRTY) != 0)
			v->ndirty--;
		*f = (uint8_t)((*f & ~IMAP_VIEW_F_DIRTY) | IMAP_VIEW_F_EXPUNGED);
		v->nexpunged++;
		return;
	}
	if (u->modseq == v->modseqs[i] &&
	    (u->flags & IMAP_VIEW_SYSFLAGS) == (*f & IMAP_VIEW_SYSFLAGS))
		return;
	v->modseqs[i] = u->modseq;
	if ((*f & IMAP_VIEW_F_DIRTY) == 0)
		v->ndirty++;
	*f = (uint8_t)((u->flags & IMAP_VIEW_SYSFLAGS) | IMAP_VIEW_F_DIRTY |
	               (*f & IMAP_VIEW_F_RECENT));
}

void
imap_view_update(struct imap_view *v, const struct imap_view_update *u,
                 size_t n, uint64_t modseq)
{
	for (size_t i = 0; i < n; i++)
		imap_view_update_one(v, &u[i]);
	if (modseq > v->modseq)
		v->modseq = modseq;
}

/* Drops entries matching pred-by-index: keep[i] false. Returns how many
 * went. */
static uint32_t
imap_view_compact(struct imap_view *v, uint32_t from, bool below_exists)
{
	uint32_t w = from, gone = 0;

	for (uint32_t r = from; r < v->n; r++) {
		bool drop = (v->flags[r] & IMAP_VIEW_F_EXPUNGED) != 0 &&
		            (below_exists || r >= v->exists);

		if (drop) {
			gone++;
			continue;
		}
		v->uids[w] = v->uids[r];
		v->flags[w] = v->flags[r];
		v->modseqs[w] = v->modseqs[r];
		w++;
	}
	v->n = w;
	v->nexpunged -= gone;
	return gone;
}

/* Writes a UID set "1:3,7" of the entries marked EXPUNGED below exists. */
static void
imap_view_write_vanished(const struct imap_view *v, struct evbuffer *out)
{
	uint32_t start = 0, prev = 0;
	bool any = false;

	evbuffer_add_printf(out, "* VANISHED ");
	for (uint32_t i = 0; i < v->exists && i < v->n; i++) {
		uint32_t uid = v->uids[i];

		if ((v->flags[i] & IMAP_VIEW_F_EXPUNGED) == 0)
			continue;
		if (any && uid == prev + 1) {
			prev = uid;
			continue;
		}
		if (any)
			evbuffer_add_printf(out, start == prev ? "%" PRIu32 ","
			                    : "%" PRIu32 ":%" PRIu32 ",", start,
			                    prev);
		start = prev = uid;
		any = true;
	}
	if (start == prev)
		evbuffer_add_printf(out, "%" PRIu32 "\r\n", start);
	else
		evbuffer_add_printf(out, "%" PRIu32 ":%" PRIu32 "\r\n", start,
		                    prev);
}

static size_t
imap_view_emit_expunges(struct imap_view *v, bool vanished,
                        struct evbuffer *out)
{
	uint32_t reported = 0;

	for (uint32_t i = 0; i < v->exists && i < v->n; i++)
		if ((v->flags[i] & IMAP_VIEW_F_EXPUNGED) != 0)
			reported++;
	if (reported == 0)
		return 0;
	if (vanished) {
		/* RFC 7162 3.2.10: one VANISHED instead of EXPUNGEs. */
		imap_view_write_vanished(v, out);
	} else {
		/* Descending, so each number is valid when the client reads
		 * it (RFC 9051 7.5.1). */
		for (uint32_t i = v->exists < v->n ? v->exists : v->n; i > 0;
		     i--)
			if ((v->flags[i - 1] & IMAP_VIEW_F_EXPUNGED) != 0)
				evbuffer_add_printf(out, "* %" PRIu32
				                    " EXPUNGE\r\n", i);
	}
	imap_view_compact(v, 0, true);
	v->exists -= reported;
	return vanished ? 1 : reported;
}

static void
imap_view_write_flags(const struct imap_view *v, uint32_t i,
                      const struct imap_view_emit_opts *o,
                      struct evbuffer *out)
{
	static const struct {
		uint8_t     bit;
		const char *name;
	} sys[] = {
		{ STORE_FLAG_SEEN, "\\Seen" },
		{ STORE_FLAG_ANSWERED, "\\Answered" },
		{ STORE_FLAG_FLAGGED, "\\Flagged" },
		{ STORE_FLAG_DELETED, "\\Deleted" },
		{ STORE_FLAG_DRAFT, "\\Draft" },
	};
	const char *sep = "";
	struct evbuffer *kw = NULL;

	/* The keywords first: the callback may have to send a new FLAGS
	 * list, which must come before this FETCH (RFC 3501 7.2.6). */
	if (o->keywords != NULL && (kw = evbuffer_new()) != NULL)
		o->keywords(o->keywords_arg, v->uids[i], kw);
	evbuffer_add_printf(out, "* %" PRIu32 " FETCH (", i + 1);
	/* RFC 7162 3.1: under CONDSTORE a flag change another session
	 * made comes with the UID and the modseq. */
	if (o->vanished || o->modseq)
		evbuffer_add_printf(out, "UID %" PRIu32 " ", v->uids[i]);
	evbuffer_add_printf(out, "FLAGS (");
	for (size_t k = 0; k < sizeof(sys) / sizeof(sys[0]); k++)
		if ((v->flags[i] & sys[k].bit) != 0) {
			evbuffer_add_printf(out, "%s%s", sep, sys[k].name);
			sep = " ";
		}
	if (o->recent && (v->flags[i] & IMAP_VIEW_F_RECENT) != 0) {
		evbuffer_add_printf(out, "%s\\Recent", sep);
		sep = " ";
	}
	if (kw != NULL) {
		/* The callback writes " kw" each; without system flags the
		 * first space goes. */
		if (sep[0] == '\0' && evbuffer_get_length(kw) > 0)
			evbuffer_drain(kw, 1);
		evbuffer_add_buffer(out, kw);
		evbuffer_free(kw);
	}
	evbuffer_add_printf(out, ")");
	if (o->modseq)
		evbuffer_add_printf(out, " MODSEQ (%" PRIu64 ")", v->modseqs[i]);
	evbuffer_add_printf(out, ")\r\n");
}

size_t
imap_view_emit(struct imap_view *v, const struct imap_view_emit_opts *o,
               struct evbuffer *out)
{
	size_t lines = 0, gone = 0;
	bool grew;

	/* Messages that came and went unseen never existed for the
	 * client: no EXPUNGE for them, and no shift of numbers it knows. */
	if (v->nexpunged > 0 && v->n > v->exists)
		imap_view_compact(v, v->exists, false);
	if (o->allow_expunge && v->nexpunged > 0) {
		gone = imap_view_emit_expunges(v, o->vanished, out);
		lines += gone;
	}
	grew = v->n > v->exists;
	if (grew) {
		/* RFC 9051 7.4.1: EXISTS never decreases without EXPUNGE. */
		evbuffer_add_printf(out, "* %" PRIu32 " EXISTS\r\n", v->n);
		v->exists = v->n;
		lines++;
	}
	/* Counted only when it may have changed: a big mailbox is not
	 * scanned at every command. */
	if (o->recent && (grew || gone > 0 || v->recent_changed ||
	                  v->recent_told == UINT32_MAX)) {
		uint32_t r = imap_view_recent_count(v);

		v->recent_changed = false;
		/* RFC 3501 7.3.2: the client records every RECENT; it
		 * comes with each EXISTS, as clients expect it there. */
		if (r != v->recent_told || grew) {
			evbuffer_add_printf(out, "* %" PRIu32 " RECENT\r\n", r);
			v->recent_told = r;
			lines++;
		}
	}
	for (uint32_t i = 0; v->ndirty > 0 && i < v->n; i++) {
		if ((v->flags[i] & IMAP_VIEW_F_DIRTY) == 0)
			continue;
		v->flags[i] &= (uint8_t)~IMAP_VIEW_F_DIRTY;
		v->ndirty--;
		if ((v->flags[i] & IMAP_VIEW_F_EXPUNGED) != 0)
			continue;
		imap_view_write_flags(v, i, o, out);
		lines++;
	}
	return lines;
}

void
imap_view_set_recent(struct imap_view *v, uint32_t lo, uint32_t hi)
{
	for (uint32_t i = imap_view_lower(v, lo); i < v->n && v->uids[i] < hi;
	     i++)
		v->flags[i] |= IMAP_VIEW_F_RECENT;
	v->recent_changed = true;
}

uint32_t
imap_view_recent_count(const struct imap_view *v)
{
	uint32_t r = 0;

	for (uint32_t i = 0; i < v->exists && i < v->n; i++)
		if ((v->flags[i] & (IMAP_VIEW_F_RECENT | IMAP_VIEW_F_EXPUNGED)) ==
		    IMAP_VIEW_F_RECENT)
			r++;
	return r;
}

uint32_t
imap_view_seq(const struct imap_view *v, uint32_t uid)
{
	uint32_t i = imap_view_lower(v, uid);

	return i < v->n && v->uids[i] == uid ? i + 1 : 0;
}

uint32_t
imap_view_uid(const struct imap_view *v, uint32_t seq)
{
	return seq >= 1 && seq <= v->n ? v->uids[seq - 1] : 0;
}

bool
imap_view_is_expunged(const struct imap_view *v, uint32_t seq)
{
	return seq >= 1 && seq <= v->n &&
	       (v->flags[seq - 1] & IMAP_VIEW_F_EXPUNGED) != 0;
}

/* Marks the indexes range r names; -1 for a bad sequence number. */
static int
imap_view_mark(const struct imap_view *v, struct imap_view_range r, bool uid,
               uint8_t *marks)
{
	uint32_t lo = r.lo, hi = r.hi, a, b;

	if (v->n == 0)
		return uid ? 0 : -1;
	if (lo == IMAP_VIEW_STAR)
		lo = uid ? v->uids[v->n - 1] : v->n;
	if (hi == IMAP_VIEW_STAR)
		hi = uid ? v->uids[v->n - 1] : v->n;
	if (lo > hi) {
		uint32_t t = lo;

		lo = hi;
		hi = t;
	}
	if (!uid) {
		if (lo == 0 || hi > v->n)
			return -1;
		a = lo - 1;
		b = hi;
	} else {
		a = imap_view_lower(v, lo);
		b = hi == UINT32_MAX ? v->n : imap_view_lower(v, hi + 1);
	}
	for (uint32_t i = a; i < b; i++)
		marks[i] = 1;
	return 0;
}

int
imap_view_resolve(const struct imap_view *v,
                  const struct imap_view_range *ranges, size_t nranges,
                  bool uid, uint32_t **uids_r, size_t *n_r, struct rs_err *err)
{
	uint8_t *marks;
	uint32_t *out;
	size_t n = 0;

	*uids_r = NULL;
	*n_r = 0;
	if (v->n == 0) {
		if (uid)
			return 0;
		return rs_err_set(err, RS_EINVAL, "No messages");
	}
	marks = rs_xcalloc(v->n, 1);
	for (size_t i = 0; i < nranges; i++)
		if (imap_view_mark(v, ranges[i], uid, marks) != 0) {
			free(marks);
			return rs_err_set(err, RS_EINVAL, "Invalid message "
			                  "sequence number");
		}
	for (uint32_t i = 0; i < v->n; i++)
		n += marks[i];
	if (n == 0) {
		free(marks);
		return 0;
	}
	out = rs_xreallocarray(NULL, n, sizeof(*out));
	n = 0;
	for (uint32_t i = 0; i < v->n; i++)
		if (marks[i])
			out[n++] = v->uids[i];
	free(marks);
	*uids_r = out;
	*n_r = n;
	return 0;
}
