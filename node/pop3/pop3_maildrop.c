/* pop3_maildrop.c: the maildrop of a logged-in session: its lock and
 * snapshot of INBOX (RFC 1939 section 4: numbered 1..N for the session),
 * the TRANSACTION commands that need no message body (STAT, LIST, UIDL,
 * DELE, RSET, NOOP) and QUIT's UPDATE, which expunges every marked
 * message in one atomic store call. RETR and TOP are in pop3_retr.c. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/auth/auth.h"
#include "node/core/node_ctx.h"
#include "node/pop3/pop3_int.h"

/* Snapshot of INBOX in UID order. An account without state, or without
 * an INBOX yet, is an empty maildrop. 0 or -1 with err. */
static int
pop3_maildrop_load(struct pop3_session *s, struct rs_err *err)
{
	struct store *st = pop3_session__store(s);
	struct store_mailbox mb;
	struct store_msg_iter *it;
	struct store_msg m;
	size_t cap = 0;
	int rc;

	rs_err_clear(err);
	rc = store_mailbox_find(st, s->acct, "INBOX", &mb, err);
	if (pop3_notfound(rc, err)) {
		rs_err_clear(err);
		return 0;
	}
	if (rc != 0)
		return -1;
	s->mailbox = mb.id;
	s->uidvalidity = mb.uidvalidity;
	/* XXX(pop3): the snapshot costs ~48 octets a message; a cap such as
	 * pop3.max_messages may be wanted for huge maildrops. */
	it = store_msg_iter_new(st, s->acct, mb.id, 1);
	while ((rc = store_msg_iter_next(it, &m, err)) == 1) {
		struct pop3_msg *pm;

		if (s->nmsgs == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			s->msgs = rs_xreallocarray(s->msgs, cap,
			                           sizeof(*s->msgs));
		}
		pm = &s->msgs[s->nmsgs++];
		pm->uid = m.uid;
		pm->size = m.size;
		pm->deleted = false;
		memcpy(pm->blob, m.blob, sizeof(pm->blob));
		s->bytes += m.size;
	}
	store_msg_iter_free(&it);
	return rc < 0 ? -1 : 0;
}

static void
pop3_maildrop_forget(struct pop3_session *s)
{
	RS_FREE(&s->msgs);
	s->nmsgs = s->ndeleted = 0;
	s->bytes = s->deleted_bytes = 0;
	s->addr[0] = '\0';
}

void
pop3_maildrop__open(struct pop3_session *s, const struct auth_result *r)
{
	struct rs_err err;
	char v[96];

	snprintf(s->addr, sizeof(s->addr), "%s", r->addr);
	s->acct = r->acct;
	rs_log_val(v, sizeof(v), s->addr, strlen(s->addr));
	if (pop3_server__lock(s->srv, s) != 0) {
		/* RFC 2449 section 8.1.1: stay in AUTHORIZATION. */
		rs_logc(&s->log, RS_LOG_INFO, "pop3.login_failed", "user=%s "
		        "method=%s reason=in_use", v, s->method);
		pop3_maildrop_forget(s);
		pop3_session__printf(s, "-ERR [IN-USE] Mailbox is locked by "
		                     "another POP3 session\r\n");
		return;
	}
	if (pop3_maildrop_load(s, &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "pop3.login_failed", "user=%s "
		        "method=%s reason=store error=\"%s\"", v, s->method,
		        err.msg);
		pop3_server__unlock(s->srv, s);
		pop3_maildrop_forget(s);
		pop3_session__printf(s, "-ERR [SYS/TEMP] Could not open the "
		                     "maildrop\r\n");
		return;
	}
	rs_logc(&s->log, RS_LOG_INFO, "pop3.login", "user=%s method=%s "
	        "messages=%zu octets=%" PRIu64, v, s->method, s->nmsgs,
	        s->bytes);
	pop3_session__set_state(s, POP3_STATE_TRANS);
	pop3_session__ok(s, "Logged in, %zu messages (%" PRIu64 " octets)",
	                 s->nmsgs, s->bytes);
}

