/* admin_api.h: the admin HTTP/JSON API (see node/admin/API.md), served by
 * node/http under /api/. Requests are authenticated by a bearer token.
 * Loop thread only. */
#ifndef ROOST_NODE_ADMIN_ADMIN_API_H
#define ROOST_NODE_ADMIN_ADMIN_API_H

#include <stdbool.h>

#include "lib/rs_err.h"

struct admin;
struct node_ctx;
struct worker_pool;
struct evhttp_request;
struct json_t;

/* Adds the node's own fields to a status object (sessions per protocol). */
typedef void admin_status_fn(void *arg, struct json_t *status);

/* token is copied. Never returns NULL. */
struct admin *admin_new(struct node_ctx *n, struct worker_pool *wp,
                        const char *token, admin_status_fn *status,
                        void *status_arg);
/* Frees the API; requests still in flight are answered 503 or dropped. */
void admin_free(struct admin **pp);
/* Handles one request whose path starts with "/api/". */
void admin_handle(struct admin *adm, struct evhttp_request *req,
                  const char *path, bool serving);

/* In a cluster: requests are authorised by the SHA-256 (hex) of the
 * token that `roostctl cluster init` wrote; the token itself is never
 * kept. Replaces the token given to admin_new. */
void admin_set_token_sha256(struct admin *adm, const char *hex);
/* The SHA-256 of token as 64 hex digits and a NUL. */
void admin_token_sha256(const char *token, char hex[65]);

/* Reads the token from path, or creates it (32 random bytes as hex, mode
 * 0600) if the file does not exist. 0 or -1 with err. */
int admin_token_load(const char *path, char *token, size_t size,
                     struct rs_err *err) RS_MUST_CHECK;

#endif
