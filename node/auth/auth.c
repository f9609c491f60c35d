/* auth.c: password checks off the loop, a cache of verified credentials,
 * and growing delays for clients that keep failing.
 *
 * The cache maps an account to a tag = HMAC-SHA256(node secret, stored
 * hash || password): a hit proves the same password was verified against
 * the same stored hash recently, without keeping the password. Changing
 * the password changes the stored hash and so invalidates the entry.
 *
 * Checks of the same credentials that arrive while one is being hashed
 * (a client fleet reconnecting after a restart, before the cache holds
 * anything) wait for that one instead of each costing a full hash: the
 * first job leads, later ones follow it and share its outcome.
 *
 * A password stored in another system's scheme (an imported account,
 * passwd.h) is hashed again with scrypt once a login has verified it: on
 * the worker, right after the check, and written on the loop against the
 * record the login read, so that a password changed meanwhile wins. The
 * login does not wait for the write; a failed write is logged and the
 * next login tries again. */
#include "node/auth/auth.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_map.h"
#include "lib/rs_mem.h"
#include "lib/rs_rand.h"
#include "lib/rs_time.h"
#include "node/auth/passwd.h"
#include "node/core/node_ctx.h"
#include "node/core/worker.h"
#include "node/dir/dir.h"

#define AUTH_CACHE_MAX   100000
#define AUTH_FAIL_MAX    4096      /* tracked client addresses */

struct auth_cached {
	uint8_t  tag[32];
	uint64_t expires_ms;
};

struct auth_fail {
	unsigned count;
	uint64_t last_ms;
};

struct auth {
	struct node_ctx    *node;
	struct worker_pool *wp;
	uint8_t             secret[32];
	struct rs_map      *cache;      /* addr -> owned auth_cached */
	struct rs_map      *fails;      /* ip -> owned auth_fail */
	struct rs_map      *inflight;   /* auth_key -> leading auth_job */
	uint64_t            cache_ttl_ms;
	uint64_t            fail_delay_ms;
	unsigned            scrypt_ln;  /* for re-hashed passwords */
	unsigned            pending;
	bool                freeing;
	/* A well-formed hash nobody's password matches, so that unknown
	 * users cost the same time as known ones. */
	char                dummy[PASSWD_HASH_MAX];
};

struct auth_job {
	struct auth       *a;
	auth_done_fn      *cb;
	void              *arg;
	char               ip[64];
	struct auth_result res;
	bool               known;      /* the account exists */
	char               stored[DIR_PASSWORD_MAX + 1];
	int64_t            rev;        /* of the record stored came from */
	char               rehash[PASSWD_HASH_MAX]; /* "" or its scrypt */
	char              *password;   /* owns; wiped before free */
	size_t             passlen;
	bool               ok;
	bool               cached;
	struct event      *delay;      /* owns */
	/* A leader is in a->inflight under key while it hashes; its
	 * followers wait in a list and take its outcome. */
	bool               leads;
	char               key[2 * 32 + RS_ADDR_TEXT_MAX];
	struct auth_job   *followers;
	struct auth_job   *next;
};

static void
auth_tag(const struct auth *a, const char *stored, const char *pw,
         size_t len, uint8_t tag[32])
{
	size_t slen = strlen(stored) + 1;
	uint8_t *msg = rs_xmalloc(slen + len);
	unsigned n = 32;

	memcpy(msg, stored, slen);
	memcpy(msg + slen, pw, len);
	HMAC(EVP_sha256(), a->secret, sizeof(a->secret), msg, slen + len, tag,
	     &n);
	OPENSSL_cleanse(msg, slen + len);
	free(msg);
}

struct auth *
auth_new(struct node_ctx *n, struct worker_pool *wp)
{
	struct auth *a = rs_xcalloc(1, sizeof(*a));
	struct rs_err err;
	uint64_t v;

	a->node = n;
	a->wp = wp;
	a->cache = rs_map_new();
	a->fails = rs_map_new();
	a->inflight = rs_map_new();
	rs_rand_bytes(a->secret, sizeof(a->secret));
	if (rs_config_get_ms(n->cfg, "auth.cache_ttl", 600000, &v, &err) != 0)
		v = 600000;
	a->cache_ttl_ms = v;
	if (rs_config_get_ms(n->cfg, "auth.failure_delay", 1000, &v, &err) != 0)
		v = 1000;
	a->fail_delay_ms = v;
	if (rs_config_get_u64(n->cfg, "password_scrypt_ln", PASSWD_LN_DEFAULT,
	                      10, 20, &v, &err) != 0)
		v = PASSWD_LN_DEFAULT;
	a->scrypt_ln = (unsigned)v;
	/* Cheap cost: it only has to be parseable and take some time. */
	if (passwd_hash("", 0, 10, a->dummy, sizeof(a->dummy), &err) != 0)
		a->dummy[0] = '\0';
	return a;
}

