/* imap_search.c: SEARCH programs and SORT criteria of imap_search.h,
 * parsed from the argument tree into a pre-order node array, and their
 * evaluation. Recursion in both is bounded by IMAP_SEARCH_DEPTH_MAX,
 * checked while parsing. The text matching itself is the caller's. */
#include "node/imap/imap_search.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_string.h"
#include "storage/store.h"

enum imap_search_argk {
	IMAP_SA_NONE = 0,
	IMAP_SA_STRING,         /* astring */
	IMAP_SA_HEADER,         /* fixed field, astring */
	IMAP_SA_FIELD,          /* HEADER field-name astring */
	IMAP_SA_KEYWORD,        /* flag-keyword atom */
	IMAP_SA_DATE,
	IMAP_SA_NUMBER,
	IMAP_SA_SET,            /* UID sequence-set */
	IMAP_SA_NOT,
	IMAP_SA_OR,
	IMAP_SA_MODSEQ,
	IMAP_SA_NEW,            /* RECENT UNSEEN */
	IMAP_SA_OLD,            /* NOT RECENT */
};

static const struct imap_search_word {
	const char           *name;
	enum imap_search_key  key;
	enum imap_search_argk arg;
	uint32_t              flag;
	const char           *field;
} imap_search_words[] = {
	{ "ALL", IMAP_SEARCH_ALL, IMAP_SA_NONE, 0, NULL },
	{ "ANSWERED", IMAP_SEARCH_FLAG, IMAP_SA_NONE, STORE_FLAG_ANSWERED, NULL },
	{ "BCC", IMAP_SEARCH_HEADER, IMAP_SA_HEADER, 0, "Bcc" },
	{ "BEFORE", IMAP_SEARCH_BEFORE, IMAP_SA_DATE, 0, NULL },
	{ "BODY", IMAP_SEARCH_BODY, IMAP_SA_STRING, 0, NULL },
	{ "CC", IMAP_SEARCH_HEADER, IMAP_SA_HEADER, 0, "Cc" },
	{ "DELETED", IMAP_SEARCH_FLAG, IMAP_SA_NONE, STORE_FLAG_DELETED, NULL },
	{ "DRAFT", IMAP_SEARCH_FLAG, IMAP_SA_NONE, STORE_FLAG_DRAFT, NULL },
	{ "FLAGGED", IMAP_SEARCH_FLAG, IMAP_SA_NONE, STORE_FLAG_FLAGGED, NULL },
	{ "FROM", IMAP_SEARCH_HEADER, IMAP_SA_HEADER, 0, "From" },
	{ "HEADER", IMAP_SEARCH_HEADER, IMAP_SA_FIELD, 0, NULL },
	{ "KEYWORD", IMAP_SEARCH_KEYWORD, IMAP_SA_KEYWORD, 0, NULL },
	{ "LARGER", IMAP_SEARCH_LARGER, IMAP_SA_NUMBER, 0, NULL },
	{ "MODSEQ", IMAP_SEARCH_MODSEQ, IMAP_SA_MODSEQ, 0, NULL },
	{ "NEW", IMAP_SEARCH_AND, IMAP_SA_NEW, 0, NULL },
	{ "NOT", IMAP_SEARCH_NOT, IMAP_SA_NOT, 0, NULL },
	{ "OLD", IMAP_SEARCH_NOT, IMAP_SA_OLD, 0, NULL },
	{ "ON", IMAP_SEARCH_ON, IMAP_SA_DATE, 0, NULL },
	{ "OR", IMAP_SEARCH_OR, IMAP_SA_OR, 0, NULL },
	{ "RECENT", IMAP_SEARCH_RECENT, IMAP_SA_NONE, 0, NULL },
	{ "SEEN", IMAP_SEARCH_FLAG, IMAP_SA_NONE, STORE_FLAG_SEEN, NULL },
	{ "SENTBEFORE", IMAP_SEARCH_SENTBEFORE, IMAP_SA_DATE, 0, NULL },
	{ "SENTON", IMAP_SEARCH_SENTON, IMAP_SA_DATE, 0, NULL },
	{ "SENTSINCE", IMAP_SEARCH_SENTSINCE, IMAP_SA_DATE, 0, NULL },
	{ "SINCE", IMAP_SEARCH_SINCE, IMAP_SA_DATE, 0, NULL },
	{ "SMALLER", IMAP_SEARCH_SMALLER, IMAP_SA_NUMBER, 0, NULL },
	{ "SUBJECT", IMAP_SEARCH_HEADER, IMAP_SA_HEADER, 0, "Subject" },
	{ "TEXT", IMAP_SEARCH_TEXT, IMAP_SA_STRING, 0, NULL },
	{ "TO", IMAP_SEARCH_HEADER, IMAP_SA_HEADER, 0, "To" },
	{ "UID", IMAP_SEARCH_UIDSET, IMAP_SA_SET, 0, NULL },
	{ "UNANSWERED", IMAP_SEARCH_UNFLAG, IMAP_SA_NONE, STORE_FLAG_ANSWERED,
	  NULL },
	{ "UNDELETED", IMAP_SEARCH_UNFLAG, IMAP_SA_NONE, STORE_FLAG_DELETED,
	  NULL },
	{ "UNDRAFT", IMAP_SEARCH_UNFLAG, IMAP_SA_NONE, STORE_FLAG_DRAFT, NULL },
	{ "UNFLAGGED", IMAP_SEARCH_UNFLAG, IMAP_SA_NONE, STORE_FLAG_FLAGGED,
	  NULL },
	{ "UNKEYWORD", IMAP_SEARCH_UNKEYWORD, IMAP_SA_KEYWORD, 0, NULL },
	{ "UNSEEN", IMAP_SEARCH_UNFLAG, IMAP_SA_NONE, STORE_FLAG_SEEN, NULL },
};

