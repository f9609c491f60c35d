/* store_flags.c: STORE on system flags and keywords, with CONDSTORE's
 * UNCHANGEDSINCE (RFC 7162 3.1.3), as one operation of the writer's
 * group; store_set_flags is a wrapper that leaves keywords alone. Each
 * message that changes gets its own modseq and change-log entry; the
 * final flags and keywords of every listed message go back to the caller
 * so that IMAP answers FETCH without reading them again. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"

struct store_flags_op {
	struct store_acct   a;
	uint32_t            mailbox;
	uint32_t           *uids;     /* owns; ascending, no duplicates */
	size_t              n;
	enum store_flag_op  op;
	uint32_t            flags;
	char              **kw;       /* owns; pointers and strings at once */
	size_t              nkw;
	bool                system_only; /* store_set_flags: keywords stay */
	bool                conditional;
	uint64_t            unchangedsince;
	struct store_flags *res;      /* borrowed until cb; NULL: none */
};

static void
store_flags_op_free(void *arg)
{
	struct store_flags_op *x = arg;

	free(x->uids);
	free(x->kw);
	free(x);
}

/* ---- results ---- */

/* Keyword names are kept once per result, however many messages carry
 * them; items refer to them through refs. */
struct store_flags_build {
	struct store_flags_item *items;  /* owns */
	size_t                   nitems;
	struct rs_buf            pool;   /* distinct names, NUL-ended */
	size_t                  *names;  /* owns; offsets into pool */
	size_t                   nnames, capnames;
	uint32_t                *refs;   /* owns; indexes into names */
	size_t                   nrefs, caprefs;
};

static void
store_flags_build_free(struct store_flags_build *b)
{
	free(b->items);
	rs_buf_free(&b->pool);
	free(b->names);
	free(b->refs);
	memset(b, 0, sizeof(*b));
}

static uint32_t
store_flags_intern(struct store_flags_build *b, const char *kw)
{
	size_t i, len = strlen(kw);

	for (i = 0; i < b->nnames; i++)
		if (strcmp((const char *)b->pool.data + b->names[i], kw) == 0)
			return (uint32_t)i;
	if (b->nnames == b->capnames) {
		b->capnames = b->capnames != 0 ? b->capnames * 2 : 16;
		b->names = rs_xreallocarray(b->names, b->capnames,
		                            sizeof(*b->names));
	}
	b->names[b->nnames] = b->pool.len;
	/* The pool is unlimited: appends cannot fail. */
	(void)!rs_buf_append(&b->pool, kw, len + 1);
	return (uint32_t)b->nnames++;
}

static void
store_flags_item_add(struct store_flags_build *b, const struct store_msg *m,
                     enum store_flags_status status, uint64_t prev_modseq)
{
	struct store_flags_item *it = &b->items[b->nitems++];

	it->uid = m->uid;
	it->status = status;
	it->modseq = m->modseq;
	it->prev_modseq = prev_modseq;
	it->flags = m->flags;
	it->kw_first = (uint32_t)b->nrefs;
	it->nkw = (uint32_t)m->nkeywords;
	for (size_t i = 0; i < m->nkeywords; i++) {
		if (b->nrefs == b->caprefs) {
			b->caprefs = b->caprefs != 0 ? b->caprefs * 2 : 64;
			b->refs = rs_xreallocarray(b->refs, b->caprefs,
			                           sizeof(*b->refs));
		}
		b->refs[b->nrefs++] = store_flags_intern(b, m->keywords[i]);
	}
}

/* Hands the results to f: strings move into one pool, refs become
 * pointers into it. */
static void
store_flags_build_give(struct store_flags_build *b, struct store_flags *f)
{
	size_t len;

	f->kw = rs_xreallocarray(NULL, b->nrefs > 0 ? b->nrefs : 1,
	                         sizeof(*f->kw));
	f->kwpool = (char *)rs_buf_steal(&b->pool, &len);
	for (size_t i = 0; i < b->nrefs; i++)
		f->kw[i] = f->kwpool + b->names[b->refs[i]];
	f->items = b->items;
	f->nitems = b->nitems;
	b->items = NULL;
	store_flags_build_free(b);
}

/* ---- applying ---- */

static bool
store_kw_has(const char *const *kws, size_t n, const char *kw)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(kws[i], kw) == 0)
			return true;
	return false;
}

/* The keywords of m after the op, into nk (pointers into m's record or
 * x's request). Returns the count, or -1 past STORE_KEYWORDS_MAX; sets
 * *same when the set did not change. */