static void
auth_map_free(struct rs_map **m)
{
	size_t pos = 0;
	const char *k;
	void *v;

	while (rs_map_next(*m, &pos, &k, &v))
		free(v);
	rs_map_free(m);
}

void
auth_free(struct auth **pp)
{
	struct auth *a = *pp;

	if (a == NULL)
		return;
	*pp = NULL;
	a->freeing = true;
	if (a->pending > 0)
		return;                     /* the last job frees it */
	auth_map_free(&a->cache);
	auth_map_free(&a->fails);
	rs_map_free(&a->inflight);          /* empty: no job is pending */
	OPENSSL_cleanse(a->secret, sizeof(a->secret));
	free(a);
}

static void
auth_job_free(struct auth_job *j)
{
	struct auth *a = j->a;

	if (j->password != NULL) {
		OPENSSL_cleanse(j->password, j->passlen);
		free(j->password);
	}
	if (j->delay != NULL)
		event_free(j->delay);
	OPENSSL_cleanse(j->rehash, sizeof(j->rehash));
	free(j);
	if (--a->pending == 0 && a->freeing) {
		a->freeing = false;
		auth_free(&a);
	}
}

/* Worker thread: the slow part. */
static void
auth_job_work(void *arg)
{
	struct auth_job *j = arg;
	const char *stored = j->known && j->stored[0] != '\0' ? j->stored
	                                                     : j->a->dummy;

	j->ok = passwd_verify(stored, j->password, j->passlen) && j->known &&
	        j->stored[0] != '\0';
	if (j->ok && passwd_needs_rehash(j->stored) &&
	    passwd_hash(j->password, j->passlen, j->a->scrypt_ln, j->rehash,
	                sizeof(j->rehash), NULL) != 0)
		j->rehash[0] = '\0';
}

/* A re-hashed password on its way to the directory. */
struct auth_rehash {
	char        addr[RS_ADDR_TEXT_MAX];
	const char *from;               /* the old scheme's name (static) */
};

static void
auth_rehash_done(void *arg, int rc, const struct rs_err *err)
{
	struct auth_rehash *rh = arg;

	if (rc == 0)
		rs_log(RS_LOG_INFO, "auth.rehashed", "user=%s from=%s to=scrypt",
		       rh->addr, rh->from);
	else if (rc == RS_ECONFLICT)
		rs_log(RS_LOG_INFO, "auth.rehash_skipped",
		       "user=%s reason=account_changed", rh->addr);
	else
		rs_log(RS_LOG_WARN, "auth.rehash_failed", "user=%s error=\"%s\"",
		       rh->addr, err != NULL && err->msg[0] != '\0'
		                 ? err->msg : rs_err_name(rc));
	free(rh);
}

/* Loop thread: writes j->rehash over the record the login read. */
static void
auth_rehash_start(struct auth_job *j)
{
	struct auth_rehash *rh = rs_xcalloc(1, sizeof(*rh));
	struct rs_err err;
	const char *from = passwd_scheme(j->stored);

	snprintf(rh->addr, sizeof(rh->addr), "%s", j->res.addr);
	rh->from = from != NULL ? from : "unknown";
	if (dir_account_set_password(j->a->node->dir, j->res.addr, j->rehash,
	                             j->rev, auth_rehash_done, rh, &err) != 0)
		auth_rehash_done(rh, err.code, &err);
}

static void
auth_job_finish(evutil_socket_t fd, short what, void *arg)
{
	struct auth_job *j = arg;
	struct auth *a = j->a;

	(void)fd;
	(void)what;
	if (a->freeing)
		j->cb(j->arg, RS_EUNAVAIL, NULL);
	else
		j->cb(j->arg, j->ok ? 0 : RS_EPERM, j->ok ? &j->res : NULL);
	auth_job_free(j);
}

static void auth_job_done(void *arg);

/* A leader's outcome goes to every follower (after the leader's own, so
 * that the cache entry exists); the leader may be freed already. */
static void
auth_followers_done(struct auth_job *list, bool ok)
{
	while (list != NULL) {
		struct auth_job *f = list;

		list = f->next;
		f->ok = ok;
		f->cached = true;           /* the leader filled the cache */
		auth_job_done(f);
	}
}

