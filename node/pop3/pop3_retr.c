/* pop3_retr.c: RETR and TOP (RFC 1939 section 7). The message is read
 * from the store in POP3_CHUNK pieces as the client drains the output
 * (never whole in memory) and passed through pop3_stuff for
 * dot-stuffing and line endings. A message expunged meanwhile by another
 * protocol is reported with -ERR if nothing was sent yet; in mid-stream
 * the only honest signal left is closing the connection. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/pop3/pop3_int.h"

/* Reads the next chunk at stream.offset. 0, or the store's rc with err. */
static int
pop3_retr_read(struct pop3_session *s, struct rs_err *err)
{
	struct pop3_stream *st = &s->stream;
	size_t got = 0;
	int rc;

	rs_err_clear(err);
	rc = store_blob_read(pop3_session__store(s), s->acct.part,
	                     s->msgs[st->msgno].blob, st->offset, st->chunk,
	                     POP3_CHUNK, &got, err);
	if (rc != 0)
		return rc;
	st->offset += got;
	st->chunk_len = got;
	/* store.h: fewer octets than asked only at the end. */
	if (got < POP3_CHUNK)
		st->eof = true;
	return 0;
}

/* Stuffs the chunk straight into the output buffer's free space. */
static void
pop3_retr_emit(struct pop3_session *s)
{
	struct pop3_stream *st = &s->stream;
	struct evbuffer *out = pop3_session__out(s);
	struct evbuffer_iovec v;
	size_t used;

	if (st->chunk_len == 0)
		return;
	if (evbuffer_reserve_space(out, (ev_ssize_t)pop3_stuff_bound(
	                           st->chunk_len), &v, 1) != 1)
		abort();                /* libevent out of memory */
	v.iov_len = pop3_stuff_run(&st->stuff, st->chunk, st->chunk_len,
	                           v.iov_base, &used);
	evbuffer_commit_space(out, &v, 1);
	st->sent += v.iov_len;
	/* Past the TOP limit the rest of the chunk is not wanted. */
	st->chunk_len = 0;
}

static int
pop3_retr_fill(struct pop3_session *s)
{
	struct pop3_stream *st = &s->stream;
	const struct pop3_msg *m = &s->msgs[st->msgno];
	uint8_t tail[POP3_STUFF_TAIL_MAX];
	struct rs_err err;
	size_t n;
	int rc;

	if (!st->eof && !pop3_stuff_done(&st->stuff)) {
		rc = pop3_retr_read(s, &err);
		if (rc != 0) {
			rs_logc(&s->log, RS_LOG_WARN, "pop3.retr_aborted",
			        "msg=%zu uid=%" PRIu32 " offset=%" PRIu64
			        " reason=%s error=\"%s\"", st->msgno + 1,
			        m->uid, st->offset, pop3_notfound(rc, &err) ?
			        "vanished" : "store", err.msg);
			pop3_session__close(s, "message-vanished");
			return -1;
		}
		pop3_retr_emit(s);
	}
	if (!st->eof && !pop3_stuff_done(&st->stuff))
		return 0;
	n = pop3_stuff_finish(&st->stuff, tail);
	evbuffer_add(pop3_session__out(s), tail, n);
	st->sent += n;
	rs_logc(&s->log, RS_LOG_INFO, st->top ? "pop3.top" : "pop3.retr",
	        "msg=%zu uid=%" PRIu32 " size=%" PRIu64 " sent=%" PRIu64,
	        st->msgno + 1, m->uid, m->size, st->sent);
	return 1;
}

static void
pop3_retr_start(struct pop3_session *s, size_t idx, bool top,
                uint64_t lines)
{
	struct pop3_stream *st = &s->stream;
	const struct pop3_msg *m = &s->msgs[idx];
	struct rs_err err;
	int rc;

	memset(st, 0, sizeof(*st));
	st->msgno = idx;
	st->top = top;
	st->chunk = rs_xmalloc(POP3_CHUNK);
	pop3_stuff_init(&st->stuff, top, lines);
	/* The first read comes before "+OK", so a vanished message can
	 * still get a clean -ERR. */
	rc = pop3_retr_read(s, &err);
	if (rc != 0) {
		bool gone = pop3_notfound(rc, &err);

		rs_logc(&s->log, gone ? RS_LOG_INFO : RS_LOG_WARN,
		        top ? "pop3.top_failed" : "pop3.retr_failed",
		        "msg=%zu uid=%" PRIu32 " reason=%s error=\"%s\"",
		        idx + 1, m->uid, gone ? "vanished" : "store", err.msg);
		RS_FREE(&st->chunk);
		memset(st, 0, sizeof(*st));
		/* Not the client's fault: not counted in pop3.max_errors. */
		pop3_session__printf(s, "-ERR [SYS/TEMP] %s\r\n", gone ?
		                     "Message vanished" :
		                     "Could not read the message");
		return;
	}
	if (top)
		pop3_session__ok(s, "Top of message follows");
	else
		pop3_session__ok(s, "%" PRIu64 " octets", m->size);
	pop3_retr_emit(s);
	pop3_session__stream(s, pop3_retr_fill);
}

void
pop3_retr__retr(struct pop3_session *s, const struct pop3_cmd *c)
{
	size_t i;

	if (pop3_maildrop__msg(s, c->args[0], &i) != 0)
		return;
	pop3_retr_start(s, i, false, 0);
}

void
pop3_retr__top(struct pop3_session *s, const struct pop3_cmd *c)
{
	uint64_t lines;
	size_t i;

	if (pop3_maildrop__msg(s, c->args[0], &i) != 0)
		return;
	/* RFC 1939 section 7: a non-negative number of lines. */
	if (rs_str_to_u64(c->args[1], UINT64_MAX, &lines) != 0) {
		pop3_session__err(s, "Invalid number of lines");
		return;
	}
	pop3_retr_start(s, i, true, lines);
}
