/* imap_flags.c: the FLAGS and PERMANENTFLAGS a session was told about its
 * selected mailbox (RFC 9051 7.3.5, RFC 3501 7.2.6), and telling them
 * again before a FETCH shows a keyword the client has not seen in them:
 * the keyword set of a mailbox only grows, by this session or another
 * (STORE, APPEND, COPY), and a client that tracks it drops what FLAGS
 * did not list. It does not write the FETCH responses themselves. */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/imap/imap_int.h"

/* Keywords every mailbox offers in FLAGS (RFC 9051 2.3.2, RFC 5788). */
static const char *const imap_flags_std[] = {
	"$Forwarded", "$MDNSent", "$Junk", "$NotJunk", "$Phishing",
};
#define IMAP_FLAGS_NSTD (sizeof(imap_flags_std) / sizeof(imap_flags_std[0]))

static bool
imap_flags_std_has(const char *kw)
{
	for (size_t k = 0; k < IMAP_FLAGS_NSTD; k++)
		if (strcasecmp(kw, imap_flags_std[k]) == 0)
			return true;
	return false;
}

/* Whether the client was told about kw. */
static bool
imap_flags_known(const struct imap_view *v, const char *kw)
{
	if (imap_flags_std_has(kw))
		return true;
	for (size_t i = 0; i < v->nkw; i++)
		if (strcasecmp(v->kw[i], kw) == 0)
			return true;
	return false;
}

void
imap_flags__announce(struct imap_session *s)
{
	struct imap_view *v = s->view;
	struct evbuffer *kw = evbuffer_new();
	char **names = NULL;
	size_t n = 0;
	struct rs_err err;

	if (kw == NULL || v == NULL) {
		if (kw != NULL)
			evbuffer_free(kw);
		return;
	}
	for (size_t i = 0; i < IMAP_FLAGS_NSTD; i++)
		evbuffer_add_printf(kw, " %s", imap_flags_std[i]);
	if (store_mailbox_keywords(imap_store(s), s->acct, v->mailbox, &names,
	                           &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!imap_flags_std_has(names[i]))
				evbuffer_add_printf(kw, " %s", names[i]);
		free(v->kw);
		v->kw = names;
		v->nkw = n;
	}
	evbuffer_add(kw, "", 1);
	imap_untagged(s, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	              "\\Draft%s)", (const char *)evbuffer_pullup(kw, -1));
	/* RFC 9051 7.1: \* means clients may create keywords. */
	if (v->readonly)
		imap_untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox");
	else
		imap_untagged(s, "OK [PERMANENTFLAGS (\\Answered \\Flagged "
		              "\\Deleted \\Seen \\Draft%s \\*)] Flags permitted",
		              (const char *)evbuffer_pullup(kw, -1));
	evbuffer_free(kw);
}

void
imap_flags__check(struct imap_session *s, const char *const *kw, size_t n)
{
	if (s->state != IMAP_STATE_SELECTED || s->view == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if (!imap_flags_known(s->view, kw[i])) {
			/* RFC 3501 7.2.6: the new list, before the FETCH
			 * that shows it. */
			imap_flags__announce(s);
			return;
		}
}