/* Parsing state: the program, the end of the arguments being read. */
struct imap_search_p {
	struct imap_search *prog;
	size_t              cap;
	struct rs_err      *err;
};

static int imap_search_key(struct imap_search_p *sp,
                           const struct imap_arg **ap,
                           const struct imap_arg *end, unsigned depth);

/* Appends a node; its index, or -1 past IMAP_SEARCH_NODES_MAX. */
static long
imap_search_node(struct imap_search_p *sp, enum imap_search_key key)
{
	struct imap_search *p = sp->prog;

	if (p->n >= IMAP_SEARCH_NODES_MAX)
		return rs_err_set(sp->err, RS_ETOOBIG, "Too many search keys");
	if (p->n == sp->cap) {
		sp->cap = sp->cap == 0 ? 16 : sp->cap * 2;
		p->nodes = rs_xreallocarray(p->nodes, sp->cap,
		                            sizeof(*p->nodes));
	}
	memset(&p->nodes[p->n], 0, sizeof(p->nodes[0]));
	p->nodes[p->n].key = key;
	p->nodes[p->n].skip = 1;
	return (long)p->n++;
}

/* Closes composite node idx once its children are in. */
static void
imap_search_close(struct imap_search_p *sp, long idx, uint32_t nchildren)
{
	struct imap_search_node *n = &sp->prog->nodes[idx];

	n->skip = (uint32_t)(sp->prog->n - (size_t)idx);
	n->nchildren = nchildren;
}

/* The next argument as a string (atom, quoted, inline literal). */
static const struct imap_arg *
imap_search_str(struct imap_search_p *sp, const struct imap_arg **ap,
                const struct imap_arg *end)
{
	const struct imap_arg *a = *ap;

	if (a >= end) {
		(void)rs_err_set(sp->err, RS_EINVAL, "Missing search argument");
		return NULL;
	}
	if (!imap_arg_is_string(a)) {
		(void)rs_err_set(sp->err, RS_EINVAL, "Invalid search argument");
		return NULL;
	}
	*ap = imap_arg_next(a);
	return a;
}