static int
store_flags_keywords(const struct store_flags_op *x, const struct store_msg *m,
                     const char **nk, bool *same)
{
	size_t n = 0;

	*same = true;
	if (x->system_only)
		x = NULL;
	for (size_t i = 0; i < m->nkeywords; i++) {
		bool listed = x != NULL &&
		              store_kw_has((const char *const *)x->kw, x->nkw,
		                           m->keywords[i]);
		bool keep = x == NULL || x->op == STORE_FLAGS_ADD ||
		            (x->op == STORE_FLAGS_SET && listed) ||
		            (x->op == STORE_FLAGS_REMOVE && !listed);

		if (keep)
			nk[n++] = m->keywords[i];   /* the old spelling stays */
		else
			*same = false;
	}
	if (x == NULL || x->op == STORE_FLAGS_REMOVE)
		return (int)n;
	for (size_t i = 0; i < x->nkw; i++) {
		if (store_kw_has(nk, n, x->kw[i]))
			continue;
		if (n == STORE_KEYWORDS_MAX)
			return -1;
		nk[n++] = x->kw[i];
		*same = false;
	}
	return (int)n;
}

static uint32_t
store_flags_apply_op(enum store_flag_op op, uint32_t old, uint32_t flags)
{
	switch (op) {
	case STORE_FLAGS_SET:
		return flags;
	case STORE_FLAGS_ADD:
		return old | flags;
	case STORE_FLAGS_REMOVE:
		return old & ~flags;
	}
	return old;
}

/* Applies x to message m (keywords borrowed from its record), updating m
 * to what it became. Returns its enum store_flags_status, or -1. */
static int
store_flags_one(struct store_txn *t, const struct store_flags_op *x,
                struct store_rec_acct *acct, struct store_mailbox *mb,
                struct store_msg *m, bool *changed, struct rs_err *err)
{
	const char *nk[STORE_KEYWORDS_MAX];
	uint32_t nf;
	bool same;
	int nkw;

	/* RFC 7162 3.1.3: a message changed since the client looked is
	 * left alone and reported in MODIFIED. */
	if (x->conditional && m->modseq > x->unchangedsince)
		return STORE_FLAGS_MODIFIED;
	nkw = store_flags_keywords(x, m, nk, &same);
	if (nkw < 0) {
		store__fail(err, RS_ETOOBIG, "message %u would have more than "
		            "%d keywords", m->uid, STORE_KEYWORDS_MAX);
		return -1;
	}
	nf = store_flags_apply_op(x->op, m->flags, x->flags);
	/* RFC 7162 3.1.3: no change, no new modseq. */
	if (same && nf == m->flags)
		return STORE_FLAGS_SAME;
	store__mbox_reflag(mb, m->flags, nf, m->size);
	m->flags = nf;
	memcpy(m->keywords, nk, (size_t)nkw * sizeof(*nk));
	m->nkeywords = (size_t)nkw;
	m->modseq = store__change_add(t, x->a, acct, STORE_CHANGE_FLAGS,
	                              x->mailbox, m->uid);
	mb->highestmodseq = m->modseq;
	store__msg_put(t, x->a, m);
	*changed = true;
	return STORE_FLAGS_CHANGED;
}

static int
store_flags_walk(struct store_txn *t, const struct store_flags_op *x,
                 struct store_rec_acct *acct, struct store_mailbox *mb,
                 struct store_flags_build *b, bool *changed,
                 struct rs_err *err)
{
	struct store_view v = store__view_txn(t);

	for (size_t i = 0; i < x->n; i++) {
		struct store_msg m;
		uint8_t *val;
		uint64_t prev;
		int rc;

		rc = store__msg_load(&v, x->a, x->mailbox, x->uids[i], &m, &val,
		                     err);
		if (rc == RS_ENOTFOUND)
			continue;
		if (rc != 0)
			return -1;
		prev = m.modseq;
		rc = store_flags_one(t, x, acct, mb, &m, changed, err);
		/* m's keywords point into val: record the result first. */
		if (rc > 0 && b != NULL)
			store_flags_item_add(b, &m, (enum store_flags_status)rc,
			                     prev);
		free(val);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int
store_flags_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_flags_op *x = arg;
	struct store_view v = store__view_txn(t);
	struct store_flags_build b, *bp = NULL;
	struct store_rec_acct acct;
	struct store_mailbox mb;
	bool changed = false;
	int rc;

	rc = store__acct_load(&v, x->a, &acct, err);
	if (rc == RS_ENOTFOUND)
		return 0;               /* no state: no message to change */
	if (rc != 0 || store__mbox_load(&v, x->a, x->mailbox, &mb, err) != 0)
		return -1;
	if (x->res != NULL) {
		memset(&b, 0, sizeof(b));
		rs_buf_init(&b.pool, RS_BUF_UNLIMITED);
		b.items = rs_xreallocarray(NULL, x->n > 0 ? x->n : 1,
		                           sizeof(*b.items));
		bp = &b;
	}
	rc = store_flags_walk(t, x, &acct, &mb, bp, &changed, err);
	/* Keywords a client brings join the mailbox's set, within its cap
	 * (PERMANENTFLAGS lists them). */
	if (rc == 0 && changed && !x->system_only && x->op != STORE_FLAGS_REMOVE)
		rc = store__kwset_add(t, x->a, &mb, (const char *const *)x->kw,
		                      x->nkw, true, err);
	if (rc == 0 && changed) {
		store__mbox_save(t, x->a, &mb);
		rc = store__acct_done(t, x->a, &acct, err);
	}
	if (bp == NULL)
		return rc == 0 ? 0 : -1;
	if (rc != 0) {
		store_flags_build_free(bp);
		return -1;
	}
	store_flags_build_give(bp, x->res);
	return 0;
}

/* ---- queuing ---- */

/* The keywords into one allocation: pointers, then the strings. */
static void
store_flags_copy_kw(struct store_flags_op *x, const char *const *kw, size_t n)
{
	size_t bytes = (n > 0 ? n : 1) * sizeof(char *);
	char *p;

	for (size_t i = 0; i < n; i++)
		bytes += strlen(kw[i]) + 1;
	x->kw = rs_xmalloc(bytes);
	p = (char *)(x->kw + (n > 0 ? n : 1));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(kw[i]) + 1;

		memcpy(p, kw[i], len);
		x->kw[i] = p;
		p += len;
	}
	x->nkw = n;
}

