/* admin_api.c: request parsing, authentication, routing and replies of the
 * admin API. The resource handlers are in admin_users.c, admin_dir.c,
 * admin_status.c, admin_cluster.c and admin_digest.c. */
#include "node/admin/admin_api.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_rand.h"
#include "node/admin/admin_int.h"
#include "node/core/node_ctx.h"
#include "node/core/worker.h"

struct admin *
admin_new(struct node_ctx *n, struct worker_pool *wp, const char *token,
          admin_status_fn *status, void *status_arg)
{
	struct admin *adm = rs_xcalloc(1, sizeof(*adm));
	struct rs_err err;
	uint64_t ln;

	adm->node = n;
	adm->wp = wp;
	snprintf(adm->token, sizeof(adm->token), "%s", token);
	adm->status = status;
	adm->status_arg = status_arg;
	adm->started = (int64_t)time(NULL);
	if (rs_config_get_u64(n->cfg, "password_scrypt_ln", PASSWD_LN_DEFAULT,
	                      10, 20, &ln, &err) != 0)
		ln = PASSWD_LN_DEFAULT;
	adm->scrypt_ln = (unsigned)ln;
	return adm;
}

void
admin_free(struct admin **pp)
{
	struct admin *adm = *pp;

	if (adm == NULL)
		return;
	*pp = NULL;
	OPENSSL_cleanse(adm->token, sizeof(adm->token));
	if (adm->inflight > 0) {
		adm->freeing = true;        /* the last request frees it */
		return;
	}
	free(adm);
}

static void
admin_req_free(struct admin_req *r)
{
	struct admin *adm = r->adm;

	if (r->req != NULL)
		evhttp_connection_set_closecb(
			evhttp_request_get_connection(r->req), NULL, NULL);
	for (size_t i = 0; i < r->nseg; i++)
		free(r->seg[i]);
	json_decref(r->body);
	json_decref(r->out);
	free(r->name);
	if (r->password != NULL) {
		OPENSSL_cleanse(r->password, r->passlen);
		free(r->password);
	}
	OPENSSL_cleanse(r->hash, sizeof(r->hash));
	free(r);
	if (--adm->inflight == 0 && adm->freeing)
		free(adm);
}

static void
admin_on_close(struct evhttp_connection *conn, void *arg)
{
	struct admin_req *r = arg;

	(void)conn;
	r->req = NULL;                   /* libevent frees the request */
}

static void
admin_send(struct admin_req *r, int code, const char *reason,
           const char *ctype, const char *body)
{
	struct evbuffer *b;

	if (r->req == NULL || r->adm->freeing) {
		admin_req_free(r);
		return;
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(r->req),
	                              NULL, NULL);
	b = evbuffer_new();
	if (ctype != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		                  "Content-Type", ctype);
	if (body != NULL)
		evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(r->req, code, reason, b);
	evbuffer_free(b);
	r->req = NULL;
	admin_req_free(r);
}

static const char *
admin_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void
admin__reply_json(struct admin_req *r, int code, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	char *line = rs_xasprintf("%s\n", text != NULL ? text : "{}");

	admin_send(r, code, admin_reason(code), "application/json", line);
	free(line);
	free(text);
	json_decref(j);
}

void
admin__reply_error(struct admin_req *r, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	admin__reply_json(r, code, json_pack("{s:s}", "error", msg));
}

void
admin__reply_rc(struct admin_req *r, int rc, const struct rs_err *err)
{
	int code;

	switch (rc) {
	case RS_EINVAL: code = 400; break;
	case RS_ENOTFOUND: code = 404; break;
	case RS_ECONFLICT: code = 409; break;
	case RS_ETOOBIG: code = 413; break;
	case RS_EUNAVAIL: code = 503; break;
	default: code = 500; break;
	}
	admin__reply_error(r, code, "%s", err != NULL && err->msg[0] != '\0'
	                                      ? err->msg : rs_err_name(rc));
}

void
admin__reply_empty(struct admin_req *r, int code)
{
	admin_send(r, code, admin_reason(code), NULL, NULL);
}

void
admin__lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

const char *
admin__str(const struct admin_req *r, const char *key)
{
	return json_string_value(json_object_get(r->body, key));
}

int
admin__size(const struct admin_req *r, const char *key, uint64_t *v_r)
{
	json_t *v = json_object_get(r->body, key);

	if (v == NULL || json_is_null(v)) {
		*v_r = 0;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*v_r = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		return rs_config_parse_size(json_string_value(v), v_r);
	return RS_EINVAL;
}

int
admin__strings(const struct admin_req *r, const char *key,
               const char ***v_r, size_t *n_r)
{
	json_t *arr = json_object_get(r->body, key), *v;
	const char **out;
	size_t i;

	if (!json_is_array(arr))
		return RS_EINVAL;
	out = rs_xcalloc(json_array_size(arr) + 1, sizeof(*out));
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			free(out);
			return RS_EINVAL;
		}
		out[i] = json_string_value(v);
	}
	*v_r = out;
	*n_r = json_array_size(arr);
	return 0;
}

/* ---- password hashing on a worker ---- */

struct admin_hash_job {
	struct admin_req *r;
	void (*next)(struct admin_req *);
};

