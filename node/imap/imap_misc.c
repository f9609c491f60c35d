/* imap_misc.c: the commands of any state that touch no mailbox:
 * CAPABILITY, NOOP, LOGOUT (RFC 9051 6.1), ENABLE (RFC 5161), ID (RFC
 * 2971) and NAMESPACE (RFC 2342). NOOP's updates come from imap_reply's
 * view sync. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <string.h>

#include "node/imap/imap_int.h"

void
imap_misc__capability(const struct imap_session *s, struct evbuffer *out)
{
	evbuffer_add_printf(out, "CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ "
	                    "SASL-IR ENABLE ID IDLE NAMESPACE UNSELECT UIDPLUS "
	                    "MOVE CHILDREN LIST-EXTENDED LIST-STATUS "
	                    "SPECIAL-USE CONDSTORE QRESYNC ESEARCH SEARCHRES "
	                    "SORT QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE "
	                    "STATUS=SIZE BINARY MULTIAPPEND UTF8=ACCEPT "
	                    "APPENDLIMIT=%" PRIu64, s->srv->limits.max_message);
	if (s->state != IMAP_STATE_NOT_AUTH)
		return;
	/* RFC 9051 6.2.3/7.2.2: LOGINDISABLED where no password may be
	 * sent in the clear; XXX(imap): STARTTLS once TLS exists. */
	if (s->plaintext_ok)
		evbuffer_add_printf(out, " AUTH=PLAIN");
	else
		evbuffer_add_printf(out, " LOGINDISABLED");
}

int
imap_misc__capability_cmd(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_reply(s, IMAP_BAD, "CAPABILITY takes no arguments");
		return IMAP_RUN_DONE;
	}
	evbuffer_add(imap_out(s), "* ", 2);
	imap_misc__capability(s, imap_out(s));
	evbuffer_add(imap_out(s), "\r\n", 2);
	imap_reply(s, IMAP_OK, "CAPABILITY completed");
	return IMAP_RUN_DONE;
}

int
imap_misc__noop(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_reply(s, IMAP_BAD, "NOOP takes no arguments");
		return IMAP_RUN_DONE;
	}
	imap_reply(s, IMAP_OK, "NOOP completed");
	return IMAP_RUN_DONE;
}

int
imap_misc__logout(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_reply(s, IMAP_BAD, "LOGOUT takes no arguments");
		return IMAP_RUN_DONE;
	}
	/* RFC 9051 6.1.3: BYE, then the tagged OK, then close. */
	s->state = IMAP_STATE_LOGOUT;
	imap_session_bye(s, "logout", "Logging out");
	imap_reply(s, IMAP_OK, "LOGOUT completed");
	return IMAP_RUN_DONE;
}

/* The extensions ENABLE knows (RFC 5161 3.1: others are ignored). */
static const struct {
	const char *name;
	unsigned    bits;
} imap_misc_exts[] = {
	{ "CONDSTORE", IMAP_EXT_CONDSTORE },
	/* RFC 7162 3.2.3: QRESYNC implies CONDSTORE. */
	{ "QRESYNC", IMAP_EXT_QRESYNC | IMAP_EXT_CONDSTORE },
	{ "UTF8=ACCEPT", IMAP_EXT_UTF8 },
	{ "IMAP4rev2", IMAP_EXT_REV2 },
};

int
imap_misc__enable(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct evbuffer *line;
	const struct imap_arg *a = cmd->args;

	if (cmd->nargs == 0) {
		imap_reply(s, IMAP_BAD, "ENABLE needs capability names");
		return IMAP_RUN_DONE;
	}
	for (size_t i = 0; i < cmd->nargs; i++, a = imap_arg_next(a))
		if (a->type != IMAP_ARG_ATOM) {
			imap_reply(s, IMAP_BAD, "ENABLE takes atoms");
			return IMAP_RUN_DONE;
		}
	line = evbuffer_new();
	if (line == NULL) {
		imap_reply(s, IMAP_NO, "[SERVERBUG] Out of memory");
		return IMAP_RUN_DONE;
	}
	a = cmd->args;
	for (size_t i = 0; i < cmd->nargs; i++, a = imap_arg_next(a)) {
		for (size_t k = 0; k < sizeof(imap_misc_exts) /
		     sizeof(imap_misc_exts[0]); k++) {
			unsigned bits = imap_misc_exts[k].bits;

			if (!imap_arg_is_atom(a, imap_misc_exts[k].name))
				continue;
			/* RFC 5161 3.1: list only what this command
			 * enabled. */
			if ((s->enabled & bits) != bits)
				evbuffer_add_printf(line, " %s",
				                    imap_misc_exts[k].name);
			s->enabled |= bits;
		}
	}
	evbuffer_add(imap_out(s), "* ENABLED", 9);
	evbuffer_add_buffer(imap_out(s), line);
	evbuffer_add(imap_out(s), "\r\n", 2);
	evbuffer_free(line);
	imap_reply(s, IMAP_OK, "ENABLE completed");
	return IMAP_RUN_DONE;
}

void
imap_misc__condstore_on(struct imap_session *s)
{
	struct store_mailbox mb;
	struct rs_err err;
	uint64_t hms;

	if ((s->enabled & IMAP_EXT_CONDSTORE) != 0)
		return;
	s->enabled |= IMAP_EXT_CONDSTORE;
	if (s->state != IMAP_STATE_SELECTED || s->view == NULL)
		return;
	hms = s->view->modseq;
	if (store_mailbox_get(imap_store(s), s->acct, s->view->mailbox, &mb,
	                      &err) == 0 && mb.highestmodseq > hms)
		hms = mb.highestmodseq;
	imap_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] Highest",
	              hms > 0 ? hms : 1);
}

int
imap_misc__id(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *a = cmd->args;

	/* RFC 2971 3.1: NIL or a list of field/value pairs (at most 30,
	 * strings); their contents are not used. */
	if (cmd->nargs != 1 || (!imap_arg_is_nil(a) &&
	    (a->type != IMAP_ARG_LIST || a->nchildren % 2 != 0 ||
	     a->nchildren > 60))) {
		imap_reply(s, IMAP_BAD, "ID takes NIL or a list of pairs");
		return IMAP_RUN_DONE;
	}
	imap_untagged(s, "ID (\"name\" \"Roost\" \"vendor\" \"Roost\" "
	              "\"support-url\" \"https://roost.invalid/\")");
	imap_reply(s, IMAP_OK, "ID completed");
	return IMAP_RUN_DONE;
}

int
imap_misc__namespace(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_reply(s, IMAP_BAD, "NAMESPACE takes no arguments");
		return IMAP_RUN_DONE;
	}
	/* RFC 2342 5: one personal namespace, no others. */
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_reply(s, IMAP_OK, "NAMESPACE completed");
	return IMAP_RUN_DONE;
}
