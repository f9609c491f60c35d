/* test_smtp_session.c: the SMTP engine end to end over a socketpair, with
 * the fake policy of smtp_test_env.h: replies and their order, the stored
 * message, pipelining across an asynchronous store, sequence errors. */
#include <stdio.h>
#include <string.h>

#include "tests/unit/node/smtp/smtp_test_env.h"
#include "tests/unit/test.h"

/* Greeting, EHLO, MAIL and one RCPT. */
static void
t_start(struct t_env *e, struct t_client *c, const char *from)
{
	char line[300];

	t_connect(e, c);
	T_EXPECT(c, "220 mx.test ESMTP Roost\r\n");
	t_sends(c, "EHLO client.test\r\n");
	T_EXPECT(c, T_EHLO_REPLY);
	snprintf(line, sizeof(line), "MAIL FROM:%s\r\n", from);
	t_sends(c, line);
	T_EXPECT(c, "250 2.1.0 Ok\r\n");
	t_sends(c, "RCPT TO:<bob@example.test>\r\n");
	T_EXPECT(c, "250 2.1.5 Ok\r\n");
}

static bool
t_stored_is(const struct t_env *e, const char *head, const char *body)
{
	size_t hl = strlen(head), bl = strlen(body);

	return e->stored.len >= hl + bl &&
	       memcmp(e->stored.data, head, hl) == 0 &&
	       memcmp(e->stored.data + e->stored.len - bl, body, bl) == 0;
}

void
test_smtp_session_basic(void)
{
	struct t_env e;
	struct t_client c;
	char *p;

	t_env_init(&e);
	t_start(&e, &c, "<a@b.test>");
	t_sends(&c, "DATA\r\n");
	T_EXPECT(&c, "354 End data with <CR><LF>.<CR><LF>\r\n");
	t_sends(&c, "Subject: x\r\n\r\n..dot\r\nline\r\n.\r\n");
	T_EXPECT_PREFIX(&c, "250 2.0.0 Ok: stored as ");
	TEST_ASSERT(e.ndelivered == 1);
	/* Return-Path, our Received with "for" (one recipient), then the
	 * body unstuffed and otherwise untouched. */
	TEST_ASSERT(t_stored_is(&e, "Return-Path: <a@b.test>\r\n"
	                        "Received: from client.test ([127.0.0.1])\r\n"
	                        "\tby mx.test (Roost) with ESMTP id ",
	                        "\r\nSubject: x\r\n\r\n.dot\r\nline\r\n"));
	p = strstr((char *)e.stored.data, "\r\n\tfor <bob@example.test>; ");
	TEST_ASSERT(p != NULL && strstr(p, " +0000\r\nSubject") != NULL);
	t_sends(&c, "QUIT\r\n");
	T_EXPECT(&c, "221 2.0.0 Bye\r\n");
	T_EXPECT_EOF(&c);
	t_pump(&c, 5);
	TEST_ASSERT(smtp_server_sessions(&e.srv) == 0);
	t_client_close(&c);
	t_env_free(&e);
}

void
test_smtp_session_sequence(void)
{
	static const struct {
		const char *send;
		const char *want;
	} steps[] = {
		{ "MAIL FROM:<a@b.test>\r\n",
		  "503 5.5.1 Error: send HELO/EHLO first\r\n" },
		{ "HELO a b\r\n", "501 5.5.2 Invalid EHLO/HELO hostname\r\n" },
		{ "HELO client.test\r\n", "250 mx.test\r\n" },
		{ "RCPT TO:<bob@example.test>\r\n",
		  "503 5.5.1 Error: need MAIL command\r\n" },
		{ "DATA\r\n", "503 5.5.1 Error: need MAIL command\r\n" },
		/* Parameters need EHLO (RFC 5321 section 4.1.1.11). */
		{ "MAIL FROM:<a@b.test> SIZE=10\r\n",
		  "555 5.5.4 Error: parameters need EHLO\r\n" },
		{ "MAIL FROM:<a@b.test>\r\n", "250 2.1.0 Ok\r\n" },
		{ "DATA\r\n", "503 5.5.1 Error: need RCPT command\r\n" },
		{ "MAIL FROM:<c@d.test>\r\n",
		  "503 5.5.1 Error: nested MAIL command\r\n" },
		{ "RCPT TO:<unknown@example.test>\r\n",
		  "550 5.1.1 User unknown in local recipient table\r\n" },
		{ "RCPT TO:<x@relay.test>\r\n", "554 5.7.1 Relay access denied\r\n" },
		{ "VRFY bob\r\n", "252 2.5.2 Cannot VRFY user, but will accept "
		  "message and attempt delivery\r\n" },
		{ "HELP\r\n", "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT "
		  "RSET NOOP QUIT HELP VRFY\r\n" },
		{ "NOOP\r\n", "250 2.0.0 Ok\r\n" },
		{ "RSET x\r\n", "501 5.5.4 Syntax: RSET\r\n" },
		{ "RSET\r\n", "250 2.0.0 Ok\r\n" },
		{ "RCPT TO:<bob@example.test>\r\n",
		  "503 5.5.1 Error: need MAIL command\r\n" },
		{ "EXPN staff\r\n", "502 5.5.1 Error: command not implemented\r\n" },
		/* The 13th error reaches max_errors: 421 and close. */
		{ "FOO\r\n", "500 5.5.2 Error: command not recognized\r\n"
		  "421 4.7.0 mx.test Error: too many errors\r\n" },
	};
	struct t_env e;
	struct t_client c;

	t_env_init(&e);
	e.srv.limits.max_errors = 13;
	t_connect(&e, &c);
	T_EXPECT(&c, "220 mx.test ESMTP Roost\r\n");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		t_sends(&c, steps[i].send);
		TEST_ASSERT_IDX(t_expect(&c, steps[i].want, __LINE__), i);
	}
	T_EXPECT_EOF(&c);
	t_client_close(&c);
	t_env_free(&e);
}