static void
admin_hash_work(void *arg)
{
	struct admin_hash_job *j = arg;
	struct admin_req *r = j->r;

	if (passwd_hash(r->password, r->passlen, r->adm->scrypt_ln, r->hash,
	                sizeof(r->hash), NULL) != 0)
		r->hash[0] = '\0';
	OPENSSL_cleanse(r->password, r->passlen);
}

static void
admin_hash_done(void *arg)
{
	struct admin_hash_job *j = arg;

	j->next(j->r);
	free(j);
}

void
admin__hash_password(struct admin_req *r, void (*next)(struct admin_req *))
{
	struct admin_hash_job *j = rs_xcalloc(1, sizeof(*j));

	j->r = r;
	j->next = next;
	worker_pool_run(r->adm->wp, admin_hash_work, admin_hash_done, j,
	                r->adm->node->exec);
}

/* ---- request entry ---- */

/* Splits "/api/v1/a/b/c" into decoded segments after "v1". */
static int
admin_split(struct admin_req *r, const char *path)
{
	const char *p = path + strlen("/api/");

	if (strncmp(p, "v1/", 3) != 0)
		return -1;
	p += 3;
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		char *raw;

		if (r->nseg == ADMIN_SEG_MAX)
			return -1;
		raw = rs_xstrndup(p, n);
		r->seg[r->nseg] = evhttp_uridecode(raw, 0, NULL);
		free(raw);
		if (r->seg[r->nseg] == NULL)
			return -1;
		r->nseg++;
		p += n;
		if (*p == '/')
			p++;
	}
	return r->nseg > 0 ? 0 : -1;
}

static bool
admin_authorized(const struct admin *adm, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
	                                   "Authorization");
	size_t tlen = strlen(adm->token);

	if (h == NULL || strncmp(h, "Bearer ", 7) != 0 || tlen == 0)
		return false;
	h += 7;
	if (adm->token_is_hash) {
		/* A cluster keeps only the token's hash (in etcd): compare
		 * hashes, still in constant time. */
		char hex[65];

		admin_token_sha256(h, hex);
		return strlen(hex) == tlen &&
		       CRYPTO_memcmp(hex, adm->token, tlen) == 0;
	}
	return strlen(h) == tlen && CRYPTO_memcmp(h, adm->token, tlen) == 0;
}

static int
admin_parse_body(struct admin_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;

	if (len == 0)
		return 0;
	r->body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0,
	                     &jerr);
	if (!json_is_object(r->body)) {
		admin__reply_error(r, 400, "body is not a JSON object: %s",
		                   jerr.text);
		return -1;
	}
	return 0;
}

void
admin_handle(struct admin *adm, struct evhttp_request *req, const char *path,
             bool serving)
{
	struct admin_req *r = rs_xcalloc(1, sizeof(*r));

	r->adm = adm;
	r->req = req;
	r->method = evhttp_request_get_command(req);
	adm->inflight++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	                              admin_on_close, r);
	if (!admin_authorized(adm, req)) {
		admin__reply_error(r, 401, "missing or wrong admin token");
		return;
	}
	if (!serving) {
		admin__reply_error(r, 503, "node is not serving");
		return;
	}
	if (admin_split(r, path) != 0) {
		admin__reply_error(r, 404, "no such resource");
		return;
	}
	if (admin_parse_body(r) != 0)
		return;
	rs_log(RS_LOG_INFO, "admin.request", "method=%d path=%s", (int)r->method,
	       path);
	if (strcmp(r->seg[0], "domains") == 0)
		admin__domains(r);
	else if (strcmp(r->seg[0], "users") == 0)
		admin__users(r);
	else if (strcmp(r->seg[0], "aliases") == 0)
		admin__aliases(r);
	else if (strcmp(r->seg[0], "groups") == 0)
		admin__groups(r);
	else if (strcmp(r->seg[0], "status") == 0 && r->nseg == 1)
		admin__status(r);
	else if (strcmp(r->seg[0], "nodes") == 0)
		admin__nodes(r);
	else if (strcmp(r->seg[0], "partitions") == 0)
		admin__partitions(r);
	else
		admin__reply_error(r, 404, "no such resource");
}

void
admin_set_token_sha256(struct admin *adm, const char *hex)
{
	snprintf(adm->token, sizeof(adm->token), "%s", hex);
	adm->token_is_hash = true;
}

void
admin_token_sha256(const char *token, char hex[65])
{
	unsigned char md[32];

	SHA256((const unsigned char *)token, strlen(token), md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	OPENSSL_cleanse(md, sizeof(md));
}

int
admin_token_load(const char *path, char *token, size_t size,
                 struct rs_err *err)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		char hex[65];

		rs_rand_hex(hex, sizeof(hex));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return rs_err_set(err, RS_EIO, "create %s: %s", path,
			                  strerror(errno));
		if (write(fd, hex, 64) != 64 || write(fd, "\n", 1) != 1 ||
		    fsync(fd) != 0) {
			close(fd);
			return rs_err_set(err, RS_EIO, "write %s: %s", path,
			                  strerror(errno));
		}
		close(fd);
		snprintf(token, size, "%s", hex);
		return 0;
	}
	if (fd < 0)
		return rs_err_set(err, RS_EIO, "open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return rs_err_set(err, RS_EIO, "read %s: empty or unreadable", path);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) < 16)
		return rs_err_set(err, RS_EINVAL, "%s: token shorter than 16 "
		                  "characters", path);
	snprintf(token, size, "%s", buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}