static int
imap_search_number(struct imap_search_p *sp, const struct imap_arg **ap,
                   const struct imap_arg *end, uint64_t max, int64_t *v_r)
{
	const struct imap_arg *a = imap_search_str(sp, ap, end);
	uint64_t v;

	if (a == NULL)
		return -1;
	if (a->type != IMAP_ARG_ATOM || rs_str_to_u64(a->str, max, &v) != 0)
		return rs_err_set(sp->err, RS_EINVAL, "Invalid number");
	*v_r = (int64_t)v;
	return 0;
}

/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162
 * 3.1.5); the entry is accepted and ignored: one modseq per message. */
static int
imap_search_modseq(struct imap_search_p *sp, const struct imap_arg **ap,
                   const struct imap_arg *end, long idx)
{
	const struct imap_arg *a = *ap;

	if (a < end && a->type != IMAP_ARG_ATOM) {
		const struct imap_arg *t;

		(void)imap_search_str(sp, ap, end);
		t = *ap;
		if (t >= end || (!imap_arg_is_atom(t, "priv") &&
		                 !imap_arg_is_atom(t, "shared") &&
		                 !imap_arg_is_atom(t, "all")))
			return rs_err_set(sp->err, RS_EINVAL,
			                  "Invalid MODSEQ entry type");
		*ap = imap_arg_next(t);
	}
	sp->prog->uses_modseq = true;
	return imap_search_number(sp, ap, end, INT64_MAX,
	                          &sp->prog->nodes[idx].num);
}

static int
imap_search_set(struct imap_search_p *sp, const struct imap_arg *a, long idx)
{
	struct imap_search_node *n = &sp->prog->nodes[idx];

	if (imap_seqset_parse(a->str, 0, &n->set, sp->err) != 0)
		return -1;
	if (n->set.saved)
		sp->prog->uses_saved = true;
	return 0;
}

/* NOT, OR, NEW, OLD: the composite keys. */
static int
imap_search_composite(struct imap_search_p *sp,
                      const struct imap_search_word *w,
                      const struct imap_arg **ap, const struct imap_arg *end,
                      unsigned depth, long idx)
{
	long c;

	if (depth >= IMAP_SEARCH_DEPTH_MAX)
		return rs_err_set(sp->err, RS_ETOOBIG,
		                  "Search program nested too deeply");
	switch (w->arg) {
	case IMAP_SA_NOT:
		if (imap_search_key(sp, ap, end, depth + 1) != 0)
			return -1;
		imap_search_close(sp, idx, 1);
		return 0;
	case IMAP_SA_OR:
		if (imap_search_key(sp, ap, end, depth + 1) != 0 ||
		    imap_search_key(sp, ap, end, depth + 1) != 0)
			return -1;
		imap_search_close(sp, idx, 2);
		return 0;
	case IMAP_SA_NEW:
		if (imap_search_node(sp, IMAP_SEARCH_RECENT) < 0 ||
		    (c = imap_search_node(sp, IMAP_SEARCH_UNFLAG)) < 0)
			return -1;
		sp->prog->nodes[c].flag = STORE_FLAG_SEEN;
		imap_search_close(sp, idx, 2);
		return 0;
	default:                /* OLD */
		if (imap_search_node(sp, IMAP_SEARCH_RECENT) < 0)
			return -1;
		imap_search_close(sp, idx, 1);
		return 0;
	}
}

