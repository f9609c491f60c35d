/* imap_fetch_items.c: FETCH data items and modifiers (RFC 9051 6.4.5 and
 * 9 fetch-att, RFC 3516, RFC 7162 3.1.4 and 3.2.6) into struct
 * imap_fetch_req. The parser hands "BODY[HEADER.FIELDS (To)]<0.10>" over
 * as one atom; this file splits it. No I/O. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_items.h"

static const struct {
	const char *name;
	enum imap_fetch_kind kind;
} imap_fetch_items_simple[] = {
	{ "FLAGS", IMAP_FETCH_FLAGS },
	{ "UID", IMAP_FETCH_UID },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822.SIZE", IMAP_FETCH_SIZE },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "BODY", IMAP_FETCH_BODY },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
};

/* An atom equal to word, ASCII case-insensitive. */
static bool
imap_fetch_items_is(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->str.p, word) == 0;
}

static struct imap_fetch_item *
imap_fetch_items_add(struct imap_fetch_req *r, enum imap_fetch_kind kind,
                     const char *name)
{
	struct imap_fetch_item *it;

	for (size_t i = 0; i < r->n; i++) {
		/* FETCH (FLAGS FLAGS) answers FLAGS once. */
		if (kind != IMAP_FETCH_SECTION &&
		    kind != IMAP_FETCH_BINARY_SIZE && r->items[i].kind == kind)
			return &r->items[i];
	}
	if (r->n == IMAP_FETCH_ITEMS_MAX)
		return NULL;
	it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->name = rs_xstrdup(name);
	return it;
}

/* The names of "(To From)" (astrings) into it->fields. */
static int
imap_fetch_items_fields(struct imap_fetch_item *it, const char *p,
                        const char *end)
{
	while (p < end && *p == ' ')
		p++;
	if (p >= end || *p != '(' || end[-1] != ')')
		return RS_EINVAL;
	p++;
	end--;
	while (p < end) {
		const char *q;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		if (*p == '"') {
			q = memchr(p + 1, '"', (size_t)(end - p - 1));
			if (q == NULL)
				return RS_EINVAL;
			p++;
		} else {
			for (q = p; q < end && *q != ' '; q++)
				if (*q == '(' || *q == ')' || *q == '\\')
					return RS_EINVAL;
		}
		if (q == p || it->nfields == IMAP_FETCH_FIELDS_MAX)
			return RS_EINVAL;
		it->fields = rs_xreallocarray(it->fields, it->nfields + 1,
		                              sizeof(*it->fields));
		it->fields[it->nfields++] = rs_xstrndup(p, (size_t)(q - p));
		p = *q == '"' ? q + 1 : q;
	}
	return it->nfields > 0 ? 0 : RS_EINVAL;
}

/* HEADER, HEADER.FIELDS (list), HEADER.FIELDS.NOT (list), TEXT, MIME. */
static int
imap_fetch_items_spec(struct imap_fetch_item *it, const char *q,
                      const char *end, bool has_part)
{
	size_t len = (size_t)(end - q);

	if (len == 4 && strncasecmp(q, "TEXT", 4) == 0) {
		it->spec = IMAP_FETCH_SPEC_TEXT;
		return 0;
	}
	if (len == 4 && strncasecmp(q, "MIME", 4) == 0) {
		it->spec = IMAP_FETCH_SPEC_MIME;
		return has_part ? 0 : RS_EINVAL;
	}
	if (len == 6 && strncasecmp(q, "HEADER", 6) == 0) {
		it->spec = IMAP_FETCH_SPEC_HEADER;
		return 0;
	}
	if (len > 17 && strncasecmp(q, "HEADER.FIELDS.NOT", 17) == 0 &&
	    (q[17] == ' ' || q[17] == '(')) {
		it->spec = IMAP_FETCH_SPEC_FIELDS_NOT;
		return imap_fetch_items_fields(it, q + 17, end);
	}
	if (len > 13 && strncasecmp(q, "HEADER.FIELDS", 13) == 0 &&
	    (q[13] == ' ' || q[13] == '(')) {
		it->spec = IMAP_FETCH_SPEC_FIELDS;
		return imap_fetch_items_fields(it, q + 13, end);
	}
	return RS_EINVAL;
}

