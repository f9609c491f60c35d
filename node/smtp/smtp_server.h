/* smtp_server.h: the node's SMTP intake (RFC 5321, with PIPELINING, SIZE,
 * 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and CHUNKING): the listener on
 * port_base + NODE_PORT_SMTP, admission control, and graceful stop.
 * Messages for local recipients are stored through storage/store.h and
 * answered 250 only once durable. No AUTH or STARTTLS yet. Loop thread
 * only.
 *
 * Settings (node config, all optional):
 *   smtp.max_line                command line octets, CRLF included (2048)
 *   smtp.max_message_size        octets of a message (50M)
 *   smtp.max_recipients          RCPTs per transaction (1000)
 *   smtp.max_errors              error replies before 421 (10)
 *   smtp.max_junk_commands       NOOP/RSET/VRFY/HELP/EXPN before 421 (100)
 *   smtp.timeout                 idle or stalled DATA (300s)
 *   smtp.max_connections         sessions in all (10000; 0 = no cap)
 *   smtp.max_connections_per_ip  sessions from one address (100; 0 = no
 *                                cap) */
#ifndef ROOST_NODE_SMTP_SERVER_H
#define ROOST_NODE_SMTP_SERVER_H

#include "lib/rs_err.h"

struct node_ctx;
struct smtp_server;

/* Reads its smtp.* config keys from n->cfg, listens on
 * n->bind : n->port_base + NODE_PORT_SMTP. n is borrowed for the
 * server's life. 0, or -1 with err (bad setting, cannot listen). */
int smtp_server_new(struct node_ctx *n, struct smtp_server **r,
                    struct rs_err *err) RS_MUST_CHECK;
/* Graceful stop: stop accepting; idle sessions (no transaction in
 * progress) get "421 4.3.2 <host> Service shutting down" and close;
 * sessions in the middle of a transaction (receiving DATA/BDAT or waiting
 * for the store) finish it and get their reply, then get 421 and close;
 * done(arg) once no session is left, or when grace_ms passes (then the
 * remaining ones are closed). */
void smtp_server_shutdown(struct smtp_server *s, unsigned grace_ms,
                          void (*done)(void *arg), void *arg);
/* Closes every session and the listener; NULL-safe, sets *pp to NULL.
 * Sessions waiting for the store are freed when their completion runs. */
void smtp_server_free(struct smtp_server **pp);
/* Sessions currently open. */
unsigned smtp_server_sessions(const struct smtp_server *s);

#endif
