/* roostctl_http.h: requests to a node's admin API (node/admin/API.md) over
 * libcurl: the bearer token, timeouts, JSON in and out, and errors worded
 * for the person at the terminal. It knows no resource: paths and bodies
 * come from the command files. */
#ifndef ROOST_TOOLS_ROOSTCTL_HTTP_H
#define ROOST_TOOLS_ROOSTCTL_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "lib/rs_err.h"

#define ROOSTCTL_HTTP_CONNECT_S  5     /* connect timeout, seconds */
#define ROOSTCTL_HTTP_TOTAL_S    60    /* whole-request timeout, seconds */
#define ROOSTCTL_HTTP_MAX_REPLY  ((size_t)64 * 1024 * 1024)
#define ROOSTCTL_HTTP_MAX_TOKEN  4096

struct roostctl_http;                  /* opaque */

/* Reads the admin token (the first line of token_file, trimmed) and makes
 * a handle for node (HOST:PORT, already checked by roostctl_args_node).
 * 0 with *h_r (returns owned), or -1 with err->msg a whole sentence such
 * as "cannot read token file F: No such file or directory". curl_global
 * initialisation is the caller's. */
int roostctl_http_new(const char *node, const char *token_file,
                      struct roostctl_http **h_r, struct rs_err *err)
	RS_MUST_CHECK;
/* Frees *hp, wiping the token; sets *hp to NULL; NULL-safe. */
void roostctl_http_free(struct roostctl_http **hp);

/* Percent-encodes one path segment or query value ("a@b" -> "a%40b").
 * Returns owned. */
char *roostctl_http_escape(struct roostctl_http *h, const char *s);

/* Sends method ("GET", "POST", "PUT", "DELETE") to path (below /api/v1,
 * starting with '/', already escaped) with body as JSON when not NULL
 * (borrowed; its text is wiped after sending, as it may hold a password).
 * On a 2xx answer: 0, *reply_r = the parsed JSON (returns owned; NULL for
 * an empty body), *status_r = the HTTP status (status_r may be NULL).
 * Otherwise -1 and err->msg is the whole error line without "roostctl: ",
 * what (say "create user a@b") leading unless the failure concerns the
 * node as a whole (unreachable, token refused). */
int roostctl_http_request(struct roostctl_http *h, const char *what,
                          const char *method, const char *path,
                          const json_t *body, json_t **reply_r,
                          long *status_r, struct rs_err *err) RS_MUST_CHECK;

#endif