int
pop3_maildrop__msg(struct pop3_session *s, struct rs_str arg, size_t *idx_r)
{
	uint64_t n;

	if (rs_str_to_u64(arg, UINT64_MAX, &n) != 0) {
		pop3_session__err(s, "Invalid message number");
		return -1;
	}
	if (n == 0 || n > s->nmsgs) {
		pop3_session__err(s, "No such message");
		return -1;
	}
	if (s->msgs[n - 1].deleted) {
		/* RFC 1939 section 5: marked messages are not counted and
		 * may not be referred to. */
		pop3_session__err(s, "Message %" PRIu64 " is deleted", n);
		return -1;
	}
	*idx_r = (size_t)(n - 1);
	return 0;
}

void
pop3_maildrop__stat(struct pop3_session *s, const struct pop3_cmd *c)
{
	(void)c;
	pop3_session__ok(s, "%zu %" PRIu64, s->nmsgs - s->ndeleted,
	                 s->bytes - s->deleted_bytes);
}

/* RFC 1939 section 7: a unique-id is 1 to 70 characters 0x21..0x7E, the
 * same across sessions and never reused: UIDVALIDITY and UID together. */
static void
pop3_maildrop_uid(const struct pop3_session *s, size_t i, char *buf,
                  size_t size)
{
	snprintf(buf, size, "%08" PRIx32 "%08" PRIx32, s->uidvalidity,
	         s->msgs[i].uid);
}

/* LIST and UIDL without argument: a batch of lines per refill, so a huge
 * maildrop is not listed into one huge buffer. */
static int
pop3_maildrop_fill_list(struct pop3_session *s)
{
	struct evbuffer *out = pop3_session__out(s);
	size_t end = s->stream.msgno + POP3_LIST_BATCH;

	if (end > s->nmsgs)
		end = s->nmsgs;
	for (size_t i = s->stream.msgno; i < end; i++) {
		char uid[24];

		if (s->msgs[i].deleted)
			continue;
		if (s->stream.uidl) {
			pop3_maildrop_uid(s, i, uid, sizeof(uid));
			evbuffer_add_printf(out, "%zu %s\r\n", i + 1, uid);
		} else {
			evbuffer_add_printf(out, "%zu %" PRIu64 "\r\n", i + 1,
			                    s->msgs[i].size);
		}
	}
	s->stream.msgno = end;
	if (end < s->nmsgs)
		return 0;
	evbuffer_add(out, ".\r\n", 3);
	return 1;
}

static void
pop3_maildrop_listing(struct pop3_session *s, const struct pop3_cmd *c,
                      bool uidl)
{
	size_t i;

	if (c->nargs == 1) {
		char uid[24];

		if (pop3_maildrop__msg(s, c->args[0], &i) != 0)
			return;
		if (uidl) {
			pop3_maildrop_uid(s, i, uid, sizeof(uid));
			pop3_session__ok(s, "%zu %s", i + 1, uid);
		} else {
			pop3_session__ok(s, "%zu %" PRIu64, i + 1,
			                 s->msgs[i].size);
		}
		return;
	}
	if (uidl)
		pop3_session__ok(s, "Unique-ID listing follows");
	else
		pop3_session__ok(s, "%zu messages (%" PRIu64 " octets)",
		                 s->nmsgs - s->ndeleted,
		                 s->bytes - s->deleted_bytes);
	s->stream.msgno = 0;
	s->stream.uidl = uidl;
	pop3_session__stream(s, pop3_maildrop_fill_list);
}

void
pop3_maildrop__list(struct pop3_session *s, const struct pop3_cmd *c)
{
	pop3_maildrop_listing(s, c, false);
}

void
pop3_maildrop__uidl(struct pop3_session *s, const struct pop3_cmd *c)
{
	pop3_maildrop_listing(s, c, true);
}

