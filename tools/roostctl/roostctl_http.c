/* roostctl_http.c: one libcurl easy handle per run, the admin token in an
 * Authorization header, and the mapping of curl failures and error
 * answers to one-line messages. Never prints: callers decide. */
#include "tools/roostctl/roostctl_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_args.h"

struct roostctl_http {
	CURL              *curl;       /* owns */
	char              *node;       /* owns: HOST:PORT, for messages */
	char              *base;       /* owns: "http://HOST:PORT/api/v1" */
	struct curl_slist *headers;    /* owns; one holds the token */
	struct rs_buf      reply;      /* owns: the answer being received */
	char               errbuf[CURL_ERROR_SIZE];
};

/* Returns the first line of path, trimmed (returns owned), or NULL with
 * err set. */
static char *
roostctl_http_token(const char *path, struct rs_err *err)
{
	char buf[ROOSTCTL_HTTP_MAX_TOKEN + 1], *token;
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		rs_err_set(err, RS_EIO, "cannot read token file %s: %s", path,
		           strerror(errno));
		return NULL;
	}
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			explicit_bzero(buf, sizeof(buf));
			rs_err_set(err, RS_EIO, "cannot read token file %s: %s",
			           path, strerror(e));
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	len = roostctl_args_first_line(buf, len);
	for (size_t i = 0; i < len; i++) {
		/* The token goes into a header: no control characters. */
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			len = 0;
	}
	token = len > 0 ? rs_xstrndup(buf, len) : NULL;
	explicit_bzero(buf, sizeof(buf));
	if (token == NULL)
		rs_err_set(err, RS_EINVAL, "token file %s holds no token",
		           path);
	return token;
}

static size_t
roostctl_http_on_data(char *p, size_t size, size_t n, void *arg)
{
	struct roostctl_http *h = arg;

	/* size is always 1. A short count makes curl fail with
	 * CURLE_WRITE_ERROR. */
	if (rs_buf_append(&h->reply, p, size * n) != 0)
		return 0;
	return size * n;
}

int
roostctl_http_new(const char *node, const char *token_file,
                  struct roostctl_http **h_r, struct rs_err *err)
{
	struct roostctl_http *h;
	char *token = roostctl_http_token(token_file, err), *auth;

	if (token == NULL)
		return -1;
	h = rs_xcalloc(1, sizeof(*h));
	h->node = rs_xstrdup(node);
	h->base = rs_xasprintf("http://%s/api/v1", node);
	rs_buf_init(&h->reply, ROOSTCTL_HTTP_MAX_REPLY);
	auth = rs_xasprintf("Authorization: Bearer %s", token);
	h->headers = curl_slist_append(NULL, auth);
	explicit_bzero(auth, strlen(auth));
	explicit_bzero(token, strlen(token));
	free(auth);
	free(token);
	h->headers = curl_slist_append(h->headers,
	                               "Content-Type: application/json");
	h->headers = curl_slist_append(h->headers, "Accept: application/json");
	h->headers = curl_slist_append(h->headers, "Expect:");
	h->curl = curl_easy_init();
	if (h->curl == NULL || h->headers == NULL) {
		roostctl_http_free(&h);
		return rs_err_set(err, RS_EIO, "cannot set up libcurl");
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT,
	                 (long)ROOSTCTL_HTTP_CONNECT_S);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, (long)ROOSTCTL_HTTP_TOTAL_S);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	/* The node is addressed directly: an http_proxy in the environment
	 * must not carry the admin token elsewhere. */
	curl_easy_setopt(h->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, roostctl_http_on_data);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "roostctl");
	*h_r = h;
	return 0;
}

void
roostctl_http_free(struct roostctl_http **hp)
{
	struct roostctl_http *h = *hp;

	if (h == NULL)
		return;
	*hp = NULL;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	/* curl_slist_free_all frees through the wiping allocator
	 * (roostctl_wipe.c), which clears the Authorization line. */
	curl_slist_free_all(h->headers);
	rs_buf_free(&h->reply);
	free(h->node);
	free(h->base);
	free(h);
}

char *
roostctl_http_escape(struct roostctl_http *h, const char *s)
{
	char *e = curl_easy_escape(h->curl, s, 0);
	char *out;

	if (e == NULL)
		abort();                      /* only fails out of memory */
	out = rs_xstrdup(e);
	curl_free(e);
	return out;
}

