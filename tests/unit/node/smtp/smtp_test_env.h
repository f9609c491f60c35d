/* smtp_test_env.h: a harness for the SMTP engine: one event loop, a fake
 * server struct (no listener, no directory, no store) and a fake policy,
 * and sessions on socketpairs driven by scripted client bytes. White-box:
 * it includes node/smtp/smtp_int.h. */
#ifndef ROOST_TESTS_UNIT_NODE_SMTP_TEST_ENV_H
#define ROOST_TESTS_UNIT_NODE_SMTP_TEST_ENV_H

#include <stdbool.h>

#include "lib/rs_buf.h"
#include "node/smtp/smtp_int.h"

struct t_env {
	struct event_base   *base;
	struct smtp_server   srv;
	bool                 async;      /* on_data_end completes later */
	unsigned             delay_ms;   /* ... after this long */
	struct rs_buf        stored;     /* the last message delivered */
	unsigned             ndelivered;
	unsigned             resets;     /* on_reset calls */
	struct smtp_session *pending;    /* async on_data_end in flight */
	struct event        *complete;   /* completes it */
	unsigned             done_calls; /* shutdown done() */
};

/* A client: its end of the socketpair and what it has received. */
struct t_client {
	struct t_env  *env;
	int            fd;
	struct rs_buf  got;
	bool           eof;
};

/* Fresh env with test limits: max_message 10240, timeout 5 s, the rest
 * at their defaults. Fake policy: RCPT to "unknown@..." is refused with
 * 550 5.1.1, to "*@relay.test" with 554 5.7.1, others accepted;
 * on_data_end keeps a copy of the message. */
void t_env_init(struct t_env *e);
/* Closes every session, runs the loop dry, frees. */
void t_env_free(struct t_env *e);
/* A shutdown completion that counts its calls in done_calls (arg: e). */
void t_env_done(void *arg);

/* Connects a client (a session on the server side). */
void t_connect(struct t_env *e, struct t_client *c);
void t_client_close(struct t_client *c);
/* Writes all of p (running the loop while the socket is full). */
void t_send(struct t_client *c, const void *p, size_t n);
void t_sends(struct t_client *c, const char *s);
/* Runs the loop for about ms milliseconds, reading what arrives. */
void t_pump(struct t_client *c, unsigned ms);
/* Waits (up to 5 s) for want and consumes it; false, with a test
 * failure naming what came instead, if something else arrived. */
bool t_expect(struct t_client *c, const char *want, int line);
/* Waits for one line starting with prefix and consumes it. */
bool t_expect_prefix(struct t_client *c, const char *prefix, int line);
/* Waits until the server closed the connection. */
bool t_expect_eof(struct t_client *c, int line);
/* The newest session (the one t_connect made last). */
struct smtp_session *t_session(struct t_env *e);

#define T_EHLO_REPLY \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240\r\n250-8BITMIME\r\n" \
	"250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n"

#define T_EXPECT(c, s) TEST_ASSERT(t_expect((c), (s), __LINE__))
#define T_EXPECT_PREFIX(c, s) TEST_ASSERT(t_expect_prefix((c), (s), __LINE__))
#define T_EXPECT_EOF(c) TEST_ASSERT(t_expect_eof((c), __LINE__))

#endif