/* Records the outcome; failures are answered after a growing delay. */
static void
auth_job_done(void *arg)
{
	struct auth_job *j = arg;
	struct auth *a = j->a;
	struct auth_fail *f = rs_map_get(a->fails, j->ip);
	uint64_t now = rs_mono_ms();
	struct auth_job *followers = j->followers;
	struct timeval tv;
	uint64_t delay;

	if (j->leads) {
		rs_map_del(a->inflight, j->key);
		j->leads = false;
		j->followers = NULL;
	}

	if (j->ok) {
		struct auth_cached *c;

		if (!j->cached) {
			if (rs_map_count(a->cache) >= AUTH_CACHE_MAX)
				auth_map_free(&a->cache), a->cache = rs_map_new();
			c = rs_map_get(a->cache, j->res.addr);
			if (c == NULL) {
				c = rs_xcalloc(1, sizeof(*c));
				rs_map_put(a->cache, j->res.addr, c);
			}
			auth_tag(a, j->stored, j->password, j->passlen, c->tag);
			c->expires_ms = now + a->cache_ttl_ms;
		}
		if (f != NULL)
			free(rs_map_del(a->fails, j->ip));
		if (j->rehash[0] != '\0' && !a->freeing)
			auth_rehash_start(j);
		auth_job_finish(-1, 0, j);
		auth_followers_done(followers, true);
		return;
	}
	if (f != NULL && now - f->last_ms > 5 * 60 * 1000)
		f->count = 0;
	if (f == NULL) {
		if (rs_map_count(a->fails) >= AUTH_FAIL_MAX)
			auth_map_free(&a->fails), a->fails = rs_map_new();
		f = rs_xcalloc(1, sizeof(*f));
		rs_map_put(a->fails, j->ip, f);
	}
	f->count++;
	f->last_ms = now;
	delay = a->fail_delay_ms * (f->count < 8 ? f->count : 8);
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	j->delay = evtimer_new(a->node->base, auth_job_finish, j);
	evtimer_add(j->delay, &tv);
	auth_followers_done(followers, false);
}

/* The in-flight key of a check: the credential tag (which stands for
 * stored hash and password, never the password itself) and the account. */
static void
auth_key(const uint8_t tag[32], const char *addr, char *key, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 32 && 2 * i + 2 < size; i++) {
		key[2 * i] = hex[tag[i] >> 4];
		key[2 * i + 1] = hex[tag[i] & 15];
	}
	snprintf(key + 2 * i, size - 2 * i, "%s", addr);
}

int
auth_check_password(struct auth *a, const char *user, const char *password,
                    size_t passlen, const char *client_ip, auth_done_fn *cb,
                    void *arg, struct rs_err *err)
{
	struct auth_job *j;
	struct dir_account acct = { 0 };
	struct rs_addr addr;
	struct auth_cached *c;

	if (passlen == 0 || passlen > PASSWD_MAX || user[0] == '\0')
		return rs_err_set(err, RS_EINVAL, "empty or oversized credentials");
	j = rs_xcalloc(1, sizeof(*j));
	j->a = a;
	j->cb = cb;
	j->arg = arg;
	snprintf(j->ip, sizeof(j->ip), "%s", client_ip);
	j->password = rs_xmemdup(password, passlen);
	j->passlen = passlen;
	a->pending++;
	if (rs_addr_parse_mailbox(user, strlen(user), RS_ADDR_UTF8, &addr,
	                          NULL) == 0) {
		rs_addr_key(&addr, j->res.addr, sizeof(j->res.addr));
		j->known = dir_account_get(a->node->dir, j->res.addr, &acct) == 0;
	}
	if (j->known) {
		j->res.acct = acct.acct;
		j->rev = acct.rev;
		snprintf(j->stored, sizeof(j->stored), "%s", acct.password);
		OPENSSL_cleanse(acct.password, sizeof(acct.password));
	}
	if (j->known && j->stored[0] != '\0') {
		struct auth_job *leader;
		uint8_t tag[32];

		auth_tag(a, j->stored, password, passlen, tag);
		c = rs_map_get(a->cache, j->res.addr);
		if (c != NULL && c->expires_ms > rs_mono_ms() &&
		    CRYPTO_memcmp(tag, c->tag, sizeof(tag)) == 0) {
			j->ok = j->cached = true;
			rs_exec_post(a->node->exec, auth_job_done, j);
			return 0;
		}
		auth_key(tag, j->res.addr, j->key, sizeof(j->key));
		leader = rs_map_get(a->inflight, j->key);
		if (leader != NULL) {
			j->next = leader->followers;
			leader->followers = j;
			return 0;
		}
		j->leads = true;
		rs_map_put(a->inflight, j->key, j);
	}
	worker_pool_run(a->wp, auth_job_work, auth_job_done, j, a->node->exec);
	return 0;
}
