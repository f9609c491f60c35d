/* pop3_server.h: the node's POP3 service (RFC 1939, RFC 2449 CAPA and
 * response codes, RFC 5034 AUTH PLAIN) on port base + NODE_PORT_POP3.
 * Serves each account's INBOX as its maildrop, with one POP3 session per
 * maildrop at a time. Loop thread only.
 *
 * Configuration (pop3.* keys, defaults in brackets): pop3.timeout [600s],
 * pop3.max_errors [20], pop3.max_auth_failures [3], pop3.max_connections
 * [10000], pop3.max_connections_per_ip [100]. */
#ifndef ROOST_NODE_POP3_SERVER_H
#define ROOST_NODE_POP3_SERVER_H

#include <stdint.h>

#include "lib/rs_err.h"

struct node_ctx;
struct pop3_server;

/* Reads pop3.* config keys from n->cfg (borrowed for the server's life);
 * listens on n->bind : n->port_base + NODE_PORT_POP3. 0, or -1 with err
 * (bad configuration, cannot listen) and *r untouched. */
int pop3_server_new(struct node_ctx *n, struct pop3_server **r,
                    struct rs_err *err) RS_MUST_CHECK;

/* Graceful stop: stops accepting; sessions not in the middle of QUIT's
 * update are sent "-ERR [SYS/TEMP] Server shutting down" and closed with
 * no deletion applied (RFC 1939: only QUIT enters UPDATE); a session whose
 * QUIT expunge is in flight finishes it. done(arg) runs once, later (never
 * from inside this call), when no session is left or grace_ms passed. */
void pop3_server_shutdown(struct pop3_server *s, unsigned grace_ms,
                          void (*done)(void *arg), void *arg);

/* Closes every session at once and frees the server; NULL-safe. Async
 * completions still pending (auth, store) may run afterwards: they find
 * their session closed and only free it. */
void pop3_server_free(struct pop3_server **pp);

/* Sessions open now (for the status API). */
unsigned pop3_server_sessions(const struct pop3_server *s);

/* This node stopped serving partition part (a cluster's failover or
 * move): the sessions logged in to its accounts here end, telling the
 * client to come back (it then reaches the new primary). */
void pop3_server_partition_lost(struct pop3_server *s, uint32_t part);

#endif
