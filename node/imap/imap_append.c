/* imap_append.c: APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502):
 * each message with its optional flags and INTERNALDATE, all stored by
 * one store_append, all or none, each with its MIME summary. A literal is
 * refused before "+" (NO [TOOBIG] past APPENDLIMIT, NO [OVERQUOTA] past
 * the quota); big ones stream into a capped buffer of this command. The
 * reply carries [APPENDUID uidvalidity uid-set] (RFC 4315) or
 * [TRYCREATE] for a missing mailbox. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_meta.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_string.h"

#define IMAP_APPEND_MSGS_MAX  1000                        /* MULTIAPPEND */
#define IMAP_APPEND_TOTAL_MAX ((uint64_t)256 * 1024 * 1024) /* held octets */

struct imap_append_msg {
	struct rs_buf data;           /* owns: the message octets */
	struct rs_buf meta;           /* owns: its MIME summary */
	struct imap_fetch_util_flags fl; /* keywords point into kw */
	char         *kw;             /* owns: the keywords, NUL-separated */
	int64_t       date;
};

struct imap_append {
	struct imap_session *s;       /* borrowed */
	struct rs_buf *streamed;      /* owns: streamed literals, in order */
	size_t        nstreamed;
	uint64_t      held;           /* octets announced so far */
	bool          toobig;         /* a streamed literal passed its cap */
	struct imap_append_msg *msgs; /* owns */
	struct store_append_msg *sm;  /* owns: what store_append reads */
	size_t        n;
	char          mailbox[STORE_MAILBOX_NAME_MAX + 1];
	struct store_append ap;
};

static void
imap_append_free(struct imap_append *a)
{
	for (size_t i = 0; i < a->nstreamed; i++)
		rs_buf_free(&a->streamed[i]);
	free(a->streamed);
	for (size_t i = 0; i < a->n; i++) {
		rs_buf_free(&a->msgs[i].data);
		rs_buf_free(&a->msgs[i].meta);
		free(a->msgs[i].kw);
	}
	free(a->msgs);
	free(a->sm);
	free(a);
}

static void
imap_append_cleanup(struct imap_session *s)
{
	if (s->cmd.state != NULL)
		imap_append_free(s->cmd.state);
	s->cmd.state = NULL;
}

static struct imap_append *
imap_append_state(struct imap_session *s)
{
	if (s->cmd.state == NULL) {
		struct imap_append *a = rs_xcalloc(1, sizeof(*a));

		a->s = s;
		s->cmd.state = a;
		s->cmd.cleanup = imap_append_cleanup;
	}
	return s->cmd.state;
}

static uint64_t
imap_append_limit(const struct imap_session *s)
{
	uint64_t max = s->srv != NULL ? s->srv->limits.max_message : 0;

	return max != 0 ? max : (uint64_t)64 * 1024 * 1024;
}

/* RFC 7888 / RFC 9208: refuse a literal before the client sends it. */
static bool
imap_append_literal(struct imap_session *s, const struct imap_event *ev)
{
	struct imap_append *a = imap_append_state(s);
	struct store_account_info info;
	struct rs_err err;

	if (ev->lit_size > imap_append_limit(s) ||
	    a->held + ev->lit_size > IMAP_APPEND_TOTAL_MAX) {
		imap_reply(s, IMAP_NO, "[TOOBIG] Message too large");
		return false;
	}
	rs_err_clear(&err);
	if (s->quota.bytes != 0 &&
	    store_account_get(imap_store(s), s->acct, &info, &err) == 0 &&
	    info.bytes + a->held + ev->lit_size > s->quota.bytes) {
		imap_reply(s, IMAP_NO, "[OVERQUOTA] Over quota");
		return false;
	}
	if (imap_fetch_util_store_full(s, "APPEND", STORE_STATE_OK))
		return false;
	a->held += ev->lit_size;
	if (ev->lit_streamed) {
		a->streamed = rs_xreallocarray(a->streamed, a->nstreamed + 1,
		                               sizeof(*a->streamed));
		rs_buf_init(&a->streamed[a->nstreamed], (size_t)ev->lit_size);
		a->nstreamed++;
	}
	return true;
}

