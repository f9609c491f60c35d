/* http_server.c: evhttp setup, limits and the top-level routing.
 * Nothing here uses the client's address (the admin API authenticates by
 * token and logs no peer), so the X-Forwarded-For that HAProxy adds
 * (deploy/haproxy.cfg) is ignored. XXX(http): whatever starts using it
 * (webmail login throttling) must honour X-Forwarded-For only from
 * node_ctx.proxy_from, and take its last entry. */
#include "node/http/http_server.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/admin/admin_api.h"
#include "node/core/node_ctx.h"
#include "storage/store.h"

struct http_server {
	struct node_ctx *node;
	struct evhttp   *http;      /* owns */
	struct admin    *admin;     /* borrowed */
	bool             serving;
};

static void
http_reply_text(struct evhttp_request *req, int code, const char *reason,
                const char *text)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add(b, text, strlen(text));
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* 200 once serving, unless the store failed: a node that can take no
 * write is pulled out of a load balancer until it restarts. A store
 * low on space still serves reads and deletes, so it stays 200 and
 * says so. */
static void
http_healthz(struct http_server *h, struct evhttp_request *req)
{
	struct store_health sh = { .state = STORE_STATE_OK };
	char text[STORE_REASON_MAX + 64];

	if (!h->serving) {
		http_reply_text(req, 503, "Service Unavailable",
		                "not serving\n");
		return;
	}
	if (h->node->store != NULL)
		store_health_get(h->node->store, &sh);
	if (sh.state == STORE_STATE_OK) {
		http_reply_text(req, 200, "OK", "ok\n");
		return;
	}
	snprintf(text, sizeof(text), "%s store %s: %s\n",
	         sh.state == STORE_STATE_FAILED ? "not serving:" : "ok:",
	         store_state_name(sh.state), sh.reason);
	if (sh.state == STORE_STATE_FAILED)
		http_reply_text(req, 503, "Service Unavailable", text);
	else
		http_reply_text(req, 200, "OK", text);
}

static void
http_on_request(struct evhttp_request *req, void *arg)
{
	struct http_server *h = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	if (path == NULL)
		path = "/";
	if (strcmp(path, "/healthz") == 0) {
		http_healthz(h, req);
		return;
	}
	if (strncmp(path, "/api/", 5) == 0 && h->admin != NULL) {
		admin_handle(h->admin, req, path, h->serving);
		return;
	}
	http_reply_text(req, 404, "Not Found", "not found\n");
}

int
http_server_new(struct node_ctx *n, struct admin *adm, struct http_server **r,
                struct rs_err *err)
{
	struct http_server *h = rs_xcalloc(1, sizeof(*h));
	unsigned port = n->port_base + NODE_PORT_HTTP;

	h->node = n;
	h->admin = adm;
	h->http = evhttp_new(n->base);
	if (h->http == NULL) {
		free(h);
		return rs_err_set(err, RS_EIO, "evhttp_new failed");
	}
	evhttp_set_max_body_size(h->http, HTTP_BODY_MAX);
	evhttp_set_max_headers_size(h->http, 64 * 1024);
	evhttp_set_timeout(h->http, 60);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	                           EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                           EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(h->http, http_on_request, h);
	if (evhttp_bind_socket(h->http, n->bind, (uint16_t)port) != 0) {
		evhttp_free(h->http);
		free(h);
		return rs_err_set(err, RS_EIO, "listen %s:%u failed", n->bind,
		                  port);
	}
	rs_log(RS_LOG_INFO, "http.listen", "addr=%s:%u", n->bind, port);
	*r = h;
	return 0;
}

void
http_server_set_serving(struct http_server *h, bool serving)
{
	h->serving = serving;
}

void
http_server_free(struct http_server **pp)
{
	struct http_server *h = *pp;

	if (h == NULL)
		return;
	evhttp_free(h->http);
	free(h);
	*pp = NULL;
}
