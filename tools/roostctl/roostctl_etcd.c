/* roostctl_etcd.c: the one thing roostctl asks etcd directly: creating a
 * cluster's configuration key if it does not exist yet (cluster init,
 * before any node runs). One blocking transaction over etcd's v3 JSON
 * gateway, trying each endpoint in turn. */
#include "tools/roostctl/roostctl_etcd.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_base64.h"
#include "lib/rs_buf.h"
#include "lib/rs_mem.h"

#define ROOSTCTL_ETCD_REPLY_MAX ((size_t)1 << 20)

static size_t
roostctl_etcd_on_data(char *p, size_t size, size_t n, void *arg)
{
	struct rs_buf *b = arg;

	if (rs_buf_append(b, p, size * n) != 0)
		return 0;                /* too big: curl fails the transfer */
	return size * n;
}

static char *
roostctl_etcd_b64(const char *s, size_t n)
{
	char *out = rs_xmalloc(rs_base64_encoded_size(n));

	rs_base64_encode((const uint8_t *)s, n, out);
	return out;
}

/* The txn's body: if key was never created, put value. */
static char *
roostctl_etcd_body(const char *key, const char *value)
{
	char *k = roostctl_etcd_b64(key, strlen(key));
	char *v = roostctl_etcd_b64(value, strlen(value));
	json_t *o = json_pack("{s:[{s:s,s:s,s:s,s:s}],s:[{s:{s:s,s:s}}]}",
	    "compare", "key", k, "target", "CREATE", "result", "EQUAL",
	    "create_revision", "0",
	    "success", "requestPut", "key", k, "value", v);
	char *text = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	free(k);
	free(v);
	return text;
}

/* One attempt at url: 0 created, RS_ECONFLICT exists, -1 with err. */
static int
roostctl_etcd_try(const char *url, const char *body, struct rs_err *err)
{
	CURL *c = curl_easy_init();
	struct rs_buf reply;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *full = rs_xasprintf("%s/v3/kv/txn", url);
	long status = 0;
	json_t *o = NULL;
	int rc = -1;

	rs_buf_init(&reply, ROOSTCTL_ETCD_REPLY_MAX);
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, roostctl_etcd_on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	if (curl_easy_perform(c) != CURLE_OK) {
		rs_err_set(err, RS_EUNAVAIL, "etcd at %s: %s", url, errbuf);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	o = json_loadb((const char *)reply.data, reply.len, 0, NULL);
	if (status != 200 || !json_is_object(o)) {
		rs_err_set(err, RS_EIO, "etcd at %s answered HTTP %ld: %.200s",
		           url, status, reply.len ? (const char *)reply.data : "");
		goto out;
	}
	rc = json_is_true(json_object_get(o, "succeeded")) ? 0 : RS_ECONFLICT;
out:
	json_decref(o);
	rs_buf_free(&reply);
	free(full);
	curl_easy_cleanup(c);
	return rc;
}

int
roostctl_etcd_create(const char *endpoints, const char *key,
                     const char *value, struct rs_err *err)
{
	char *list = rs_xstrdup(endpoints), *save = NULL, *url;
	char *body = roostctl_etcd_body(key, value);
	int rc = rs_err_set(err, RS_EINVAL, "--etcd: no URL given");

	for (url = strtok_r(list, ",", &save); url != NULL;
	     url = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(url);

		while (n > 0 && url[n - 1] == '/')
			url[--n] = '\0';
		if (strncmp(url, "http://", 7) != 0 &&
		    strncmp(url, "https://", 8) != 0) {
			rc = rs_err_set(err, RS_EINVAL, "--etcd: %s is not an "
			                "http:// or https:// URL", url);
			break;
		}
		rc = roostctl_etcd_try(url, body, err);
		if (rc == 0 || rc == RS_ECONFLICT)
			break;
	}
	free(body);
	free(list);
	return rc;
}
