/* imap_list.c: LIST (RFC 9051 6.3.9 with RFC 5258 LIST-EXTENDED: the
 * selection options SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE and
 * the return options SUBSCRIBED, CHILDREN, SPECIAL-USE (RFC 6154) and
 * STATUS (RFC 5819)), and LSUB for IMAP4rev1 clients (RFC 3501 6.3.9).
 * One pass: the account's mailboxes and subscriptions are merged with
 * the superiors they imply, sorted, then matched against the patterns. */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_int.h"
#include "node/imap/imap_string.h"

#define IMAP_LIST_SEL_SUBSCRIBED  (1u << 0)
#define IMAP_LIST_SEL_RECURSIVE   (1u << 1)
#define IMAP_LIST_SEL_SPECIAL     (1u << 2)
#define IMAP_LIST_SEL_REMOTE      (1u << 3)
#define IMAP_LIST_RET_SUBSCRIBED  (1u << 0)
#define IMAP_LIST_RET_CHILDREN    (1u << 1)
#define IMAP_LIST_RET_SPECIAL     (1u << 2)
#define IMAP_LIST_RET_STATUS      (1u << 3)
#define IMAP_LIST_PATTERNS_MAX    32

struct imap_list_entry {
	char  *name;                  /* owns */
	const struct store_mailbox *mb; /* borrowed; NULL: does not exist */
	bool   subscribed;
	bool   children;              /* has inferiors */
	bool   sub_children;          /* has subscribed inferiors */
	bool   sub_hidden;            /* ... one of which no pattern
	                               * matches (RFC 5258 3.5 CHILDINFO) */
};

struct imap_list_req {
	bool     lsub;
	bool     extended;            /* LIST-EXTENDED syntax was used */
	unsigned sel, ret;
	const struct imap_arg *status; /* RETURN STATUS's item list */
	char    *patterns[IMAP_LIST_PATTERNS_MAX]; /* owns: ref + pattern */
	size_t   npatterns;
	/* what was read */
	struct store_mailbox   *mbs;  /* owns */
	size_t                  nmbs;
	char                  **subs; /* owns */
	size_t                  nsubs;
	struct imap_list_entry *v;    /* owns */
	size_t                  n, cap;
};

static void
imap_list_req_free(struct imap_list_req *r)
{
	for (size_t i = 0; i < r->npatterns; i++)
		free(r->patterns[i]);
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	free(r->mbs);
	free(r->subs);
}

static void
imap_list_add(struct imap_list_req *r, const char *name,
              const struct store_mailbox *mb, bool subscribed)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->v = rs_xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	r->v[r->n].name = rs_xstrdup(name);
	r->v[r->n].mb = mb;
	r->v[r->n].subscribed = subscribed;
	r->v[r->n].children = false;
	r->v[r->n].sub_children = false;
	r->v[r->n].sub_hidden = false;
	r->n++;
}

static int
imap_list_cmp(const void *a, const void *b)
{
	const struct imap_list_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	/* Existing first, so that dedup keeps them. */
	return (x->mb == NULL) - (y->mb == NULL);
}

static bool
imap_list_is_subscribed(const struct imap_list_req *r, const char *name)
{
	size_t lo = 0, hi = r->nsubs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->subs[mid], name);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int
imap_list_name_cmp(const void *key, const void *elem)
{
	const struct imap_list_entry *e = elem;

	return strcmp(key, e->name);
}

/* Adds the superiors of every entry ("a" and "a/b" for "a/b/c") as
 * non-existent entries; imap_list_finish merges them with real ones. */
static void
imap_list_add_superiors(struct imap_list_req *r)
{
	size_t n = r->n;

	for (size_t i = 0; i < n; i++) {
		char *name = rs_xstrdup(r->v[i].name);

		for (char *p = strrchr(name, '/'); p != NULL;
		     p = strrchr(name, '/')) {
			*p = '\0';
			imap_list_add(r, name, NULL, false);
		}
		free(name);
	}
}