static void
imap_append_data(struct imap_session *s, const struct imap_event *ev)
{
	struct imap_append *a = imap_append_state(s);

	if (a->nstreamed == 0 ||
	    rs_buf_append(&a->streamed[a->nstreamed - 1], ev->data.p,
	                  ev->data.len) != 0)
		a->toobig = true;
}

/* Copies the keywords of m->fl into m->kw so they outlive the input. */
static void
imap_append_keep_kw(struct imap_append_msg *m)
{
	size_t len = 0, off = 0;

	for (size_t i = 0; i < m->fl.nkw; i++)
		len += strlen(m->fl.kw[i]) + 1;
	m->kw = rs_xmalloc(len + 1);
	for (size_t i = 0; i < m->fl.nkw; i++) {
		size_t l = strlen(m->fl.kw[i]) + 1;

		memcpy(m->kw + off, m->fl.kw[i], l);
		m->fl.kw[i] = m->kw + off;
		off += l;
	}
}

/* One message: [flags] [date-time] literal. Returns the next argument,
 * or NULL after replying BAD. */
static const struct imap_arg *
imap_append_one(struct imap_append *a, const struct imap_arg *p,
                const struct imap_arg *end)
{
	struct imap_session *s = a->s;
	struct imap_append_msg *m;
	const char *why;

	if (a->n == IMAP_APPEND_MSGS_MAX) {
		imap_reply(s, IMAP_NO, "[LIMIT] Too many messages");
		return NULL;
	}
	a->msgs = rs_xreallocarray(a->msgs, a->n + 1, sizeof(*a->msgs));
	m = &a->msgs[a->n++];
	memset(m, 0, sizeof(*m));
	rs_buf_init(&m->data, RS_BUF_UNLIMITED);
	rs_buf_init(&m->meta, STORE_META_MAX);
	m->date = (int64_t)time(NULL);
	if (p < end && p->type == IMAP_ARG_LIST) {
		if (imap_fetch_util_flags_parse(p, imap_arg_next(p), &m->fl,
		                                &why) != 0) {
			imap_reply(s, IMAP_BAD, "%s", why);
			return NULL;
		}
		imap_append_keep_kw(m);
		p = imap_arg_next(p);
	}
	if (p < end && p->type == IMAP_ARG_QUOTED) {
		int32_t tz;

		if (imap_string_datetime_parse(p->str, &m->date, &tz) != 0) {
			imap_reply(s, IMAP_BAD, "Invalid date-time");
			return NULL;
		}
		p = imap_arg_next(p);
	}
	if (p >= end || p->type != IMAP_ARG_LITERAL) {
		imap_reply(s, IMAP_BAD, "APPEND takes a message literal");
		return NULL;
	}
	if ((p->flags & IMAP_ARG_F_STREAMED) != 0) {
		if (p->stream_idx >= a->nstreamed) {
			imap_reply(s, IMAP_BAD, "Message literal missing");
			return NULL;
		}
		/* Take the buffer over. */
		m->data = a->streamed[p->stream_idx];
		rs_buf_init(&a->streamed[p->stream_idx], 0);
	} else if (rs_buf_append(&m->data, p->str.p, p->str.len) != 0) {
		abort();                /* unlimited */
	}
	if (m->data.len == 0) {
		imap_reply(s, IMAP_NO, "Empty message");
		return NULL;
	}
	return imap_arg_next(p);
}

