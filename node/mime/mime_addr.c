/* mime_addr.c: a lenient RFC 5322 section 3.4 address-list reader for the
 * ENVELOPE and the sort keys. It finds mailboxes, groups and routes and
 * hands out slices; it never rejects a list (junk between addresses is
 * skipped, as Dovecot's reader does). */
#include "node/mime/mime_int.h"

struct addr_rd {
	const char *p;
	size_t n, i;
	struct rs_str comment;   /* the first comment seen in a skip */
};

static void
rd_cfws(struct addr_rd *r)
{
	while (r->i < r->n) {
		if (mime__wsp((uint8_t)r->p[r->i])) {
			r->i++;
		} else if (r->p[r->i] == '(') {
			size_t st = r->i, depth = 0;

			for (; r->i < r->n; r->i++) {
				if (r->p[r->i] == '\\')
					r->i++;
				else if (r->p[r->i] == '(')
					depth++;
				else if (r->p[r->i] == ')' && --depth == 0)
					break;
			}
			if (r->i < r->n)
				r->i++;
			if (r->i > r->n)
				r->i = r->n;
			if (r->comment.p == NULL && r->i - st > 2)
				r->comment = rs_str_make(r->p + st + 1,
				                         r->i - st - 2);
		} else {
			break;
		}
	}
}

static void
rd_quoted(struct addr_rd *r)
{
	for (r->i++; r->i < r->n && r->p[r->i] != '"'; r->i++)
		if (r->p[r->i] == '\\')
			r->i++;
	r->i = r->i < r->n ? r->i + 1 : r->n;
}

/* Reads words up to one of stops (outside quotes and comments); returns
 * the slice from the first word to the end of the last. */
static struct rs_str
rd_words(struct addr_rd *r, const char *stops)
{
	size_t st = r->n, end = r->n;

	for (;;) {
		rd_cfws(r);
		if (r->i >= r->n || strchr(stops, r->p[r->i]) != NULL)
			break;
		if (st == r->n)
			st = r->i;
		if (r->p[r->i] == '"') {
			rd_quoted(r);
		} else if (r->p[r->i] == '[') {   /* domain-literal */
			while (r->i < r->n && r->p[r->i] != ']')
				r->i++;
			r->i = r->i < r->n ? r->i + 1 : r->n;
		} else {
			while (r->i < r->n && !mime__wsp((uint8_t)r->p[r->i]) &&
			       strchr("\"(", r->p[r->i]) == NULL &&
			       strchr(stops, r->p[r->i]) == NULL)
				r->i++;
		}
		end = r->i;
	}
	if (st == r->n)
		return rs_str_make(NULL, 0);
	return rs_str_make(r->p + st, end - st);
}

/* "<" [route ":"] local "@" domain ">", r->i just after "<". */
static void
rd_angle(struct addr_rd *r, struct mime_addr *a)
{
	size_t save;

	rd_cfws(r);
	if (r->i < r->n && r->p[r->i] == '@') {
		save = r->i;
		while (r->i < r->n && r->p[r->i] != ':' && r->p[r->i] != '>')
			r->i++;
		if (r->i < r->n && r->p[r->i] == ':') {
			a->route = rs_str_make(r->p + save, r->i - save);
			r->i++;
		} else {
			r->i = save;
		}
	}
	a->local = rd_words(r, "@>,;");
	if (r->i < r->n && r->p[r->i] == '@') {
		r->i++;
		a->domain = rd_words(r, ">,;");
		if (a->domain.p == NULL)
			a->domain = rs_str_make(r->p + r->i, 0);
	}
	if (r->i < r->n && r->p[r->i] == '>')
		r->i++;
	if (a->local.p == NULL && a->domain.p == NULL)
		a->local = rs_str_make(r->p + r->i, 0);   /* "<>" */
}

void
mime__addr_parse(const char *p, size_t n, size_t max, mime_addr_fn *fn,
                 void *arg)
{
	struct addr_rd r = { p, n, 0, { NULL, 0 } };
	bool group = false;
	size_t count = 0;

	while (count < max) {
		struct mime_addr a;
		struct rs_str ph;

		memset(&a, 0, sizeof(a));
		rd_cfws(&r);
		if (r.i >= r.n)
			break;
		if (r.p[r.i] == ',' || r.p[r.i] == '>' ||
		    (r.p[r.i] == ':' && group)) {
			r.i++;
			continue;
		}
		if (r.p[r.i] == ';') {
			r.i++;
			if (group) {
				a.kind = 2;
				fn(arg, &a);
				group = false;
				count++;
			}
			continue;
		}
		r.comment = rs_str_make(NULL, 0);
		ph = rd_words(&r, "<>,;:@");
		if (r.i < r.n && r.p[r.i] == ':' && !group) {
			/* RFC 5322 3.4: group = display-name ":" ... ";" */
			r.i++;
			a.kind = 1;
			a.name = ph;
			group = true;
		} else if (r.i < r.n && r.p[r.i] == '<') {
			r.i++;
			a.name = ph;
			rd_angle(&r, &a);
		} else if (r.i < r.n && r.p[r.i] == '@') {
			r.i++;
			a.local = ph;
			a.domain = rd_words(&r, "<>,;:");
			if (a.domain.p == NULL)
				a.domain = rs_str_make(r.p + r.i, 0);
			rd_cfws(&r);
			a.name = r.comment;  /* "user@host (Name)" */
			/* Whatever follows up to the next comma is junk. */
			(void)rd_words(&r, ",;");
		} else if (ph.p != NULL) {
			a.local = ph;         /* a word alone: no domain */
			a.name = r.comment;
		} else {
			r.i++;
			continue;
		}
		fn(arg, &a);
		count++;
	}
	if (group && count < max) {
		struct mime_addr a;

		memset(&a, 0, sizeof(a));
		a.kind = 2;
		fn(arg, &a);
	}
}
