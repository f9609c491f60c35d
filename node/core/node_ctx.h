/* node_ctx.h: what a node's components share. Built by node/core/node.c at
 * start-up; protocol servers borrow it for their whole life. Loop thread
 * only unless a field says otherwise. */
#ifndef ROOST_NODE_CORE_NODE_CTX_H
#define ROOST_NODE_CORE_NODE_CTX_H

#include <event2/event.h>
#include <stdbool.h>

#include "lib/rs_config.h"
#include "lib/rs_exec.h"

struct store;
struct dir;
struct auth;
struct notify;
struct cluster;
struct deliver;
struct repl;
struct rpc;
struct cidr_list;

struct node_ctx {
	struct event_base      *base;      /* the node's event loop */
	struct rs_exec         *exec;      /* posts onto base; any thread */
	struct store           *store;
	struct dir             *dir;
	struct auth            *auth;
	struct notify          *notify;    /* store changes -> subscribers */
	struct cluster         *cluster;   /* NULL: standalone */
	struct rpc             *rpc;       /* peer RPC; NULL: standalone */
	struct deliver         *deliver;   /* copies to their primaries */
	struct repl            *repl;      /* replication; NULL: standalone */
	const char             *node_id;   /* this node (cluster or host name) */
	const struct rs_config *cfg;       /* merged file + --set + flags */
	const char             *hostname;  /* for banners and Received: */
	const char             *bind;      /* numeric listen address */
	unsigned                port_base; /* see the port convention */
	bool                    plaintext_auth_any; /* allow non-loopback */
	/* proxy_protocol_from: peers whose connections to SMTP, POP3 and
	 * IMAP begin with a PROXY header (see proto_server.h); NULL:
	 * nobody. */
	const struct cidr_list *proxy_from;
	bool                    stopping;  /* SIGTERM received */
};

/* The port convention (DEVELOPERS.md): service port = base + offset. */
enum node_port {
	NODE_PORT_POP3 = 10,
	NODE_PORT_SMTP = 25,
	NODE_PORT_IMAP = 43,
	NODE_PORT_SMTPS = 65,
	NODE_PORT_HTTP = 80,
	NODE_PORT_SUBMISSION = 87,
	NODE_PORT_IMAPS = 93,
	NODE_PORT_POP3S = 95,
	NODE_PORT_PEER = 99,
};

#endif
