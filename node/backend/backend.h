/* backend.h: a client session served by the node that holds the
 * account (its back end), when the client reached another node (its
 * front end): the frontend/backend split of Exchange's CAS and of IMAP
 * proxies. The front end authenticates (every node holds the directory)
 * and opens a peer stream to the primary of the account's partition
 * (cluster/rpc.h, proto/session.proto); the back end checks the request
 * and runs the session on the stream as if the client had logged in
 * there. The protocols (node/imap, node/pop3) relay octets between the
 * client and the stream (node/core/bev_pump.h). Loop thread only. */
#ifndef ROOST_NODE_BACKEND_BACKEND_H
#define ROOST_NODE_BACKEND_BACKEND_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/rpc.h"
#include "lib/rs_err.h"
#include "node/core/netaddr.h"
#include "node/dir/dir.h"
#include "storage/store.h"

struct node_ctx;

#define BACKEND_TAG_MAX    64         /* IMAP tags a back end accepts */
#define BACKEND_OPEN_MS    10000      /* the primary must answer by then */

/* What the front end passes on. Strings are borrowed for the call. */
struct backend_login {
	const char       *user;           /* the account's address key */
	struct store_acct acct;
	const char       *client_ip;
	const char       *session_id;     /* the front end's log sid */
	const char       *tag;            /* IMAP: the login's tag; "" */
	const char       *method;         /* "LOGIN", "PLAIN", "USER" */
	bool              plaintext_ok;
};

/* Whether the account is served by another node (a cluster). */
bool backend_remote(const struct node_ctx *n, struct store_acct acct);

/* Opens the stream to the account's primary: 0 (cb runs later, with the
 * stream's bufferevent or an error), or -1 with err (RS_EUNAVAIL: no live
 * primary). node_r (64 octets) names the primary for logs. */
int backend_open(struct node_ctx *n, uint32_t method,
                 const struct backend_login *l, rpc_stream_fn *cb,
                 void *arg, char *node_r, struct rs_err *err) RS_MUST_CHECK;

/* The back end's view of an accepted stream. */
struct backend_session {
	struct dir_account account;       /* from this node's directory */
	char               client_ip[NETADDR_TEXT_MAX];
	char               peer[80];      /* "<client>/via=<node>" for logs */
	char               session_id[32];
	char               tag[BACKEND_TAG_MAX + 1];
	char               method[16];
	bool               plaintext_ok;
};

/* In a stream handler: checks the request (this node serves the
 * partition at the epoch the front end saw; the account exists as
 * sent), then accepts: returns the stream's bufferevent (owned by the
 * caller) with *bs filled, or NULL after refusing (or when the front end
 * went away). call is consumed either way. */
struct bufferevent *backend_accept(struct node_ctx *n, struct rpc_call *call,
                                   const uint8_t *req, size_t len,
                                   struct backend_session *bs);

#endif