static int
roostctl_http_curl_error(struct roostctl_http *h, const char *what,
                         CURLcode rc, struct rs_err *err)
{
	const char *why = h->errbuf[0] != '\0' ? h->errbuf
	                                       : curl_easy_strerror(rc);
	long oserr = 0;
	curl_off_t connected = 0;

	curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(h->curl, CURLINFO_CONNECT_TIME_T, &connected);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return rs_err_set(err, RS_EIO, "cannot reach node %s: %s",
		                  h->node,
		                  oserr != 0 ? strerror((int)oserr) : why);
	case CURLE_COULDNT_RESOLVE_HOST:
		return rs_err_set(err, RS_EIO, "cannot reach node %s: unknown "
		                  "host", h->node);
	case CURLE_OPERATION_TIMEDOUT:
		if (connected == 0)
			return rs_err_set(err, RS_ETIMEDOUT, "cannot reach "
			                  "node %s: no connection within %d s",
			                  h->node, ROOSTCTL_HTTP_CONNECT_S);
		return rs_err_set(err, RS_ETIMEDOUT, "%s: node %s did not "
		                  "answer within %d s", what, h->node,
		                  ROOSTCTL_HTTP_TOTAL_S);
	case CURLE_WRITE_ERROR:
		return rs_err_set(err, RS_ETOOBIG, "%s: the answer is larger "
		                  "than %zu MiB", what,
		                  ROOSTCTL_HTTP_MAX_REPLY >> 20);
	default:
		return rs_err_set(err, RS_EIO, "%s: node %s: %s", what, h->node,
		                  why);
	}
}

/* The error of a non-2xx answer: its "error" member, else the start of
 * its text, else the status. Control characters become spaces so that
 * the message stays one line. */
static int
roostctl_http_status_error(struct roostctl_http *h, const char *what,
                           long status, const json_t *reply,
                           struct rs_err *err)
{
	const char *msg = json_string_value(json_object_get(reply, "error"));
	int code = status == 400 ? RS_EINVAL : status == 404 ? RS_ENOTFOUND :
	           status == 409 ? RS_ECONFLICT : status == 413 ? RS_ETOOBIG :
	           status == 503 ? RS_EUNAVAIL : RS_EIO;
	char *p;

	if (status == 401)
		return rs_err_set(err, RS_EPERM, "the node refused the admin "
		                  "token (check --token-file)");
	if (msg != NULL && msg[0] != '\0')
		rs_err_set(err, code, "%s: %s", what, msg);
	else if (reply == NULL && h->reply.len > 0 && h->reply.len < 200)
		rs_err_set(err, code, "%s: HTTP %ld: %s", what, status,
		           (const char *)h->reply.data);
	else
		rs_err_set(err, code, "%s: HTTP %ld", what, status);
	for (p = err->msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	/* Trailing spaces from a text body's newline. */
	while (p > err->msg && p[-1] == ' ')
		*--p = '\0';
	return -1;
}

/* Sets the method and body of the next transfer. */
static void
roostctl_http_method(struct roostctl_http *h, const char *method,
                     const char *text)
{
	bool has_body = text != NULL;

	if (has_body) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE,
		                 (long)strlen(text));
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
	/* CUSTOMREQUEST only renames the verb; POSTFIELDS above decides
	 * whether a body is sent. */
	curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST,
	                 strcmp(method, "GET") == 0 ||
	                 strcmp(method, "POST") == 0 ? NULL : method);
}

int
roostctl_http_request(struct roostctl_http *h, const char *what,
                      const char *method, const char *path,
                      const json_t *body, json_t **reply_r, long *status_r,
                      struct rs_err *err)
{
	char *url = rs_xasprintf("%s%s", h->base, path);
	char *text = NULL;
	json_t *reply = NULL;
	json_error_t jerr;
	long status = 0;
	CURLcode rc;

	*reply_r = NULL;
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL)
			abort();                  /* only fails out of memory */
	}
	rs_buf_reset(&h->reply);
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	roostctl_http_method(h, method, text);
	rc = curl_easy_perform(h->curl);
	if (text != NULL) {
		/* The body may hold a password. */
		explicit_bzero(text, strlen(text));
		free(text);
	}
	free(url);
	if (rc != CURLE_OK)
		return roostctl_http_curl_error(h, what, rc, err);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (h->reply.len > 0)
		reply = json_loadb((const char *)h->reply.data, h->reply.len, 0,
		                   &jerr);
	if (status < 200 || status > 299) {
		roostctl_http_status_error(h, what, status, reply, err);
		json_decref(reply);
		return -1;
	}
	if (h->reply.len > 0 && reply == NULL)
		return rs_err_set(err, RS_EIO, "%s: the node's answer is not "
		                  "JSON: %s", what, jerr.text);
	*reply_r = reply;
	if (status_r != NULL)
		*status_r = status;
	return 0;
}