static int
store_flags_check(const struct store_flags *f, struct rs_err *err)
{
	if (f->acct.part > STORE_PART_MAX || (f->n > 0 && f->uids == NULL) ||
	    (f->nkeywords > 0 && f->keywords == NULL))
		return rs_err_set(err, RS_EINVAL, "bad arguments");
	if ((f->flags & ~STORE_REC_FLAGS_ALL) != 0)
		return rs_err_set(err, RS_EINVAL, "unknown flags 0x%x",
		                  (unsigned)f->flags);
	if (f->op != STORE_FLAGS_SET && f->op != STORE_FLAGS_ADD &&
	    f->op != STORE_FLAGS_REMOVE)
		return rs_err_set(err, RS_EINVAL, "bad flag operation");
	if (f->nkeywords > STORE_KEYWORDS_MAX)
		return rs_err_set(err, RS_EINVAL, "more than %d keywords",
		                  STORE_KEYWORDS_MAX);
	for (size_t i = 0; i < f->nkeywords; i++)
		if (!store_keyword_valid(f->keywords[i]))
			return rs_err_set(err, RS_EINVAL, "bad keyword");
	return 0;
}

static int
store_flags_queue(struct store *st, const struct store_flags *f,
                  bool system_only, struct store_flags *res,
                  struct rs_exec *ex, store_done_fn *cb, void *arg,
                  struct rs_err *err)
{
	struct store_flags_op *x;

	if (ex == NULL || cb == NULL)
		return rs_err_set(err, RS_EINVAL, "bad arguments");
	if (store_flags_check(f, err) != 0)
		return -1;
	x = rs_xcalloc(1, sizeof(*x));
	x->a = f->acct;
	x->mailbox = f->mailbox;
	x->uids = store__uids_sorted(f->uids, f->n, &x->n);
	store_flags_copy_kw(x, f->keywords, f->nkeywords);
	x->op = f->op;
	x->flags = f->flags;
	x->system_only = system_only;
	x->conditional = f->conditional;
	x->unchangedsince = f->unchangedsince;
	x->res = res;
	return store__submit_owned(st, store_flags_apply, x,
	                           store_flags_op_free,
	                           x->n * sizeof(*x->uids), ex, cb, arg, err);
}

int
store_flags_update(struct store *st, struct store_flags *f,
                   struct rs_exec *ex, store_done_fn *cb, void *arg,
                   struct rs_err *err)
{
	f->items = NULL;
	f->nitems = 0;
	f->kw = NULL;
	f->kwpool = NULL;
	return store_flags_queue(st, f, false, f, ex, cb, arg, err);
}

void
store_flags_free(struct store_flags *f)
{
	free(f->items);
	free(f->kw);
	free(f->kwpool);
	f->items = NULL;
	f->nitems = 0;
	f->kw = NULL;
	f->kwpool = NULL;
}

int
store_set_flags(struct store *st, struct store_acct a, uint32_t mailbox,
                const uint32_t *uids, size_t n, enum store_flag_op op,
                uint32_t flags, struct rs_exec *ex, store_done_fn *cb,
                void *arg, struct rs_err *err)
{
	struct store_flags f = { .acct = a, .mailbox = mailbox, .uids = uids,
	                         .n = n, .op = op, .flags = flags };

	return store_flags_queue(st, &f, true, NULL, ex, cb, arg, err);
}