static int imap_list_matches(const struct imap_list_req *r,
                             const char *name);

/* Marks every superior of name: as having inferiors, or (sub) subscribed
 * ones, and (hidden) subscribed ones the patterns do not list. */
static void
imap_list_mark_up(struct imap_list_req *r, const char *name, bool sub,
                  bool hidden)
{
	char *buf = rs_xstrdup(name);

	for (char *p = strrchr(buf, '/'); p != NULL; p = strrchr(buf, '/')) {
		struct imap_list_entry *e;

		*p = '\0';
		e = bsearch(buf, r->v, r->n, sizeof(*r->v), imap_list_name_cmp);
		if (e == NULL)
			continue;
		if (sub)
			e->sub_children = true;
		else
			e->children = true;
		if (hidden)
			e->sub_hidden = true;
	}
	free(buf);
}

/* Sorts, merges duplicates, and marks who has (subscribed) inferiors. */
static void
imap_list_finish(struct imap_list_req *r)
{
	size_t w = 0;

	imap_list_add_superiors(r);
	qsort(r->v, r->n, sizeof(*r->v), imap_list_cmp);
	for (size_t i = 0; i < r->n; i++) {
		if (w > 0 && strcmp(r->v[w - 1].name, r->v[i].name) == 0) {
			r->v[w - 1].subscribed |= r->v[i].subscribed;
			free(r->v[i].name);
			continue;
		}
		r->v[w++] = r->v[i];
	}
	r->n = w;
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].mb != NULL)
			imap_list_mark_up(r, r->v[i].name, false, false);
		if (r->v[i].subscribed)
			imap_list_mark_up(r, r->v[i].name, true,
			                  imap_list_matches(r, r->v[i].name) == 0);
	}
}

static const char *
imap_list_use_attr(enum store_special_use use)
{
	switch (use) {
	case STORE_USE_SENT:
		return "\\Sent";
	case STORE_USE_DRAFTS:
		return "\\Drafts";
	case STORE_USE_TRASH:
		return "\\Trash";
	case STORE_USE_JUNK:
		return "\\Junk";
	case STORE_USE_ARCHIVE:
		return "\\Archive";
	case STORE_USE_NONE:
	case STORE_USE_INBOX:
		break;
	}
	return NULL;
}

/* Reads the mailboxes and subscriptions into r's entries. 0 or -1. */
static int
imap_list_load(struct imap_session *s, struct imap_list_req *r)
{
	struct rs_err err;

	rs_err_clear(&err);
	if (store_mailbox_list(imap_store(s), s->acct, &r->mbs, &r->nmbs,
	                       &err) != 0 ||
	    store_mailbox_subscriptions(imap_store(s), s->acct, &r->subs,
	                                &r->nsubs, &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.list_failed",
		        "error=\"%s\"", err.msg);
		return -1;
	}
	for (size_t i = 0; i < r->nmbs; i++)
		imap_list_add(r, r->mbs[i].name, &r->mbs[i],
		              r->mbs[i].subscribed ||
		              imap_list_is_subscribed(r, r->mbs[i].name));
	for (size_t i = 0; i < r->nsubs; i++)
		imap_list_add(r, r->subs[i], NULL, true);
	imap_list_finish(r);
	return 0;
}

/* Which pattern e matches: 0 none, 1 only through "*" patterns, 2 one
 * without "*" (where a superior of what exists is worth listing, RFC
 * 9051 6.3.9's "%" rule). */
static int
imap_list_matches(const struct imap_list_req *r, const char *name)
{
	int best = 0;

	for (size_t i = 0; i < r->npatterns && best < 2; i++)
		if (imap_string_list_match(rs_str_cstr(r->patterns[i]),
		                           rs_str_cstr(name), '/'))
			best = strchr(r->patterns[i], '*') == NULL ? 2 : 1;
	return best;
}