/* The argument of a simple key. */
static int
imap_search_simple(struct imap_search_p *sp, const struct imap_search_word *w,
                   const struct imap_arg **ap, const struct imap_arg *end,
                   long idx)
{
	const struct imap_arg *a = NULL, *f = NULL;
	struct imap_search_node *n;

	switch (w->arg) {
	case IMAP_SA_NUMBER:
		return imap_search_number(sp, ap, end, UINT64_MAX >> 1,
		                          &sp->prog->nodes[idx].num);
	case IMAP_SA_MODSEQ:
		return imap_search_modseq(sp, ap, end, idx);
	case IMAP_SA_FIELD:
		if ((f = imap_search_str(sp, ap, end)) == NULL)
			return -1;
		break;
	default:
		break;
	}
	if (w->arg == IMAP_SA_NONE)
		return 0;
	if ((a = imap_search_str(sp, ap, end)) == NULL)
		return -1;
	n = &sp->prog->nodes[idx];
	switch (w->arg) {
	case IMAP_SA_DATE:
		if (imap_string_date_parse(a->str, &n->num) != 0)
			return rs_err_set(sp->err, RS_EINVAL, "Invalid date");
		return 0;
	case IMAP_SA_SET:
		if (a->type != IMAP_ARG_ATOM)
			return rs_err_set(sp->err, RS_EINVAL,
			                  "Invalid sequence set");
		return imap_search_set(sp, a, idx);
	case IMAP_SA_KEYWORD:
		/* NIL is no keyword (store_keyword_valid): BAD, as in
		 * STORE and APPEND. */
		if (a->type != IMAP_ARG_ATOM || a->str.p[0] == '\\' ||
		    imap_arg_is_nil(a))
			return rs_err_set(sp->err, RS_EINVAL, "Invalid keyword");
		break;
	default:
		break;
	}
	n->str = rs_xmemdup(a->str.p, a->str.len);
	n->len = a->str.len;
	if (f != NULL)
		n->field = rs_xmemdup(f->str.p, f->str.len);
	else if (w->field != NULL)
		n->field = rs_xstrdup(w->field);
	return 0;
}

/* A parenthesised list: an AND of its keys. */
static int
imap_search_list(struct imap_search_p *sp, const struct imap_arg *l,
                 unsigned depth)
{
	const struct imap_arg *a = l + 1, *end = imap_arg_next(l);
	uint32_t k = 0;
	long idx;

	if (l->nchildren == 0)
		return rs_err_set(sp->err, RS_EINVAL, "Empty search list");
	if (depth >= IMAP_SEARCH_DEPTH_MAX)
		return rs_err_set(sp->err, RS_ETOOBIG,
		                  "Search program nested too deeply");
	if ((idx = imap_search_node(sp, IMAP_SEARCH_AND)) < 0)
		return -1;
	while (a < end) {
		if (imap_search_key(sp, &a, end, depth + 1) != 0)
			return -1;
		k++;
	}
	imap_search_close(sp, idx, k);
	return 0;
}

static int
imap_search_key(struct imap_search_p *sp, const struct imap_arg **ap,
                const struct imap_arg *end, unsigned depth)
{
	const struct imap_arg *a = *ap;
	const struct imap_search_word *w = NULL;
	long idx;

	if (a >= end)
		return rs_err_set(sp->err, RS_EINVAL, "Missing search key");
	*ap = imap_arg_next(a);
	if (a->type == IMAP_ARG_LIST)
		return imap_search_list(sp, a, depth);
	if (a->type != IMAP_ARG_ATOM)
		return rs_err_set(sp->err, RS_EINVAL, "Invalid search key");
	if ((a->str.p[0] >= '0' && a->str.p[0] <= '9') || a->str.p[0] == '*' ||
	    a->str.p[0] == '$') {
		if ((idx = imap_search_node(sp, IMAP_SEARCH_SEQSET)) < 0)
			return -1;
		return imap_search_set(sp, a, idx);
	}
	for (size_t i = 0; i < sizeof(imap_search_words) /
	                       sizeof(imap_search_words[0]); i++) {
		if (rs_str_ieq_cstr(a->str, imap_search_words[i].name)) {
			w = &imap_search_words[i];
			break;
		}
	}
	if (w == NULL)
		return rs_err_set(sp->err, RS_EINVAL, "Unknown search key");
	if ((idx = imap_search_node(sp, w->key)) < 0)
		return -1;
	sp->prog->nodes[idx].flag = w->flag;
	if (w->arg == IMAP_SA_NOT || w->arg == IMAP_SA_OR ||
	    w->arg == IMAP_SA_NEW || w->arg == IMAP_SA_OLD)
		return imap_search_composite(sp, w, ap, end, depth, idx);
	return imap_search_simple(sp, w, ap, end, idx);
}

