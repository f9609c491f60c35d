/* test_etcd_harness.c: fork/exec of /usr/bin/etcd for the unit tests and
 * blocking requests to it with libcurl's easy interface. The child dies
 * with the test process (PR_SET_PDEATHSIG), so a crashed test leaves no
 * etcd behind. */
#include "tests/unit/cluster/test_etcd_harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/rs_base64.h"
#include "lib/rs_buf.h"
#include "lib/rs_time.h"
#include "tests/unit/test.h"

int
etcd_harness_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void
h_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static size_t
h_write(char *p, size_t size, size_t n, void *arg)
{
	return rs_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

static long
h_post_token(struct etcd_harness *h, const char *path, const char *body,
             const char *token, char **resp_r)
{
	CURL *e = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct rs_buf b;
	char url[256], auth[256];
	long status = 0;

	rs_buf_init(&b, RS_BUF_UNLIMITED);
	snprintf(url, sizeof(url), "%s%s", h->url, path);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: %s", token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, h_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	if (h->tls) {
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca);
		curl_easy_setopt(e, CURLOPT_SSLCERT, h->client_cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, h->client_key);
	}
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	if (resp_r != NULL)
		*resp_r = strdup(b.data != NULL ? (char *)b.data : "");
	rs_buf_free(&b);
	return status;
}

/* The root token when auth is on; owned, or NULL. */
static char *
h_token(struct etcd_harness *h)
{
	char body[128], *resp = NULL, *t, *end;

	if (h->root_pw[0] == '\0')
		return NULL;
	snprintf(body, sizeof(body), "{\"name\":\"root\",\"password\":\"%s\"}",
	         h->root_pw);
	if (h_post_token(h, "/v3/auth/authenticate", body, NULL, &resp) != 200 ||
	    (t = strstr(resp, "\"token\":\"")) == NULL) {
		free(resp);
		return NULL;
	}
	t += 9;
	end = strchr(t, '"');
	if (end != NULL)
		*end = '\0';
	t = strdup(t);
	free(resp);
	return t;
}

long
etcd_harness_post(struct etcd_harness *h, const char *path, const char *body,
                  char **resp_r)
{
	char *token = h_token(h);
	long status = h_post_token(h, path, body, token, resp_r);

	free(token);
	return status;
}

static int64_t
h_revision(const char *resp)
{
	const char *p = resp != NULL ? strstr(resp, "\"revision\":\"") : NULL;

	return p != NULL ? strtoll(p + 12, NULL, 10) : -1;
}

static int64_t
h_key_op(struct etcd_harness *h, const char *path, const char *key,
         const char *value)
{
	char k64[256], v64[256], body[600], *resp = NULL;
	int64_t rev = -1;

	rs_base64_encode((const uint8_t *)key, strlen(key), k64);
	if (value != NULL) {
		rs_base64_encode((const uint8_t *)value, strlen(value), v64);
		snprintf(body, sizeof(body), "{\"key\":\"%s\",\"value\":\"%s\"}",
		         k64, v64);
	} else {
		snprintf(body, sizeof(body), "{\"key\":\"%s\"}", k64);
	}
	if (etcd_harness_post(h, path, body, &resp) == 200)
		rev = h_revision(resp);
	free(resp);
	return rev;
}

int64_t
etcd_harness_put(struct etcd_harness *h, const char *key, const char *value)
{
	return h_key_op(h, "/v3/kv/put", key, value);
}

int64_t
etcd_harness_del(struct etcd_harness *h, const char *key)
{
	return h_key_op(h, "/v3/kv/deleterange", key, NULL);
}

bool
etcd_harness_compact(struct etcd_harness *h, int64_t rev)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"revision\":\"%lld\",\"physical\":true}",
	         (long long)rev);
	return etcd_harness_post(h, "/v3/kv/compaction", body, NULL) == 200;
}

bool
etcd_harness_auth_enable(struct etcd_harness *h, const char *pw)
{
	char body[128];
	bool ok;

	snprintf(body, sizeof(body), "{\"name\":\"root\",\"password\":\"%s\"}",
	         pw);
	ok = etcd_harness_post(h, "/v3/auth/role/add", "{\"name\":\"root\"}",
	                       NULL) == 200 &&
	     etcd_harness_post(h, "/v3/auth/user/add", body, NULL) == 200 &&
	     etcd_harness_post(h, "/v3/auth/user/grant",
	                       "{\"user\":\"root\",\"role\":\"root\"}",
	                       NULL) == 200 &&
	     etcd_harness_post(h, "/v3/auth/enable", "{}", NULL) == 200;
	if (ok)
		snprintf(h->root_pw, sizeof(h->root_pw), "%s", pw);
	return ok;
}

/* ---- the process ---- */

