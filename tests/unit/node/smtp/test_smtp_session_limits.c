/* test_smtp_session_limits.c: the SMTP engine under BDAT, size and line
 * limits, junk, timeouts, output floods, client disconnects while the
 * store works, and graceful shutdown. */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rs_time.h"

#include "tests/unit/node/smtp/smtp_test_env.h"
#include "tests/unit/test.h"

#define T_MAIL_RCPT "MAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.test>\r\n"
#define T_OK_OK     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
#define T_354       "354 End data with <CR><LF>.<CR><LF>\r\n"
#define T_552       "552 5.3.4 Message size exceeds fixed maximum message " \
                    "size\r\n"

static void
t_hello(struct t_env *e, struct t_client *c)
{
	t_connect(e, c);
	T_EXPECT(c, "220 mx.test ESMTP Roost\r\n");
	t_sends(c, "EHLO client.test\r\n");
	T_EXPECT(c, T_EHLO_REPLY);
}

static void
t_fill(char *p, size_t n, const char *line)
{
	size_t l = strlen(line);

	for (size_t i = 0; i < n; i++)
		p[i] = line[i % l];
}

void
test_smtp_session_bdat(void)
{
	struct t_env e;
	struct t_client c;
	char *big = malloc(20000);

	t_env_init(&e);
	e.srv.limits.max_errors = 100;
	t_hello(&e, &c);
	/* Chunks are verbatim: dots, bare LF and CR stay. */
	t_sends(&c, T_MAIL_RCPT "BDAT 5\r\nhello");
	T_EXPECT(&c, T_OK_OK "250 2.0.0 5 octets received\r\n");
	t_sends(&c, "BDAT 8 LAST\r\n\r\n.\r\nx\n\r");
	T_EXPECT_PREFIX(&c, "250 2.0.0 Ok: stored as ");
	TEST_ASSERT(e.stored.len > 8 &&
	            memcmp(e.stored.data + e.stored.len - 13,
	                   "hello\r\n.\r\nx\n\r", 13) == 0);
	/* BDAT 0 LAST ends a transaction. */
	t_sends(&c, T_MAIL_RCPT "BDAT 3\r\nabcBDAT 0 LAST\r\n");
	T_EXPECT(&c, T_OK_OK "250 2.0.0 3 octets received\r\n");
	T_EXPECT_PREFIX(&c, "250 2.0.0 Ok: stored as ");
	TEST_ASSERT(e.ndelivered == 2);
	TEST_ASSERT(memcmp(e.stored.data + e.stored.len - 5, "\r\nabc", 5) == 0);
	/* No DATA in a BDAT transaction; no RCPT between chunks. */
	t_sends(&c, T_MAIL_RCPT "BDAT 1\r\nxDATA\r\nRCPT TO:<c@example.test>"
	        "\r\nRSET\r\n");
	T_EXPECT(&c, T_OK_OK "250 2.0.0 1 octets received\r\n"
	         "503 5.5.1 Error: DATA after BDAT\r\n"
	         "503 5.5.1 Error: need MAIL command\r\n250 2.0.0 Ok\r\n");
	/* Out of sequence: the chunk is read past, never executed. */
	t_sends(&c, "BDAT 6\r\nNOOP\r\nNOOP\r\n");
	T_EXPECT(&c, "503 5.5.1 Error: need MAIL command\r\n250 2.0.0 Ok\r\n");
	/* Over the limit: read past, 552, then 503 until MAIL or RSET. */
	t_fill(big, 20000, "QUIT\r\n");
	t_sends(&c, T_MAIL_RCPT "BDAT 20000\r\n");
	t_send(&c, big, 20000);
	T_EXPECT(&c, T_OK_OK T_552);
	t_sends(&c, "BDAT 1 LAST\r\nxMAIL FROM:<a@b.test>\r\n");
	T_EXPECT(&c, "503 5.5.1 Error: need MAIL command\r\n250 2.1.0 Ok\r\n");
	t_sends(&c, "RSET\r\n");
	T_EXPECT(&c, "250 2.0.0 Ok\r\n");
	TEST_ASSERT(e.ndelivered == 2);
	/* Far past the limit: not worth reading, 552 and close. */
	t_sends(&c, T_MAIL_RCPT "BDAT 99999999\r\n");
	T_EXPECT(&c, T_OK_OK T_552);
	T_EXPECT_EOF(&c);
	t_client_close(&c);
	/* A size that cannot be parsed: the stream is lost, close. */
	t_hello(&e, &c);
	t_sends(&c, "BDAT x\r\nNOOP\r\n");
	T_EXPECT(&c, "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n");
	T_EXPECT_EOF(&c);
	t_client_close(&c);
	t_env_free(&e);
	free(big);
}