/* RETURN (MIN MAX ALL COUNT SAVE) of RFC 4731 3.1 and RFC 5182. */
static int
imap_search_return(struct imap_search *p, const struct imap_arg *l,
                   struct rs_err *err)
{
	static const struct {
		const char *name;
		unsigned    bit;
	} opts[] = {
		{ "MIN", IMAP_SEARCH_RET_MIN }, { "MAX", IMAP_SEARCH_RET_MAX },
		{ "ALL", IMAP_SEARCH_RET_ALL }, { "COUNT", IMAP_SEARCH_RET_COUNT },
		{ "SAVE", IMAP_SEARCH_RET_SAVE },
	};
	const struct imap_arg *a = l + 1;

	if (l->type != IMAP_ARG_LIST)
		return rs_err_set(err, RS_EINVAL, "Invalid RETURN options");
	p->esearch = true;
	for (uint32_t i = 0; i < l->nchildren; i++, a = imap_arg_next(a)) {
		unsigned bit = 0;

		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (imap_arg_is_atom(a, opts[k].name))
				bit = opts[k].bit;
		if (bit == 0)
			return rs_err_set(err, RS_EINVAL,
			                  "Unknown RETURN option");
		p->ret |= bit;
	}
	/* RFC 4731 3.1: "RETURN ()" is "RETURN (ALL)". */
	if (p->ret == 0)
		p->ret = IMAP_SEARCH_RET_ALL;
	return 0;
}

static int
imap_search_charset(const struct imap_arg *a, struct rs_err *err)
{
	if (!imap_arg_is_string(a))
		return rs_err_set(err, RS_EINVAL, "Invalid charset");
	if (!rs_str_ieq_cstr(a->str, "UTF-8") &&
	    !rs_str_ieq_cstr(a->str, "US-ASCII"))
		return rs_err_set(err, IMAP_SEARCH_EBADCHARSET,
		                  "Unsupported charset");
	return 0;
}

/* Each node's need: its own, and its children's. */
static void
imap_search_needs_fill(struct imap_search *p)
{
	for (size_t i = p->n; i-- > 0;) {
		struct imap_search_node *n = &p->nodes[i];
		const struct imap_search_node *c = n + 1;

		switch (n->key) {
		case IMAP_SEARCH_SENTBEFORE:
		case IMAP_SEARCH_SENTON:
		case IMAP_SEARCH_SENTSINCE:
			n->need = IMAP_SEARCH_NEED_META;
			break;
		case IMAP_SEARCH_HEADER:
			n->need = IMAP_SEARCH_NEED_HEADER;
			break;
		case IMAP_SEARCH_BODY:
			n->need = IMAP_SEARCH_NEED_BODY;
			break;
		case IMAP_SEARCH_TEXT:
			n->need = IMAP_SEARCH_NEED_HEADER |
			          IMAP_SEARCH_NEED_BODY;
			break;
		default:
			n->need = 0;
			break;
		}
		for (uint32_t k = 0; k < n->nchildren; k++, c += c->skip)
			n->need |= c->need;
	}
}