/* The text inside [...]: "1.2.HEADER.FIELDS (A B)", "TEXT", "". */
static int
imap_fetch_items_section(struct imap_fetch_item *it, const char *p,
                         const char *end)
{
	const char *q = p;
	size_t nlen;

	while (q < end && ((*q >= '0' && *q <= '9') || *q == '.'))
		q++;
	if (q < end && q > p) {
		if (q[-1] != '.')
			return RS_EINVAL;   /* "1TEXT" */
		q--;
	}
	nlen = (size_t)(q - p);
	if (nlen > MIME_SECTION_MAX)
		return RS_EINVAL;
	memcpy(it->section, p, nlen);
	it->section[nlen] = '\0';
	if (!imap_fetch_part_section_ok(it->section))
		return RS_EINVAL;
	if (q < end && nlen > 0)
		q++;                    /* the dot before the spec */
	if (q == end) {
		it->spec = IMAP_FETCH_SPEC_NONE;
		return 0;
	}
	if (it->binary)
		return RS_EINVAL;       /* RFC 3516: part numbers only */
	return imap_fetch_items_spec(it, q, end, nlen > 0);
}

/* "<origin.count>" (count a nz-number). */
static int
imap_fetch_items_partial(struct imap_fetch_item *it, const char *p)
{
	const char *dot, *end = p + strlen(p);
	uint64_t o, c;

	if (*p != '<' || end[-1] != '>')
		return RS_EINVAL;
	dot = memchr(p, '.', (size_t)(end - p));
	if (dot == NULL ||
	    rs_str_to_u64(rs_str_make(p + 1, (size_t)(dot - p - 1)),
	                  UINT32_MAX, &o) != 0 ||
	    rs_str_to_u64(rs_str_make(dot + 1, (size_t)(end - dot - 2)),
	                  UINT32_MAX, &c) != 0 || c == 0)
		return RS_EINVAL;
	it->partial = true;
	it->origin = o;
	it->count = c;
	return 0;
}

/* BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...],
 * BINARY.SIZE[...] with an optional partial. */