void
test_smtp_session_sizes(void)
{
	struct t_env e;
	struct t_client c;
	char *big = malloc(30000);

	t_env_init(&e);
	e.srv.limits.max_errors = 100;
	e.srv.limits.max_recipients = 2;
	t_hello(&e, &c);
	/* RFC 1870: a declared size over the limit. */
	t_sends(&c, "MAIL FROM:<a@b.test> SIZE=10241\r\n"
	        "MAIL FROM:<a@b.test> SIZE=10240\r\n");
	T_EXPECT(&c, T_552 "250 2.1.0 Ok\r\n");
	/* Too many recipients. */
	t_sends(&c, "RCPT TO:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n"
	        "RCPT TO:<c@example.test>\r\nRSET\r\n");
	T_EXPECT(&c, "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Error: too "
	         "many recipients\r\n250 2.0.0 Ok\r\n");
	/* A message over the limit: read to its end, then 552. */
	t_fill(big, 12000, "0123456789\r\n");
	t_sends(&c, T_MAIL_RCPT "DATA\r\n");
	T_EXPECT(&c, T_OK_OK T_354);
	t_send(&c, big, 12000);
	t_sends(&c, ".\r\nNOOP\r\n");
	T_EXPECT(&c, T_552 "250 2.0.0 Ok\r\n");
	TEST_ASSERT(e.ndelivered == 0);
	/* Exactly at the limit is fine (the trace lines do not count). */
	t_sends(&c, T_MAIL_RCPT "DATA\r\n");
	T_EXPECT(&c, T_OK_OK T_354);
	t_send(&c, big, 10236);
	t_sends(&c, "ab\r\n.\r\n");
	T_EXPECT_PREFIX(&c, "250 2.0.0 Ok: stored as ");
	TEST_ASSERT(e.ndelivered == 1);
	/* Overlong and NUL command lines. */
	t_fill(big, 3000, "x");
	memcpy(big, "NOOP ", 5);
	t_send(&c, big, 3000);
	t_sends(&c, "\r\nNOOP\r\n");
	T_EXPECT(&c, "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
	t_send(&c, "NO\0OP\r\nNOOP\r\n", 13);
	T_EXPECT(&c, "500 5.5.2 NUL byte in command\r\n250 2.0.0 Ok\r\n");
	/* A DATA that never ends: past twice the limit, 552 and close. */
	t_sends(&c, T_MAIL_RCPT "DATA\r\n");
	T_EXPECT(&c, T_OK_OK T_354);
	t_fill(big, 30000, "no end in sight\r\n");
	t_send(&c, big, 30000);
	T_EXPECT(&c, T_552);
	T_EXPECT_EOF(&c);
	t_client_close(&c);
	t_env_free(&e);
	free(big);
}

void
test_smtp_session_junk_timeout(void)
{
	struct t_env e;
	struct t_client c;

	t_env_init(&e);
	e.srv.limits.max_junk = 3;
	e.srv.limits.timeout_ms = 150;
	t_hello(&e, &c);
	t_sends(&c, "NOOP\r\nRSET\r\nVRFY x\r\nHELP\r\nNOOP\r\n");
	T_EXPECT(&c, "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n252 2.5.2 Cannot VRFY "
	         "user, but will accept message and attempt delivery\r\n"
	         "421 4.7.0 mx.test Error: too many junk commands\r\n");
	T_EXPECT_EOF(&c);
	t_client_close(&c);
	/* Idle: 421 4.4.2 (RFC 5321 section 4.5.3.2). */
	t_hello(&e, &c);
	T_EXPECT(&c, "421 4.4.2 mx.test Error: timeout exceeded\r\n");
	T_EXPECT_EOF(&c);
	t_client_close(&c);
	/* A DATA that stalls times out the same way. */
	t_hello(&e, &c);
	t_sends(&c, T_MAIL_RCPT "DATA\r\nhalf a line");
	T_EXPECT(&c, T_OK_OK T_354 "421 4.4.2 mx.test Error: timeout "
	         "exceeded\r\n");
	T_EXPECT_EOF(&c);
	t_client_close(&c);
	t_pump(&c, 5);
	TEST_ASSERT(smtp_server_sessions(&e.srv) == 0);
	t_env_free(&e);
}

/* smtp.data_timeout: a message that keeps coming, each piece within
 * smtp.timeout, is cut off once the whole takes too long. */
void
test_smtp_session_data_deadline(void)
{
	struct t_env e;
	struct t_client c;

	t_env_init(&e);
	e.srv.limits.data_timeout_ms = 100;
	t_hello(&e, &c);
	t_sends(&c, T_MAIL_RCPT "DATA\r\nfirst line\r\n");
	T_EXPECT(&c, T_OK_OK T_354);
	t_pump(&c, 150);
	t_sends(&c, "late line\r\n.\r\n");
	T_EXPECT(&c, "421 4.4.2 mx.test Error: timeout exceeded: the message "
	         "took too long\r\n");
	T_EXPECT_EOF(&c);
	t_client_close(&c);
	TEST_ASSERT(e.ndelivered == 0);
	t_env_free(&e);
}

/* A client that pipelines without reading: we stop reading once our
 * output passes the high watermark, and every command is still answered
 * once it reads. */
void
test_smtp_session_flood(void)
{
	static const char noop[] = "NOOP\r\n", ok[] = "250 2.0.0 Ok\r\n";
	enum { N = 60000 };
	struct t_env e;
	struct t_client c;
	char *buf = malloc(N * 6);
	size_t sent = 0, replies = 0;
	bool paused = false;

	t_env_init(&e);
	e.srv.limits.max_junk = N + 1;
	t_hello(&e, &c);
	t_fill(buf, N * 6, noop);
	/* Write until the socket is full, without reading. */
	for (int spins = 0; sent < N * 6 && spins < 2000; spins++) {
		ssize_t w = write(c.fd, buf + sent, N * 6 - sent);

		if (w > 0)
			sent += (size_t)w;
		event_base_loop(e.base, EVLOOP_NONBLOCK);
		if (t_session(&e)->paused)
			paused = true;
		TEST_ASSERT(evbuffer_get_length(bufferevent_get_output(
		            t_session(&e)->bev)) <= SMTP_OUT_HIGH + 64);
	}
	TEST_ASSERT(paused);
	TEST_ASSERT(sent < N * 6);                /* the server pushed back */
	/* Now read; the rest gets written and everything answered. */
	for (uint64_t end = rs_mono_ms() + 20000;
	     replies < N && rs_mono_ms() < end;) {
		if (sent < N * 6) {
			ssize_t w = write(c.fd, buf + sent, N * 6 - sent);

			if (w > 0)
				sent += (size_t)w;
		}
		t_pump(&c, 0);
		while (c.got.len >= sizeof(ok) - 1 &&
		       memcmp(c.got.data, ok, sizeof(ok) - 1) == 0) {
			rs_buf_consume(&c.got, sizeof(ok) - 1);
			replies++;
		}
	}
	TEST_ASSERT(replies == N);
	TEST_ASSERT(c.got.len == 0);
	t_client_close(&c);
	t_env_free(&e);
	free(buf);
}

/* The client goes away while the store works; the completion must find
 * the session closed and touch nothing freed (ASan checks). */
void
test_smtp_session_gone(void)
{
	struct t_env e;
	struct t_client c;

	t_env_init(&e);
	e.async = true;
	e.delay_ms = 40;
	/* Closed from our side (server stop) while pending. */
	t_hello(&e, &c);
	t_sends(&c, T_MAIL_RCPT "DATA\r\n");
	T_EXPECT(&c, T_OK_OK T_354);
	t_sends(&c, "x\r\n.\r\n");
	t_pump(&c, 5);
	TEST_ASSERT(e.pending != NULL);
	smtp_session__close(t_session(&e), "test");
	t_pump(&c, 5);                            /* released */
	TEST_ASSERT(smtp_server_sessions(&e.srv) == 0 && e.pending != NULL);
	t_pump(&c, 60);                           /* completion runs */
	TEST_ASSERT(e.pending == NULL);
	TEST_ASSERT(c.got.len == 0);
	t_client_close(&c);
	/* The client hangs up while pending: the reply fails, the session
	 * notices the close once it reads again. */
	t_hello(&e, &c);
	t_sends(&c, T_MAIL_RCPT "DATA\r\n");
	T_EXPECT(&c, T_OK_OK T_354);
	t_sends(&c, "x\r\n.\r\n");
	t_pump(&c, 5);
	close(c.fd);
	c.fd = -1;
	t_pump(&c, 100);
	TEST_ASSERT(e.pending == NULL);
	TEST_ASSERT(smtp_server_sessions(&e.srv) == 0);
	t_client_close(&c);
	t_env_free(&e);
}

/* Graceful stop: the idle session gets 421 at once; the one inside DATA
 * finishes its message, gets its 250, then 421. */
void
test_smtp_session_shutdown(void)
{
	struct t_env e;
	struct t_client a, b;

	t_env_init(&e);
	e.async = true;
	t_hello(&e, &a);
	t_hello(&e, &b);
	t_sends(&b, T_MAIL_RCPT "DATA\r\n");
	T_EXPECT(&b, T_OK_OK T_354);
	smtp_server_shutdown(&e.srv, 5000, t_env_done, &e);
	T_EXPECT(&a, "421 4.3.2 mx.test Service shutting down\r\n");
	T_EXPECT_EOF(&a);
	t_sends(&b, "body\r\n.\r\nNOOP\r\n");
	T_EXPECT_PREFIX(&b, "250 2.0.0 Ok: stored as ");
	T_EXPECT(&b, "421 4.3.2 mx.test Service shutting down\r\n");
	T_EXPECT_EOF(&b);
	t_pump(&b, 5);
	TEST_ASSERT(smtp_server_sessions(&e.srv) == 0);
	TEST_ASSERT(e.done_calls == 1);           /* the grace event ran */
	TEST_ASSERT(e.ndelivered == 1);
	t_client_close(&a);
	t_client_close(&b);
	t_env_free(&e);
}

/* An idle session stays small: no transaction, no message buffer. */
void
test_smtp_session_idle_size(void)
{
	struct t_env e;
	struct t_client c;
	struct smtp_session *s;

	t_env_init(&e);
	t_hello(&e, &c);
	s = t_session(&e);
	TEST_ASSERT(s->txn == NULL && s->policy_data == NULL);
	TEST_ASSERT(sizeof(*s) + e.srv.limits.max_line < 4096);
	t_sends(&c, T_MAIL_RCPT "RSET\r\n");
	T_EXPECT(&c, T_OK_OK "250 2.0.0 Ok\r\n");
	TEST_ASSERT(s->txn == NULL);
	TEST_ASSERT(e.resets == 1);
	t_client_close(&c);
	t_env_free(&e);
}
