/* imap_server.h: the node's IMAP service (RFC 9051 IMAP4rev2, and RFC 3501
 * IMAP4rev1 for older clients) on port base + NODE_PORT_IMAP: sessions,
 * authentication, mailbox commands, the selected-mailbox view, IDLE, and
 * the message commands of imap_cmd_msg_table.c. Loop thread only.
 *
 * Configuration (imap.* keys, defaults in brackets): imap.timeout
 * [1800s: RFC 9051 5.4 autologout], imap.max_errors [20],
 * imap.max_auth_failures [3], imap.max_connections [20000],
 * imap.max_connections_per_ip [1000], imap.max_line [64 KiB],
 * imap.max_literal [64 MiB]. */
#ifndef ROOST_NODE_IMAP_SERVER_H
#define ROOST_NODE_IMAP_SERVER_H

#include <stdint.h>

#include "lib/rs_err.h"

struct node_ctx;
struct imap_server;

/* Reads imap.* config keys from n->cfg (borrowed for the server's life);
 * listens on n->bind : n->port_base + NODE_PORT_IMAP. 0, or -1 with err
 * (bad configuration, cannot listen) and *r untouched. */
int imap_server_new(struct node_ctx *n, struct imap_server **r,
                    struct rs_err *err) RS_MUST_CHECK;

/* Graceful stop: stops accepting; idle sessions get "* BYE Server
 * shutting down" and close; a command in flight finishes first. done(arg)
 * runs once, later (never from inside this call), when no session is left
 * or grace_ms passed. */
void imap_server_shutdown(struct imap_server *s, unsigned grace_ms,
                          void (*done)(void *arg), void *arg);

/* Closes every session at once and frees the server; NULL-safe. */
void imap_server_free(struct imap_server **pp);

/* Sessions open now (for the status API). */
unsigned imap_server_sessions(const struct imap_server *s);

/* This node stopped serving partition part (a cluster's failover or
 * move): the sessions logged in to its accounts here end, telling the
 * client to come back (it then reaches the new primary). */
void imap_server_partition_lost(struct imap_server *s, uint32_t part);

#endif