/* The keys args[0..end) as the top-level AND. */
static int
imap_search_keys(struct imap_search *p, const struct imap_arg *a,
                 const struct imap_arg *end, struct rs_err *err)
{
	struct imap_search_p sp = { p, 0, err };
	uint32_t k = 0;

	if (a >= end)
		return rs_err_set(err, RS_EINVAL, "Missing search keys");
	if (imap_search_node(&sp, IMAP_SEARCH_AND) < 0)
		return -1;
	while (a < end) {
		if (imap_search_key(&sp, &a, end, 1) != 0)
			return -1;
		k++;
	}
	imap_search_close(&sp, 0, k);
	imap_search_needs_fill(p);
	return 0;
}

/* The end of the top-level args[0..nargs). */
static const struct imap_arg *
imap_search_end(const struct imap_arg *args, size_t nargs)
{
	const struct imap_arg *a = args;

	for (size_t i = 0; i < nargs; i++)
		a = imap_arg_next(a);
	return a;
}

int
imap_search_parse(const struct imap_arg *args, size_t nargs,
                  struct imap_search **prog_r, struct rs_err *err)
{
	struct imap_search *p = rs_xcalloc(1, sizeof(*p));
	const struct imap_arg *a = args, *end = imap_search_end(args, nargs);

	*prog_r = NULL;
	/* Every failure below fills err itself: the caller's err may hold
	 * anything (the fuzz target's is uninitialised). */
	if (a < end && imap_arg_is_atom(a, "RETURN")) {
		a = imap_arg_next(a);
		if (a >= end) {
			(void)rs_err_set(err, RS_EINVAL, "Missing RETURN options");
			goto fail;
		}
		if (imap_search_return(p, a, err) != 0)
			goto fail;
		a = imap_arg_next(a);
	}
	if (a < end && imap_arg_is_atom(a, "CHARSET")) {
		a = imap_arg_next(a);
		if (a >= end) {
			(void)rs_err_set(err, RS_EINVAL, "Missing charset");
			goto fail;
		}
		if (imap_search_charset(a, err) != 0)
			goto fail;
		a = imap_arg_next(a);
	}
	if (imap_search_keys(p, a, end, err) != 0)
		goto fail;
	*prog_r = p;
	return 0;
fail:
	imap_search_free(&p);
	return -1;
}

int
imap_search_parse_charset_keys(const struct imap_arg *args, size_t nargs,
                               struct imap_search **prog_r,
                               struct rs_err *err)
{
	struct imap_search *p;
	const struct imap_arg *end = imap_search_end(args, nargs);

	*prog_r = NULL;
	if (nargs == 0)
		return rs_err_set(err, RS_EINVAL, "Missing charset");
	if (imap_search_charset(args, err) != 0)
		return -1;
	p = rs_xcalloc(1, sizeof(*p));
	if (imap_search_keys(p, imap_arg_next(args), end, err) != 0) {
		imap_search_free(&p);
		return -1;
	}
	*prog_r = p;
	return 0;
}

void
imap_search_free(struct imap_search **pp)
{
	struct imap_search *p = *pp;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->nodes[i].field);
		free(p->nodes[i].str);
		imap_seqset_free(&p->nodes[i].set);
		imap_seqset_free(&p->nodes[i].rset);
	}
	free(p->nodes);
	free(p);
	*pp = NULL;
}