static bool
h_make_cert(struct etcd_harness *h)
{
	char cmd[2048];

	snprintf(h->ca, sizeof(h->ca), "%s/ca.pem", h->dir);
	snprintf(h->cert, sizeof(h->cert), "%s/server.pem", h->dir);
	snprintf(h->key, sizeof(h->key), "%s/server.key", h->dir);
	snprintf(h->client_cert, sizeof(h->client_cert), "%s/client.pem",
	         h->dir);
	snprintf(h->client_key, sizeof(h->client_key), "%s/client.key",
	         h->dir);
	/* A CA, etcd's certificate for 127.0.0.1, and a client one. */
	snprintf(cmd, sizeof(cmd),
	         "(cd %s && E='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	         "-nodes' && "
	         "openssl req -x509 $E -days 2 -subj /CN=roost-test-ca "
	         "-keyout ca.key -out ca.pem && "
	         "openssl req $E -subj /CN=127.0.0.1 -keyout server.key "
	         "-out server.csr && "
	         "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
	         "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
	         "-CAcreateserial -days 2 -extfile ext -out server.pem && "
	         "openssl req $E -subj /O=roost -keyout client.key "
	         "-out client.csr && "
	         "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
	         "-CAcreateserial -days 2 -out client.pem) >/dev/null 2>&1",
	         h->dir);
	return system(cmd) == 0;
}

static void
h_exec(const struct etcd_harness *h)
{
	char data[256], log[256], curl[64], purl[64], ip[96], ttl[32];
	char *argv[24];
	int n = 0, fd;

	snprintf(data, sizeof(data), "%s/data", h->dir);
	snprintf(log, sizeof(log), "%s/etcd.log", h->dir);
	snprintf(curl, sizeof(curl), "%s", h->url);
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", h->peer_port);
	snprintf(ip, sizeof(ip), "t=%s", purl);
	snprintf(ttl, sizeof(ttl), "--auth-token-ttl=%d",
	         h->token_ttl > 0 ? h->token_ttl : 300);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	argv[n++] = ETCD_HARNESS_BIN;
	argv[n++] = "--name=t";
	argv[n++] = "--data-dir";
	argv[n++] = data;
	argv[n++] = "--listen-client-urls";
	argv[n++] = curl;
	argv[n++] = "--advertise-client-urls";
	argv[n++] = curl;
	argv[n++] = "--listen-peer-urls";
	argv[n++] = purl;
	argv[n++] = "--initial-advertise-peer-urls";
	argv[n++] = purl;
	argv[n++] = "--initial-cluster";
	argv[n++] = ip;
	argv[n++] = "--auto-compaction-retention=0";
	argv[n++] = ttl;
	if (h->tls) {
		static char cert[300], key[300], ca[300];

		snprintf(cert, sizeof(cert), "--cert-file=%s", h->cert);
		snprintf(key, sizeof(key), "--key-file=%s", h->key);
		snprintf(ca, sizeof(ca), "--trusted-ca-file=%s", h->ca);
		argv[n++] = cert;
		argv[n++] = key;
		argv[n++] = ca;
		argv[n++] = "--client-cert-auth";
	}
	argv[n] = NULL;
	execv(ETCD_HARNESS_BIN, argv);
	_exit(127);
}

/* Waits until etcd answers a range (or refuses it for want of a token). */
static bool
h_wait_ready(struct etcd_harness *h)
{
	uint64_t end = rs_mono_ms() + 20000;

	while (rs_mono_ms() < end) {
		long st = h_post_token(h, "/v3/kv/range", "{\"key\":\"AA==\"}",
		                       NULL, NULL);
		int wst;

		if (st == 200 || st == 400 || st == 401)
			return true;
		if (waitpid(h->pid, &wst, WNOHANG) == h->pid) {
			h->pid = 0;
			return false;
		}
		h_sleep_ms(50);
	}
	return false;
}

bool
etcd_harness_restart(struct etcd_harness *h)
{
	pid_t pid = fork();

	if (pid < 0) {
		test_fail(__FILE__, __LINE__, "fork failed");
		return false;
	}
	if (pid == 0)
		h_exec(h);
	h->pid = pid;
	if (!h_wait_ready(h)) {
		test_fail(__FILE__, __LINE__, "etcd did not come up; see %s/etcd.log",
		          h->dir);
		etcd_harness_stop(h, true);
		return false;
	}
	return true;
}

bool
etcd_harness_start(struct etcd_harness *h, bool tls, int token_ttl)
{
	memset(h, 0, sizeof(*h));
	if (access(ETCD_HARNESS_BIN, X_OK) != 0) {
		test_fail(__FILE__, __LINE__, "%s is missing: install etcd-server "
		          "(deploy/deps.sh test)", ETCD_HARNESS_BIN);
		return false;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(h->dir, sizeof(h->dir), "%s", test_tmpdir());
	h->client_port = etcd_harness_free_port();
	h->peer_port = etcd_harness_free_port();
	h->tls = tls;
	h->token_ttl = token_ttl;
	snprintf(h->url, sizeof(h->url), "%s://127.0.0.1:%d",
	         tls ? "https" : "http", h->client_port);
	if (tls && !h_make_cert(h)) {
		test_fail(__FILE__, __LINE__, "openssl could not make a cert");
		return false;
	}
	return etcd_harness_restart(h);
}

void
etcd_harness_stop(struct etcd_harness *h, bool kill9)
{
	uint64_t end = rs_mono_ms() + 10000;
	int st;

	if (h->pid <= 0)
		return;
	kill(h->pid, kill9 ? SIGKILL : SIGTERM);
	while (waitpid(h->pid, &st, WNOHANG) == 0) {
		if (rs_mono_ms() > end) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &st, 0);
			break;
		}
		h_sleep_ms(10);
	}
	h->pid = 0;
}