/* Whether entry e is listed, and with CHILDINFO (RFC 5258 3.5). */
static bool
imap_list_wanted(const struct imap_list_req *r,
                 const struct imap_list_entry *e, bool *childinfo_r)
{
	int m = imap_list_matches(r, e->name);

	*childinfo_r = false;
	if (m == 0)
		return false;
	if (r->lsub)
		return e->subscribed || (e->sub_children && m == 2);
	if ((r->sel & IMAP_LIST_SEL_SPECIAL) != 0)
		return e->mb != NULL && imap_list_use_attr(e->mb->use) != NULL;
	if ((r->sel & IMAP_LIST_SEL_SUBSCRIBED) != 0) {
		/* RFC 5258 3.5: CHILDINFO tells of subscribed inferiors
		 * the client would not see otherwise: those no pattern
		 * matches ("%" one level up). One that is listed itself
		 * needs no CHILDINFO, and lists no unsubscribed superior. */
		*childinfo_r = (r->sel & IMAP_LIST_SEL_RECURSIVE) != 0 &&
		               e->sub_hidden;
		return e->subscribed || *childinfo_r;
	}
	return e->mb != NULL || (e->children && m == 2);
}

static void
imap_list_attrs(struct imap_session *s, const struct imap_list_req *r,
                const struct imap_list_entry *e, bool childinfo,
                struct evbuffer *out)
{
	const char *sp = "";
	const char *use;

	if (r->lsub) {
		/* RFC 3501 6.3.9: a superior listed for its subscribed
		 * inferiors is \Noselect in LSUB. */
		if (!e->subscribed) {
			evbuffer_add_printf(out, "\\Noselect");
			sp = " ";
		}
	} else if (e->mb == NULL) {
		/* RFC 5258 3.4; IMAP4rev1's plain LIST says \Noselect. */
		evbuffer_add_printf(out, (!r->extended &&
		                    (s->enabled & IMAP_EXT_REV2) == 0) ?
		                    "\\Noselect" : "\\NonExistent");
		sp = " ";
	}
	if (!r->lsub) {
		/* RFC 3348 / RFC 9051 7.3.1: always, it costs nothing.
		 * CHILDINFO says an inferior is subscribed, which may not
		 * exist: "\\HasNoChildren" would contradict it (RFC 5258
		 * 3.5 pairs "\\NonExistent \\HasChildren" for this). */
		evbuffer_add_printf(out, "%s%s", sp, e->children || childinfo ?
		                    "\\HasChildren" : "\\HasNoChildren");
		sp = " ";
	}
	if (!r->lsub && e->subscribed &&
	    ((r->sel & IMAP_LIST_SEL_SUBSCRIBED) != 0 ||
	     (r->ret & IMAP_LIST_RET_SUBSCRIBED) != 0)) {
		evbuffer_add_printf(out, "%s\\Subscribed", sp);
		sp = " ";
	}
	/* RFC 6154 2: special-use attributes may always be sent. */
	if (e->mb != NULL && (use = imap_list_use_attr(e->mb->use)) != NULL)
		evbuffer_add_printf(out, "%s%s", sp, use);
}

static void
imap_list_write(struct imap_session *s, const struct imap_list_req *r)
{
	struct evbuffer *out = imap_out(s);

	for (size_t i = 0; i < r->n; i++) {
		const struct imap_list_entry *e = &r->v[i];
		bool childinfo;

		if (!imap_list_wanted(r, e, &childinfo))
			continue;
		evbuffer_add_printf(out, "* %s (", r->lsub ? "LSUB" : "LIST");
		imap_list_attrs(s, r, e, childinfo, out);
		evbuffer_add_printf(out, ") \"/\" ");
		imap_mailbox_name_out(s, out, e->name);
		if (childinfo)
			evbuffer_add_printf(out, " (\"CHILDINFO\" "
			                    "(\"SUBSCRIBED\"))");
		evbuffer_add(out, "\r\n", 2);
		/* RFC 5819: STATUS right after its LIST, if selectable. */
		if ((r->ret & IMAP_LIST_RET_STATUS) != 0 && e->mb != NULL &&
		    imap_mailbox__status_write(s, e->mb, r->status) != 0) {
			/* Items were checked before. */
		}
	}
}