int
imap_search_sort_parse(const struct imap_arg *a,
                       struct imap_fetch_sort_crit *crit, size_t max,
                       size_t *n_r, struct rs_err *err)
{
	static const struct {
		const char              *name;
		enum imap_fetch_sort_key key;
	} keys[] = {
		{ "ARRIVAL", IMAP_FETCH_SORT_ARRIVAL },
		{ "CC", IMAP_FETCH_SORT_CC },
		{ "DATE", IMAP_FETCH_SORT_DATE },
		{ "FROM", IMAP_FETCH_SORT_FROM },
		{ "SIZE", IMAP_FETCH_SORT_SIZE },
		{ "SUBJECT", IMAP_FETCH_SORT_SUBJECT },
		{ "TO", IMAP_FETCH_SORT_TO },
		{ "DISPLAYFROM", IMAP_FETCH_SORT_DISPLAYFROM },
		{ "DISPLAYTO", IMAP_FETCH_SORT_DISPLAYTO },
	};
	const struct imap_arg *c = a + 1;
	bool reverse = false;
	size_t n = 0;

	*n_r = 0;
	if (a->type != IMAP_ARG_LIST || a->nchildren == 0)
		return rs_err_set(err, RS_EINVAL, "Invalid sort criteria");
	for (uint32_t i = 0; i < a->nchildren; i++, c = imap_arg_next(c)) {
		size_t k;

		if (imap_arg_is_atom(c, "REVERSE")) {
			if (reverse)
				return rs_err_set(err, RS_EINVAL,
				                  "REVERSE twice");
			reverse = true;
			continue;
		}
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (imap_arg_is_atom(c, keys[k].name))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return rs_err_set(err, RS_EINVAL,
			                  "Unknown sort criterion");
		if (n == max)
			return rs_err_set(err, RS_EINVAL,
			                  "Too many sort criteria");
		crit[n].key = keys[k].key;
		crit[n].reverse = reverse;
		n++;
		reverse = false;
	}
	if (reverse)
		return rs_err_set(err, RS_EINVAL, "REVERSE without criterion");
	*n_r = n;
	return 0;
}

void
imap_search_resolve(struct imap_search *prog, uint32_t max_seq,
                    uint32_t max_uid, const struct imap_seqset *saved)
{
	prog->max_seq = max_seq;
	prog->max_uid = max_uid;
	prog->saved = saved;
	for (size_t i = 0; i < prog->n; i++) {
		struct imap_search_node *n = &prog->nodes[i];

		if (n->key != IMAP_SEARCH_SEQSET && n->key != IMAP_SEARCH_UIDSET)
			continue;
		imap_seqset_free(&n->rset);
		if (n->set.saved)
			continue;
		n->rset.r = rs_xmemdup(n->set.r, n->set.n * sizeof(*n->set.r));
		n->rset.n = n->set.n;
		imap_seqset_resolve(&n->rset, n->key == IMAP_SEARCH_SEQSET ?
		                    max_seq : max_uid);
	}
}

unsigned
imap_search_needs(const struct imap_search *prog)
{
	return prog->n > 0 ? prog->nodes[0].need : 0;
}

/* ---- evaluation ---- */

static int imap_search_eval_node(const struct imap_search *p,
                                 const struct imap_search_node *n,
                                 const struct imap_search_msg *m);

static int64_t
imap_search_day(int64_t t)
{
	int64_t d = t / 86400;

	if (t % 86400 < 0)
		d--;
	return d * 86400;
}

/* RFC 9051 6.4.4: dates compare "disregarding time and timezone": the
 * INTERNALDATE's UTC day, the Date: header's day in its own zone. */
static int
imap_search_date(const struct imap_search_node *n,
                 const struct imap_search_msg *m)
{
	int64_t day;

	switch (n->key) {
	case IMAP_SEARCH_BEFORE:
	case IMAP_SEARCH_ON:
	case IMAP_SEARCH_SINCE:
		day = imap_search_day(m->internal_date);
		break;
	default:
		day = m->sent_date != 0 ?
		      imap_search_day(m->sent_date + (int64_t)m->sent_tz * 60) :
		      imap_search_day(m->internal_date);
		break;
	}
	switch (n->key) {
	case IMAP_SEARCH_BEFORE:
	case IMAP_SEARCH_SENTBEFORE:
		return day < n->num;
	case IMAP_SEARCH_ON:
	case IMAP_SEARCH_SENTON:
		return day == n->num;
	default:
		return day >= n->num;
	}
}

static bool
imap_search_has_kw(const struct imap_search_msg *m, const char *kw, size_t n)
{
	for (size_t i = 0; i < m->nkeywords; i++)
		if (rs_str_ieq(rs_str_cstr(m->keywords[i]), rs_str_make(kw, n)))
			return true;
	return false;
}

