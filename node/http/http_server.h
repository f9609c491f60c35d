/* http_server.h: the node's HTTP listener (port B+80) on libevent's evhttp:
 * /healthz, and the admin API under /api/ (node/admin). JMAP, the webmail
 * and DAV are added here later. Loop thread only. */
#ifndef ROOST_NODE_HTTP_HTTP_SERVER_H
#define ROOST_NODE_HTTP_HTTP_SERVER_H

#include <stdbool.h>

#include "lib/rs_err.h"

struct http_server;
struct node_ctx;
struct admin;

#define HTTP_BODY_MAX (1024 * 1024)

int http_server_new(struct node_ctx *n, struct admin *adm,
                    struct http_server **r, struct rs_err *err) RS_MUST_CHECK;
/* /healthz answers 200 only while serving is true. */
void http_server_set_serving(struct http_server *h, bool serving);
void http_server_free(struct http_server **pp);

#endif