/* The options of RFC 5258 with their bits: selection, then return. */
static const struct {
	const char *name;
	unsigned    sel, ret;         /* 0: not valid there */
} imap_list_opts[] = {
	{ "SUBSCRIBED", IMAP_LIST_SEL_SUBSCRIBED, IMAP_LIST_RET_SUBSCRIBED },
	{ "SPECIAL-USE", IMAP_LIST_SEL_SPECIAL, IMAP_LIST_RET_SPECIAL },
	{ "RECURSIVEMATCH", IMAP_LIST_SEL_RECURSIVE, 0 },
	{ "CHILDREN", 0, IMAP_LIST_RET_CHILDREN },
	{ "REMOTE", IMAP_LIST_SEL_REMOTE, 0 },  /* no remote mailboxes */
};

static int
imap_list_options(const struct imap_arg *l, bool ret, unsigned *bits_r,
                  const struct imap_arg **status_r)
{
	const struct imap_arg *a = l + 1;

	for (uint32_t i = 0; i < l->nchildren; i++, a = imap_arg_next(a)) {
		size_t k;
		unsigned bit = 0;

		if (ret && imap_arg_is_atom(a, "STATUS") &&
		    i + 1 < l->nchildren &&
		    imap_arg_next(a)->type == IMAP_ARG_LIST) {
			*bits_r |= IMAP_LIST_RET_STATUS;
			a = imap_arg_next(a);
			*status_r = a;
			i++;
			continue;
		}
		for (k = 0; k < sizeof(imap_list_opts) /
		     sizeof(imap_list_opts[0]); k++)
			if (imap_arg_is_atom(a, imap_list_opts[k].name)) {
				bit = ret ? imap_list_opts[k].ret
				          : imap_list_opts[k].sel;
				break;
			}
		if (bit == 0)
			return -1;
		*bits_r |= bit;
	}
	return 0;
}

/* ref + pattern, decoded. 0 or -1. */
static int
imap_list_pattern(struct imap_session *s, struct imap_list_req *r,
                  struct rs_str ref, const struct imap_arg *p)
{
	char buf[2 * STORE_MAILBOX_NAME_MAX + 2];
	struct rs_str both;
	char *joined;

	if (!imap_arg_is_list_mailbox(p) ||
	    r->npatterns == IMAP_LIST_PATTERNS_MAX ||
	    ref.len + p->str.len > 2 * STORE_MAILBOX_NAME_MAX)
		return -1;
	/* RFC 9051 6.3.9: the reference is prefixed as is; a pattern that
	 * starts at the root ignores it. */
	if (p->str.len > 0 && p->str.p[0] == '/')
		ref.len = 0;
	joined = rs_xasprintf("%.*s%s", (int)ref.len, ref.p, p->str.p);
	both = rs_str_cstr(joined);
	/* RFC 9051 9: any astring is a list-mailbox. One that is not
	 * modified UTF-7 is matched as it came: it names nothing here, but
	 * the answer is an empty list, not an error. */
	if (imap_mailbox__decode(s, both, buf, sizeof(buf)) != 0) {
		if (both.len + 1 > sizeof(buf)) {
			free(joined);
			return -1;
		}
		memcpy(buf, both.p, both.len + 1);
	}
	free(joined);
	r->patterns[r->npatterns++] = rs_xstrdup(buf);
	return 0;
}

/* Reads LIST's arguments into r. 0, or -1 (BAD to answer). */
static int
imap_list_parse(struct imap_session *s, const struct imap_cmd *cmd,
                struct imap_list_req *r)
{
	const struct imap_arg *a = cmd->args, *ref, *pat;
	size_t left = cmd->nargs;