/* AND: the children that need nothing but the index first, so that a
 * cheap mismatch spares the header and body reads. */
static int
imap_search_eval_and(const struct imap_search *p,
                     const struct imap_search_node *n,
                     const struct imap_search_msg *m)
{
	int result = 1;

	for (int pass = 0; pass < 2; pass++) {
		const struct imap_search_node *c = n + 1;

		for (uint32_t k = 0; k < n->nchildren; k++, c += c->skip) {
			int r;

			if ((c->need == 0) != (pass == 0))
				continue;
			r = imap_search_eval_node(p, c, m);
			if (r == 0)
				return 0;
			if (r < 0)
				result = -1;
		}
	}
	return result;
}

static int
imap_search_eval_or(const struct imap_search *p,
                    const struct imap_search_node *n,
                    const struct imap_search_msg *m)
{
	const struct imap_search_node *a = n + 1, *b = a + a->skip, *t;
	int ra, rb;

	if (b->need < a->need) {
		t = a;
		a = b;
		b = t;
	}
	ra = imap_search_eval_node(p, a, m);
	if (ra > 0)
		return 1;
	rb = imap_search_eval_node(p, b, m);
	if (rb > 0)
		return 1;
	return ra < 0 || rb < 0 ? -1 : 0;
}

static int
imap_search_eval_set(const struct imap_search *p,
                     const struct imap_search_node *n,
                     const struct imap_search_msg *m)
{
	/* RFC 5182 2.1: "$" stands for the saved UIDs in either place. */
	if (n->set.saved)
		return p->saved != NULL && imap_seqset_contains(p->saved, m->uid);
	return imap_seqset_contains(&n->rset, n->key == IMAP_SEARCH_SEQSET ?
	                            m->seq : m->uid);
}

static int
imap_search_eval_node(const struct imap_search *p,
                      const struct imap_search_node *n,
                      const struct imap_search_msg *m)
{
	int r;

	switch (n->key) {
	case IMAP_SEARCH_ALL:
		return 1;
	case IMAP_SEARCH_AND:
		return imap_search_eval_and(p, n, m);
	case IMAP_SEARCH_OR:
		return imap_search_eval_or(p, n, m);
	case IMAP_SEARCH_NOT:
		r = imap_search_eval_node(p, n + 1, m);
		return r < 0 ? -1 : !r;
	case IMAP_SEARCH_FLAG:
		return (m->flags & n->flag) != 0;
	case IMAP_SEARCH_UNFLAG:
		return (m->flags & n->flag) == 0;
	case IMAP_SEARCH_RECENT:
		return m->recent;
	case IMAP_SEARCH_KEYWORD:
		return imap_search_has_kw(m, n->str, n->len);
	case IMAP_SEARCH_UNKEYWORD:
		return !imap_search_has_kw(m, n->str, n->len);
	case IMAP_SEARCH_LARGER:
		return m->size > (uint64_t)n->num;
	case IMAP_SEARCH_SMALLER:
		return m->size < (uint64_t)n->num;
	case IMAP_SEARCH_HEADER:
		return m->header == NULL ? -1 :
		       m->header(m->arg, n->field, n->str, n->len);
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
		return m->body == NULL ? -1 :
		       m->body(m->arg, n->key == IMAP_SEARCH_TEXT, n->str,
		               n->len);
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_UIDSET:
		return imap_search_eval_set(p, n, m);
	case IMAP_SEARCH_MODSEQ:
		return m->modseq >= (uint64_t)n->num;
	default:
		return imap_search_date(n, m);
	}
}

int
imap_search_eval(const struct imap_search *prog,
                 const struct imap_search_msg *m)
{
	if (prog->n == 0)
		return 0;
	return imap_search_eval_node(prog, prog->nodes, m);
}