/* Pipelined commands after the message wait in the input buffer while
 * the store works, and are answered in order once it completes. */
void
test_smtp_session_pipelining(void)
{
	struct t_env e;
	struct t_client c;

	t_env_init(&e);
	e.async = true;
	e.delay_ms = 30;
	t_connect(&e, &c);
	T_EXPECT(&c, "220 mx.test ESMTP Roost\r\n");
	/* RFC 2920 section 3.1: DATA ends a group. */
	t_sends(&c, "EHLO client.test\r\nMAIL FROM:<> BODY=8BITMIME\r\n"
	        "RCPT TO:<bob@example.test>\r\nRCPT TO:<unknown@example.test>"
	        "\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n");
	T_EXPECT(&c, T_EHLO_REPLY);
	T_EXPECT(&c, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 User unknown "
	         "in local recipient table\r\n250 2.1.5 Ok\r\n354 End data "
	         "with <CR><LF>.<CR><LF>\r\n");
	t_sends(&c, "hello\r\n.\r\nNOOP\r\nMAIL FROM:<x@y.test>\r\nQUIT\r\n");
	t_pump(&c, 5);
	TEST_ASSERT(c.got.len == 0);              /* the store is slow */
	TEST_ASSERT(t_session(&e)->state == SMTP_STATE_WAIT);
	T_EXPECT_PREFIX(&c, "250 2.0.0 Ok: stored as ");
	T_EXPECT(&c, "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n221 2.0.0 Bye\r\n");
	T_EXPECT_EOF(&c);
	/* Two recipients: no "for"; the null reverse-path. */
	TEST_ASSERT(t_stored_is(&e, "Return-Path: <>\r\n", "+0000\r\nhello\r\n"));
	TEST_ASSERT(strstr((char *)e.stored.data, "\tfor ") == NULL);
	TEST_ASSERT(strstr((char *)e.stored.data, "with ESMTP id ") != NULL);
	t_client_close(&c);
	t_env_free(&e);
}

/* RFC 5321 section 2.3.8: none of the bare forms ends the message, and
 * what looks like commands after them is body, never executed. */
void
test_smtp_session_smuggling(void)
{
	static const char *const bodies[] = {
		"a\n.\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<bob@example.test>\r\n",
		"a\r.\rMAIL FROM:<evil@x.test>\r\n",
		"a\r\n.\nMAIL FROM:<evil@x.test>\r\n",
		"a\n.\r\nMAIL FROM:<evil@x.test>\r\n",
		"a\r\n.\rMAIL FROM:<evil@x.test>\r\n",
		"a\r\n.\r\r\nMAIL FROM:<evil@x.test>\r\n",
		"bare\nlf\r\n",
	};
	struct t_env e;
	struct t_client c;

	t_env_init(&e);
	e.srv.limits.max_errors = 100;
	t_connect(&e, &c);
	T_EXPECT(&c, "220 mx.test ESMTP Roost\r\n");
	t_sends(&c, "EHLO client.test\r\n");
	T_EXPECT(&c, T_EHLO_REPLY);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		t_sends(&c, "MAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.test>"
		        "\r\nDATA\r\n");
		TEST_ASSERT_IDX(t_expect(&c, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		                         "354 End data with <CR><LF>.<CR><LF>"
		                         "\r\n", __LINE__), i);
		t_sends(&c, bodies[i]);
		t_sends(&c, "\r\n.\r\nNOOP\r\n");
		TEST_ASSERT_IDX(t_expect(&c, "550 5.5.2 Bare CR or LF in "
		                         "message; use CRLF line endings\r\n"
		                         "250 2.0.0 Ok\r\n", __LINE__), i);
	}
	TEST_ASSERT(e.ndelivered == 0);
	t_client_close(&c);
	t_env_free(&e);
}

void
test_smtp_session_utf8(void)
{
	struct t_env e;
	struct t_client c;

	t_env_init(&e);
	t_connect(&e, &c);
	T_EXPECT(&c, "220 mx.test ESMTP Roost\r\n");
	t_sends(&c, "EHLO client.test\r\n"
	        "MAIL FROM:<j\xc3\xb6rg@b.test>\r\n"
	        "MAIL FROM:<j\xc3\xb6rg@b.test> SMTPUTF8\r\n"
	        "RCPT TO:<b\xc3\xb6" "b@example.test>\r\nDATA\r\n");
	T_EXPECT(&c, T_EHLO_REPLY);
	T_EXPECT(&c, "553 5.6.7 Must declare SMTPUTF8 to send a UTF-8 address"
	         "\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with "
	         "<CR><LF>.<CR><LF>\r\n");
	t_sends(&c, "Subject: \xc3\xa9t\xc3\xa9\r\n\r\n\xe2\x82\xac\r\n.\r\n");
	T_EXPECT_PREFIX(&c, "250 2.0.0 Ok: stored as ");
	TEST_ASSERT(t_stored_is(&e, "Return-Path: <j\xc3\xb6rg@b.test>\r\n",
	                        "\r\nSubject: \xc3\xa9t\xc3\xa9\r\n\r\n"
	                        "\xe2\x82\xac\r\n"));
	TEST_ASSERT(strstr((char *)e.stored.data, "with UTF8SMTP id ") != NULL);
	TEST_ASSERT(strstr((char *)e.stored.data,
	                   "\tfor <b\xc3\xb6" "b@example.test>; ") != NULL);
	t_client_close(&c);
	t_env_free(&e);
}