	if (left > 0 && a->type == IMAP_ARG_LIST && !r->lsub) {
		r->extended = true;
		if (imap_list_options(a, false, &r->sel, &r->status) != 0)
			return -1;
		a = imap_arg_next(a);
		left--;
	}
	/* The reference is a mailbox (an astring) in RFC 9051 9; clients
	 * that put a wildcard in it get what the joined pattern says. */
	if (left < 2 || !imap_arg_is_list_mailbox(a))
		return -1;
	ref = a;
	pat = imap_arg_next(a);
	left -= 2;
	if (pat->type == IMAP_ARG_LIST && !r->lsub) {
		const struct imap_arg *p = pat + 1;

		r->extended = true;
		if (pat->nchildren == 0)
			return -1;
		for (uint32_t i = 0; i < pat->nchildren; i++, p = imap_arg_next(p))
			if (imap_list_pattern(s, r, ref->str, p) != 0)
				return -1;
	} else if (imap_list_pattern(s, r, ref->str, pat) != 0) {
		return -1;
	}
	if (left > 0) {
		const struct imap_arg *ret = imap_arg_next(pat);

		if (left != 2 || r->lsub || !imap_arg_is_atom(ret, "RETURN") ||
		    imap_arg_next(ret)->type != IMAP_ARG_LIST ||
		    imap_list_options(imap_arg_next(ret), true, &r->ret,
		                      &r->status) != 0)
			return -1;
		r->extended = true;
	}
	/* RFC 5258 3.1: RECURSIVEMATCH needs another selection option. */
	if ((r->sel & IMAP_LIST_SEL_RECURSIVE) != 0 &&
	    (r->sel & IMAP_LIST_SEL_SUBSCRIBED) == 0)
		return -1;
	return 0;
}

/* Checks RETURN (STATUS (...)) items once, before any output. */
static bool
imap_list_status_ok(const struct imap_arg *att)
{
	static const char *const items[] = {
		"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED",
		"SIZE", "DELETED-STORAGE", "HIGHESTMODSEQ", "RECENT",
	};
	const struct imap_arg *a;

	if (att == NULL || att->nchildren == 0)
		return false;
	a = att + 1;
	for (uint32_t i = 0; i < att->nchildren; i++, a = imap_arg_next(a)) {
		size_t k;

		for (k = 0; k < sizeof(items) / sizeof(items[0]); k++)
			if (imap_arg_is_atom(a, items[k]))
				break;
		if (k == sizeof(items) / sizeof(items[0]))
			return false;
	}
	return true;
}

static int
imap_list_run(struct imap_session *s, const struct imap_cmd *cmd, bool lsub)
{
	struct imap_list_req r;
	const char *what = lsub ? "LSUB" : "LIST";

	memset(&r, 0, sizeof(r));
	r.lsub = lsub;
	if (imap_list_parse(s, cmd, &r) != 0 ||
	    ((r.ret & IMAP_LIST_RET_STATUS) != 0 &&
	     !imap_list_status_ok(r.status))) {
		imap_list_req_free(&r);
		imap_reply(s, IMAP_BAD, "Invalid %s arguments", what);
		return IMAP_RUN_DONE;
	}
	if (!lsub && !r.extended && r.npatterns == 1 &&
	    imap_arg_next(cmd->args)->str.len == 0) {
		/* RFC 9051 6.3.9: LIST "" "" asks for the separator. */
		imap_untagged(s, "LIST (\\Noselect) \"/\" \"\"");
		imap_list_req_free(&r);
		imap_reply(s, IMAP_OK, "LIST completed");
		return IMAP_RUN_DONE;
	}
	if (imap_list_load(s, &r) != 0) {
		imap_list_req_free(&r);
		imap_reply(s, IMAP_NO, "[SERVERBUG] %s failed", what);
		return IMAP_RUN_DONE;
	}
	imap_list_write(s, &r);
	imap_list_req_free(&r);
	imap_reply(s, IMAP_OK, "%s completed", what);
	return IMAP_RUN_DONE;
}

int
imap_list__list(struct imap_session *s, const struct imap_cmd *cmd)
{
	return imap_list_run(s, cmd, false);
}

int
imap_list__lsub(struct imap_session *s, const struct imap_cmd *cmd)
{
	return imap_list_run(s, cmd, true);
}