void
pop3_maildrop__dele(struct pop3_session *s, const struct pop3_cmd *c)
{
	size_t i;

	if (pop3_maildrop__msg(s, c->args[0], &i) != 0)
		return;
	/* RFC 1939 section 6: only marked; QUIT's UPDATE removes it. */
	s->msgs[i].deleted = true;
	s->ndeleted++;
	s->deleted_bytes += s->msgs[i].size;
	pop3_session__ok(s, "Message %zu deleted", i + 1);
}

void
pop3_maildrop__rset(struct pop3_session *s, const struct pop3_cmd *c)
{
	(void)c;
	for (size_t i = 0; i < s->nmsgs; i++)
		s->msgs[i].deleted = false;
	s->ndeleted = 0;
	s->deleted_bytes = 0;
	pop3_session__ok(s, "Maildrop has %zu messages (%" PRIu64 " octets)",
	                 s->nmsgs, s->bytes);
}

void
pop3_maildrop__noop(struct pop3_session *s, const struct pop3_cmd *c)
{
	(void)c;
	pop3_session__printf(s, "+OK\r\n");
}

/* Completion of QUIT's store_expunge; may run after the client left or
 * after the server was freed. */
static void
pop3_maildrop_expunged(void *arg, int rc)
{
	struct pop3_session *s = arg;

	if (rc == 0)
		rs_logc(&s->log, RS_LOG_INFO, "pop3.quit", "deleted=%zu",
		        s->nexpunge);
	else
		rs_logc(&s->log, RS_LOG_WARN, "pop3.update_failed",
		        "deleted=0 marked=%zu error=%s", s->nexpunge,
		        rs_err_name(rc));
	if (s->state == POP3_STATE_UPDATE) {
		/* RFC 1939 section 6: release the lock, then answer. */
		pop3_server__unlock(s->srv, s);
		if (rc == 0)
			pop3_session__ok(s, "Roost POP3 signing off (%zu "
			                 "messages deleted)", s->nexpunge);
		else
			pop3_session__printf(s, "-ERR [SYS/TEMP] Could not "
			                     "delete messages\r\n");
		pop3_session__finish(s, rc == 0 ? "quit" : "update-failed");
	}
	pop3_session__unref(s);
}

void
pop3_maildrop__quit(struct pop3_session *s, const struct pop3_cmd *c)
{
	struct rs_err err;
	size_t n = 0;

	(void)c;
	if (s->state == POP3_STATE_AUTH || s->ndeleted == 0) {
		if (s->state == POP3_STATE_TRANS)
			rs_logc(&s->log, RS_LOG_INFO, "pop3.quit",
			        "deleted=0");
		pop3_server__unlock(s->srv, s);
		pop3_session__ok(s, "Roost POP3 signing off");
		pop3_session__finish(s, "quit");
		return;
	}
	/* RFC 1939 section 6: UPDATE. One store call, so the marked
	 * messages go all together or not at all. */
	s->expunge = rs_xreallocarray(NULL, s->ndeleted, sizeof(uint32_t));
	for (size_t i = 0; i < s->nmsgs; i++)
		if (s->msgs[i].deleted)
			s->expunge[n++] = s->msgs[i].uid;
	s->nexpunge = n;
	rs_err_clear(&err);
	pop3_session__set_state(s, POP3_STATE_UPDATE);
	if (store_expunge(pop3_session__store(s), s->acct, s->mailbox,
	                  s->expunge, n, s->srv->node->exec,
	                  pop3_maildrop_expunged, s, &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "pop3.update_failed",
		        "deleted=0 marked=%zu error=\"%s\"", n, err.msg);
		pop3_session__printf(s, "-ERR [SYS/TEMP] Could not delete "
		                     "messages\r\n");
		pop3_session__finish(s, "update-failed");
		return;
	}
	pop3_session__ref(s);
}