static int
imap_fetch_items_bracket(struct imap_fetch_req *r, const char *s,
                         const char *open)
{
	struct imap_fetch_item tmp, *it;
	size_t head = (size_t)(open - s);
	const char *close = strrchr(open, ']');
	char *name;

	memset(&tmp, 0, sizeof(tmp));
	if (close == NULL)
		return RS_EINVAL;
	if (head == 4 && strncasecmp(s, "BODY", 4) == 0) {
		tmp.peek = false;
	} else if (head == 9 && strncasecmp(s, "BODY.PEEK", 9) == 0) {
		tmp.peek = true;
	} else if (head == 6 && strncasecmp(s, "BINARY", 6) == 0) {
		tmp.binary = true;
	} else if (head == 11 && strncasecmp(s, "BINARY.PEEK", 11) == 0) {
		tmp.binary = tmp.peek = true;
	} else if (head == 11 && strncasecmp(s, "BINARY.SIZE", 11) == 0) {
		tmp.binary = tmp.peek = true;
		tmp.kind = IMAP_FETCH_BINARY_SIZE;
	} else {
		return RS_EINVAL;
	}
	if (imap_fetch_items_section(&tmp, open + 1, close) != 0)
		goto bad;
	if (close[1] != '\0' && (tmp.kind == IMAP_FETCH_BINARY_SIZE ||
	                         imap_fetch_items_partial(&tmp, close + 1) != 0))
		goto bad;
	/* The response names the item without PEEK and with the origin
	 * only (RFC 9051 7.5.2). */
	name = rs_xasprintf("%s[%.*s]", tmp.kind == IMAP_FETCH_BINARY_SIZE ?
	                    "BINARY.SIZE" : tmp.binary ? "BINARY" : "BODY",
	                    (int)(close - open - 1), open + 1);
	if (tmp.partial) {
		char *full = rs_xasprintf("%s<%llu>", name,
		                          (unsigned long long)tmp.origin);

		free(name);
		name = full;
	}
	it = imap_fetch_items_add(r, tmp.kind ? tmp.kind : IMAP_FETCH_SECTION,
	                          "");
	if (it == NULL) {
		free(name);
		goto bad;
	}
	free(it->name);
	tmp.kind = it->kind;
	*it = tmp;
	it->name = name;
	return 0;
bad:
	for (size_t i = 0; i < tmp.nfields; i++)
		free(tmp.fields[i]);
	free(tmp.fields);
	return RS_EINVAL;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT (RFC 3501 6.4.5). */
static int
imap_fetch_items_rfc822(struct imap_fetch_req *r, const char *s)
{
	struct imap_fetch_item *it;
	enum imap_fetch_spec spec;
	bool peek = false;

	if (strcasecmp(s, "RFC822") == 0) {
		spec = IMAP_FETCH_SPEC_NONE;
	} else if (strcasecmp(s, "RFC822.HEADER") == 0) {
		spec = IMAP_FETCH_SPEC_HEADER;
		peek = true;
	} else if (strcasecmp(s, "RFC822.TEXT") == 0) {
		spec = IMAP_FETCH_SPEC_TEXT;
	} else {
		return RS_EINVAL;
	}
	it = imap_fetch_items_add(r, IMAP_FETCH_SECTION, s);
	if (it == NULL)
		return RS_EINVAL;
	for (char *p = it->name; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	it->spec = spec;
	it->peek = peek;
	return 0;
}

static int
imap_fetch_items_one(struct imap_fetch_req *r, const struct imap_arg *a)
{
	const char *s, *open;

	if (a->type != IMAP_ARG_ATOM)
		return RS_EINVAL;
	s = a->str.p;
	open = strchr(s, '[');
	if (open != NULL)
		return imap_fetch_items_bracket(r, s, open);
	for (size_t i = 0; i < sizeof(imap_fetch_items_simple) /
	                    sizeof(imap_fetch_items_simple[0]); i++) {
		if (strcasecmp(s, imap_fetch_items_simple[i].name) == 0)
			return imap_fetch_items_add(r,
			        imap_fetch_items_simple[i].kind,
			        imap_fetch_items_simple[i].name) != NULL ?
			       0 : RS_EINVAL;
	}
	return imap_fetch_items_rfc822(r, s);
}

/* ALL, FAST, FULL (RFC 9051 6.4.5), alone only. */
static int
imap_fetch_items_macro(struct imap_fetch_req *r, const struct imap_arg *a,
                       bool *done_r)
{
	static const char *const fast[] = { "FLAGS", "INTERNALDATE",
	                                    "RFC822.SIZE" };
	bool all = imap_fetch_items_is(a, "ALL"), full = imap_fetch_items_is(a,
	                                                              "FULL");

	*done_r = false;
	if (!all && !full && !imap_fetch_items_is(a, "FAST"))
		return 0;
	for (size_t i = 0; i < 3; i++)
		(void)imap_fetch_items_add(r, i == 0 ? IMAP_FETCH_FLAGS :
		                           i == 1 ? IMAP_FETCH_INTERNALDATE :
		                           IMAP_FETCH_SIZE, fast[i]);
	if (all || full)
		(void)imap_fetch_items_add(r, IMAP_FETCH_ENVELOPE, "ENVELOPE");
	if (full)
		(void)imap_fetch_items_add(r, IMAP_FETCH_BODY, "BODY");
	*done_r = true;
	return 0;
}

/* (CHANGEDSINCE n VANISHED). */
static int
imap_fetch_items_modifiers(struct imap_fetch_req *r, const struct imap_arg *l)
{
	const struct imap_arg *a = l + 1, *end = imap_arg_next(l);

	if (l->type != IMAP_ARG_LIST)
		return RS_EINVAL;
	while (a < end) {
		if (imap_fetch_items_is(a, "VANISHED") && !r->vanished) {
			r->vanished = true;
			a = imap_arg_next(a);
			continue;
		}
		if (!imap_fetch_items_is(a, "CHANGEDSINCE") || r->changedsince_set ||
		    imap_arg_next(a) >= end ||
		    imap_arg_next(a)->type != IMAP_ARG_ATOM ||
		    rs_str_to_u64(imap_arg_next(a)->str, INT64_MAX,
		                  &r->changedsince) != 0 || r->changedsince == 0)
			return RS_EINVAL;
		r->changedsince_set = true;
		a = imap_arg_next(imap_arg_next(a));
	}
	/* RFC 7162 3.2.6: VANISHED needs CHANGEDSINCE. */
	if (r->vanished && !r->changedsince_set)
		return RS_EINVAL;
	return 0;
}

static void
imap_fetch_items_needs(struct imap_fetch_req *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct imap_fetch_item *it = &r->items[i];

		switch (it->kind) {
		case IMAP_FETCH_UID:
		case IMAP_FETCH_MODSEQ:
			break;
		case IMAP_FETCH_FLAGS:
			r->has_flags = true;
			r->need_record = true;
			break;
		case IMAP_FETCH_INTERNALDATE:
		case IMAP_FETCH_SIZE:
			r->need_record = true;
			break;
		case IMAP_FETCH_SECTION:
			if (!it->peek)
				r->set_seen = true;
			r->need_record = true;
			/* BODY[] is the whole message: no summary needed. */
			if (it->section[0] != '\0' ||
			    it->spec != IMAP_FETCH_SPEC_NONE || it->binary)
				r->need_meta = true;
			break;
		case IMAP_FETCH_ENVELOPE:
		case IMAP_FETCH_BODY:
		case IMAP_FETCH_BODYSTRUCTURE:
		case IMAP_FETCH_BINARY_SIZE:
			r->need_record = r->need_meta = true;
			break;
		}
	}
}

int
imap_fetch_items_parse(const struct imap_arg *args, size_t n, bool uid,
                       struct imap_fetch_req *r, const char **why_r)
{
	const struct imap_arg *a = args;
	bool done;

	memset(r, 0, sizeof(*r));
	*why_r = "Invalid FETCH items";
	if (n < 1 || n > 2)
		return RS_EINVAL;
	if (uid)
		(void)imap_fetch_items_add(r, IMAP_FETCH_UID, "UID");
	if (imap_fetch_items_macro(r, a, &done) != 0)
		return RS_EINVAL;
	if (done) {
		(void)0;
	} else if (a->type == IMAP_ARG_LIST) {
		const struct imap_arg *c = a + 1, *end = imap_arg_next(a);

		if (c == end)
			return RS_EINVAL;
		for (; c < end; c = imap_arg_next(c))
			if (imap_fetch_items_one(r, c) != 0)
				return RS_EINVAL;
	} else if (imap_fetch_items_one(r, a) != 0) {
		return RS_EINVAL;
	}
	if (n == 2 && imap_fetch_items_modifiers(r, imap_arg_next(a)) != 0) {
		*why_r = "Invalid FETCH modifiers";
		return RS_EINVAL;
	}
	/* RFC 7162 3.1.4.1: CHANGEDSINCE implies MODSEQ. */
	if (r->changedsince_set &&
	    imap_fetch_items_add(r, IMAP_FETCH_MODSEQ, "MODSEQ") == NULL)
		return RS_EINVAL;
	imap_fetch_items_needs(r);
	return 0;
}

void
imap_fetch_items_free(struct imap_fetch_req *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct imap_fetch_item *it = &r->items[i];

		free(it->name);
		for (size_t k = 0; k < it->nfields; k++)
			free(it->fields[k]);
		free(it->fields);
	}
	r->n = 0;
}

bool
imap_fetch_items_field_match(const struct imap_fetch_item *it,
                             const char *name, size_t len)
{
	for (size_t i = 0; i < it->nfields; i++)
		if (strlen(it->fields[i]) == len &&
		    strncasecmp(it->fields[i], name, len) == 0)
			return true;
	return false;
}