static void
imap_append_done(void *arg, int rc)
{
	struct imap_append *a = arg;
	struct imap_session *s = a->s;

	if (!imap_session_closed(s)) {
		if (rc == RS_ENOTFOUND) {
			imap_reply(s, IMAP_NO, "[TRYCREATE] No such mailbox");
		} else if (rc != 0) {
			imap_fetch_util_store_failed(s, rc, "APPEND");
		} else {
			/* The selected mailbox shows the new messages. */
			if (s->view != NULL)
				s->view->stale = true;
			if (a->n == 1)
				imap_reply(s, IMAP_OK, "[APPENDUID %" PRIu32
				           " %" PRIu32 "] APPEND completed",
				           a->ap.uidvalidity, a->ap.uid_first);
			else
				imap_reply(s, IMAP_OK, "[APPENDUID %" PRIu32
				           " %" PRIu32 ":%" PRIu32 "] APPEND "
				           "completed", a->ap.uidvalidity,
				           a->ap.uid_first, a->ap.uid_first +
				           (uint32_t)a->n - 1);
		}
		imap_cmd_finish(s);
	}
	/* Detached from the session when queued: freed here either way. */
	imap_append_free(a);
	imap_session_unref(s);
}

static int
imap_append_queue(struct imap_session *s, struct imap_append *a)
{
	struct rs_err err;

	a->sm = rs_xcalloc(a->n, sizeof(*a->sm));
	for (size_t i = 0; i < a->n; i++) {
		struct imap_append_msg *m = &a->msgs[i];
		struct store_append_msg *sm = &a->sm[i];

		imap_fetch_meta_parse(m->data.data, m->data.len, &m->meta);
		sm->msg.data = m->data.data;
		sm->msg.len = m->data.len;
		sm->msg.internal_date = m->date;
		sm->msg.meta = m->meta.len > 0 ? m->meta.data : NULL;
		sm->msg.meta_len = m->meta.len;
		sm->flags = m->fl.flags;
		sm->keywords = m->fl.kw;
		sm->nkeywords = m->fl.nkw;
	}
	a->ap.acct = s->acct;
	a->ap.mailbox = a->mailbox;
	a->ap.msgs = a->sm;
	a->ap.n = a->n;
	a->ap.enforce_quota = s->quota.bytes != 0 || s->quota.messages != 0;
	a->ap.quota = s->quota;
	rs_err_clear(&err);
	if (store_append(imap_store(s), &a->ap, imap_exec(s), imap_append_done,
	                 a, &err) != 0) {
		imap_fetch_util_store_failed(s, err.code, "APPEND");
		return IMAP_RUN_DONE;
	}
	/* The store reads a until its callback: it leaves the session's
	 * keeping, so that a close in between does not free it. */
	s->cmd.state = NULL;
	imap_session_ref(s);
	return IMAP_RUN_ASYNC;
}

int
imap_append__run(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *p, *end = imap_fetch_util_end(cmd);
	struct imap_append *a = imap_append_state(s);
	int rc;

	if (a->toobig) {
		imap_reply(s, IMAP_NO, "[TOOBIG] Message too large");
		return IMAP_RUN_DONE;
	}
	if (cmd->nargs < 2) {
		imap_reply(s, IMAP_BAD, "APPEND takes a mailbox and a message");
		return IMAP_RUN_DONE;
	}
	if ((rc = imap_mailbox_name_in(s, &cmd->args[0], a->mailbox,
	                               sizeof(a->mailbox))) != 0) {
		imap_mailbox__name_refuse(s, rc, false, "APPEND takes a "
		                          "mailbox and a message");
		return IMAP_RUN_DONE;
	}
	p = imap_arg_next(&cmd->args[0]);
	while (p < end) {
		p = imap_append_one(a, p, end);
		if (p == NULL)
			return IMAP_RUN_DONE;
	}
	return imap_append_queue(s, a);
}

bool
imap_append__literal(struct imap_session *s, const struct imap_event *ev)
{
	return imap_append_literal(s, ev);
}

void
imap_append__data(struct imap_session *s, const struct imap_event *ev)
{
	imap_append_data(s, ev);
}
