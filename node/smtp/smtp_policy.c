/* smtp_policy.c: the node's intake policy behind smtp_hooks.h: recipients
 * are resolved through the directory (node/dir/dir.h) into one
 * deduplicated account list per transaction, each account's partition
 * must have a live primary (else 451 4.3.0 for that recipient, and the
 * client retries later), quotas are checked where the account lives,
 * and the message is delivered to every primary (node/deliver): 250 only
 * once every copy is stored. A copy that failed fails the message (451),
 * and the retry stores no second copy where the first attempt did (the
 * message's idempotency key). No relaying, no sender checks yet.
 * XXX(smtp): store_account_get (the quota check) may touch the disk on
 * the loop thread on a cache miss.
 * XXX(cluster): a group member whose account is on another node is not
 * quota-checked at RCPT (one call per member); its copy is stored even
 * over quota. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/deliver/deliver.h"
#include "node/dir/dir.h"
#include "node/mime/mime_header.h"
#include "node/mime/mime.h"
#include "node/smtp/smtp_int.h"
#include "storage/store.h"

struct smtp_policy {
	struct node_ctx *node;        /* borrowed */
};

/* Per transaction: the accounts that get a copy, each once. */
struct smtp_policy_txn {
	struct dir_account *accts;    /* owns */
	size_t              n, cap;
};

/* One store_deliver in flight. Owns all the store borrows, so that it
 * outlives the transaction's policy state (the session may be closed and
 * the server freed before the completion runs). */
struct smtp_policy_op {
	struct smtp_session *s;       /* holds a reference */
	struct store_message msg;     /* data borrowed from the session */
	struct rs_buf        meta;    /* owns msg.meta: the MIME summary */
	struct store_rcpt   *rcpts;   /* owns */
	size_t               n;
	char                 id[32];
	uint8_t              idem[32];  /* SHA-256: see smtp_policy_idem */
};

struct smtp_policy *
smtp_policy_new(struct node_ctx *n)
{
	struct smtp_policy *p = rs_xcalloc(1, sizeof(*p));

	p->node = n;
	return p;
}

void
smtp_policy_free(struct smtp_policy **pp)
{
	RS_FREE(pp);
}

static struct smtp_policy_txn *
smtp_policy_txn(struct smtp_session *s)
{
	struct smtp_policy_txn *t = smtp_session__policy_data(s);

	if (t == NULL) {
		t = rs_xcalloc(1, sizeof(*t));
		smtp_session__set_policy_data(s, t);
	}
	return t;
}

static void
smtp_policy_on_reset(void *ctx, struct smtp_session *s)
{
	struct smtp_policy_txn *t = smtp_session__policy_data(s);

	(void)ctx;
	if (t == NULL)
		return;
	free(t->accts);
	free(t);
	smtp_session__set_policy_data(s, NULL);
}

/* The recipient names this account itself (or a subaddress of it,
 * RFC 5233), rather than an alias or group that expands to it. */
static bool
smtp_policy_direct(const char *key, const char *acct)
{
	const char *at = strrchr(key, '@'), *plus;
	size_t base;

	if (strcmp(key, acct) == 0)
		return true;
	if (at == NULL || (plus = memchr(key, '+', (size_t)(at - key))) == NULL)
		return false;
	base = (size_t)(plus - key);
	return strncmp(key, acct, base) == 0 && strcmp(acct + base, at) == 0;
}

/* 1: over quota with size more octets; 0: fits (or not known here: an
 * account served by another node); -1: store error. */
static int
smtp_policy_over_quota(struct smtp_policy *p, const struct dir_account *a,
                       uint64_t size, struct rs_err *err)
{
	struct store_account_info info;

	if (a->quota == 0 ||
	    deliver_route(p->node->deliver, a->acct) != DELIVER_LOCAL)
		return 0;
	if (store_account_get(p->node->store, a->acct, &info, err) != 0)
		return -1;
	return info.bytes + size > a->quota ? 1 : 0;
}

/* Quota of the accounts this RCPT added, [n0, t->n). A direct recipient
 * over quota is refused; a member of a group or alias that is over quota
 * is skipped and logged, the others get their copy. */
static int
smtp_policy_quota(struct smtp_policy *p, struct smtp_session *s,
                  struct smtp_policy_txn *t, size_t n0, const char *key,
                  uint64_t size)
{
	bool direct = t->n - n0 == 1 && smtp_policy_direct(key, t->accts[n0].addr);
	size_t o = n0, skipped = 0;
	struct rs_err err;

	for (size_t i = n0; i < t->n; i++) {
		int rc = smtp_policy_over_quota(p, &t->accts[i], size, &err);

		if (rc < 0) {
			t->n = n0;
			rs_logc(smtp_session__log(s), RS_LOG_ERR,
			        "smtp.quota_failed", "error=\"%s\"", err.msg);
			smtp_reply__reject(s, 451, "4.3.0", "store_error",
			                   "Error: temporary failure, try "
			                   "again later");
			return -1;
		}
		if (rc == 0) {
			t->accts[o++] = t->accts[i];
			continue;
		}
		skipped++;
		if (!direct) {
			char v[RS_ADDR_TEXT_MAX];

			rs_logc(smtp_session__log(s), RS_LOG_INFO,
			        "smtp.rcpt_member_skipped", "member=%s "
			        "reason=over_quota quota=%" PRIu64,
			        rs_log_val(v, sizeof(v), t->accts[i].addr,
			                   strlen(t->accts[i].addr)),
			        t->accts[i].quota);
		}
	}
	t->n = o;
	if (skipped > 0 && (direct || o == n0)) {
		/* RFC 3463 4.2.2: mailbox full, a temporary condition. */
		smtp_reply__reject(s, 452, "4.2.2", "over_quota",
		                   "Mailbox full");
		return -1;
	}
	return 1;
}

/* RFC 5321 section 4.5.1: "<Postmaster>" without a domain must reach a
 * postmaster: postmaster@<hostname> when the host name is a local
 * domain, else the postmaster of the first local domain.
 * XXX(smtp): a configured postmaster address would be better. */
static void
smtp_policy_postmaster(struct smtp_policy *p, struct smtp_session *s,
                       char *key, size_t size)
{
	const char *host = smtp_session__host(s);
	json_t *arr, *v;
	size_t i;

	snprintf(key, size, "postmaster@%s", host);
	if (dir_domain_exists(p->node->dir, host))
		return;
	arr = dir_list_domains(p->node->dir);
	json_array_foreach(arr, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		if (name != NULL) {
			snprintf(key, size, "postmaster@%s", name);
			break;
		}
	}
	json_decref(arr);
}

/* Every account this RCPT added must have a live primary whose store
 * takes mail: a recipient whose mailbox cannot be reached or written
 * now is refused with a temporary error rather than half-delivered.
 * 1 or -1 (reply queued). */
static int
smtp_policy_reachable(struct smtp_policy *p, struct smtp_session *s,
                      struct smtp_policy_txn *t, size_t n0)
{
	for (size_t i = n0; i < t->n; i++) {
		enum deliver_where w = deliver_route(p->node->deliver,
		                                     t->accts[i].acct);
		enum store_state ss = w == DELIVER_LOCAL
		    ? store_health_state(p->node->store) : STORE_STATE_OK;

		if (w != DELIVER_NOWHERE && ss == STORE_STATE_OK)
			continue;
		t->n = n0;
		if (ss != STORE_STATE_OK)
			smtp_reply__store_refused(s, ss == STORE_STATE_LOW_SPACE);
		else
			smtp_reply__reject(s, 451, "4.3.0",
			                   "partition_unavailable", "Mailbox "
			                   "temporarily unavailable, try again "
			                   "later");
		return -1;
	}
	return 1;
}

/* The quota of a direct recipient whose account lives on another node,
 * asked of that node. */
struct smtp_policy_remote {
	struct smtp_session *s;       /* holds a reference */
	uint64_t             quota, size;
};

static void
smtp_policy_remote_quota(void *arg, int rc,
                         const struct store_account_info *info)
{
	struct smtp_policy_remote *q = arg;
	struct smtp_session *s = q->s;
	struct smtp_policy_txn *t = smtp_session__policy_data(s);
	int hook = 1;

	if (rc != 0 || info->bytes + q->size > q->quota) {
		if (t != NULL && t->n > 0)
			t->n--;          /* the account this RCPT added */
		if (rc != 0)
			smtp_reply__reject(s, 451, "4.3.0", "partition_unavailable",
			                   "Mailbox temporarily unavailable, try "
			                   "again later");
		else
			smtp_reply__reject(s, 452, "4.2.2", "over_quota",
			                   "Mailbox full");
		hook = -1;
	}
	smtp_session__hook_done(s, hook);
	smtp_session__unref(s);
	free(q);
}

/* 0 when the check went asynchronous, 1 when there is none to make, or
 * -1 (reply queued). */
static int
smtp_policy_remote(struct smtp_policy *p, struct smtp_session *s,
                   struct smtp_policy_txn *t, size_t n0, const char *key,
                   uint64_t size)
{
	const struct dir_account *a = &t->accts[n0];
	struct smtp_policy_remote *q;
	struct rs_err err;

	if (t->n - n0 != 1 || a->quota == 0 || !smtp_policy_direct(key, a->addr) ||
	    deliver_route(p->node->deliver, a->acct) != DELIVER_REMOTE)
		return 1;
	q = rs_xcalloc(1, sizeof(*q));
	q->s = s;
	q->quota = a->quota;
	q->size = size;
	smtp_session__ref(s);
	if (deliver_account_info(p->node->deliver, a->acct,
	                         smtp_policy_remote_quota, q, &err) != 0) {
		smtp_session__unref(s);
		free(q);
		t->n = n0;
		smtp_reply__reject(s, 451, "4.3.0", "partition_unavailable",
		                   "Mailbox temporarily unavailable, try again "
		                   "later");
		return -1;
	}
	return 0;
}

static int
smtp_policy_on_rcpt(void *ctx, struct smtp_session *s,
                    const struct smtp_mail *m, const struct smtp_rcpt *r)
{
	struct smtp_policy *p = ctx;
	struct smtp_policy_txn *t = smtp_policy_txn(s);
	char key[RS_ADDR_TEXT_MAX];
	struct rs_err err;
	size_t n0 = t->n;

	if (r->postmaster)
		smtp_policy_postmaster(p, s, key, sizeof(key));
	else
		rs_addr_key(&r->to, key, sizeof(key));
	rs_err_clear(&err);
	if (dir_resolve(p->node->dir, key, &t->accts, &t->n, &t->cap,
	                &err) != 0) {
		t->n = n0;                  /* nothing half-added stays */
		switch (err.code) {
		case RS_EPERM:
			smtp_reply__reject(s, 554, "5.7.1", "relay_denied",
			                   "Relay access denied");
			break;
		case RS_ENOTFOUND:
			smtp_reply__reject(s, 550, "5.1.1", "no_such_user",
			                   "User unknown in local recipient "
			                   "table");
			break;
		case RS_ETOOBIG:
			smtp_reply__reject(s, 452, "4.5.3", "too_many_recipients",
			                   "Error: too many recipients");
			break;
		default:
			smtp_reply__reject(s, 451, "4.3.0", "dir_error",
			                   "Error: temporary failure, try "
			                   "again later");
			break;
		}
		return -1;
	}
	if (smtp_policy_reachable(p, s, t, n0) < 0 ||
	    smtp_policy_quota(p, s, t, n0, key,
	                      m->has_size ? m->size : 0) < 0)
		return -1;
	return smtp_policy_remote(p, s, t, n0, key, m->has_size ? m->size : 0);
}

static void
smtp_policy_on_stored(void *arg, int rc)
{
	struct smtp_policy_op *op = arg;
	struct smtp_session *s = op->s;
	char addrs[1536];
	size_t ok = 0;
	bool nospc = false;

	for (size_t i = 0; rc == 0 && i < op->n; i++) {
		if (op->rcpts[i].rc == 0) {
			ok++;
			continue;
		}
		rs_logc(smtp_session__log(s), RS_LOG_WARN, "smtp.store_rcpt_failed",
		        "id=%s account=%" PRIu64 " error=%s", op->id,
		        op->rcpts[i].acct.id, rs_err_name(op->rcpts[i].rc));
	}
	if (rc == 0 && ok == 0)
		rc = RS_EIO;
	/* A copy its primary could not take: the message is not stored
	 * for everyone, so the client must retry (the copies that were
	 * stored are found again by the idempotency key). */
	for (size_t i = 0; i < op->n; i++) {
		if (rc == 0 && op->rcpts[i].rc == RS_EUNAVAIL)
			rc = RS_EUNAVAIL;
		nospc |= op->rcpts[i].rc == RS_ENOSPC;
	}
	smtp_session__txn_addrs(s, addrs, sizeof(addrs));
	if (rc == 0)
		rs_logc(smtp_session__log(s), RS_LOG_INFO, "smtp.stored",
		        "id=%s size=%zu rcpts=%zu%s%s", op->id, op->msg.len, ok,
		        addrs, smtp_session__closed(s) ? " client=gone" : "");
	else
		rs_logc(smtp_session__log(s), RS_LOG_ERR, "smtp.store_failed",
		        "id=%s size=%zu error=%s", op->id, op->msg.len,
		        rs_err_name(rc));
	if (rc != 0 && nospc)
		smtp_reply__store_refused(s, true);
	else if (rc != 0)
		smtp_reply__reject(s, 451, "4.3.0", "store_error",
		                   "Error: temporary failure storing the "
		                   "message, try again later");
	smtp_session__hook_done(s, rc == 0 ? 1 : -1);
	smtp_session__unref(s);
	rs_buf_free(&op->meta);
	free(op->rcpts);
	free(op);
}

/* The message's idempotency key: the SHA-256 of the sender and of the
 * octets the client sent (not our trace lines, which differ on every
 * attempt). A client that retries sends the same octets, and its retry
 * finds the copies the first attempt stored (storage/store.h,
 * store_message.idem). Only a message with a Message-ID: gets one: that
 * field names one message (RFC 5322 3.6.4), so equal octets under it are
 * a retry; without it, two sends of the same text by a script are two
 * messages, and a retry after a lost answer may duplicate, as with any
 * SMTP server. false: no key. */
static bool
smtp_policy_idem(struct smtp_session *s, const uint8_t *msg, size_t len,
                 uint8_t out[32])
{
	size_t skip = smtp_session__trace_len(s);
	const struct rs_addr *from = smtp_session__txn_from(s);
	char sender[RS_ADDR_TEXT_MAX] = "";
	struct mime_header_field f;
	EVP_MD_CTX *md;
	unsigned outlen = 32;

	if (skip > len)
		skip = len;
	if (mime_header_find(msg + skip, mime_header_len(msg + skip,
	                                                 len - skip),
	                     "Message-ID", &f) != 0)
		return false;
	if (from != NULL)
		rs_addr_format(from, sender, sizeof(sender));
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, "roost-idem/1", 13) != 1 ||
	    EVP_DigestUpdate(md, sender, strlen(sender) + 1) != 1 ||
	    EVP_DigestUpdate(md, msg + skip, len - skip) != 1 ||
	    EVP_DigestFinal_ex(md, out, &outlen) != 1)
		abort();                 /* only out of memory */
	EVP_MD_CTX_free(md);
	return true;
}

static int
smtp_policy_on_data_end(void *ctx, struct smtp_session *s,
                        const uint8_t *msg, size_t len)
{
	struct smtp_policy *p = ctx;
	struct smtp_policy_txn *t = smtp_session__policy_data(s);
	struct smtp_policy_op *op;
	struct rs_err err;

	if (t == NULL || t->n == 0) {
		/* Every RCPT was a duplicate of nothing: cannot happen, as an
		 * accepted RCPT always leaves an account in the list. */
		smtp_reply__reject(s, 451, "4.3.0", "no_accounts",
		                   "Error: no recipient accounts");
		return -1;
	}
	op = rs_xcalloc(1, sizeof(*op));
	op->s = s;
	op->n = t->n;
	snprintf(op->id, sizeof(op->id), "%s", smtp_session__txn_id(s));
	op->msg.data = msg;
	op->msg.len = len;
	op->msg.internal_date = (int64_t)time(NULL);
	/* The MIME summary goes with the body, so that IMAP FETCH never
	 * parses it again (node/mime/mime.h). One pass over the octets;
	 * without it IMAP parses on demand, so a failure refuses nothing. */
	rs_buf_init(&op->meta, STORE_META_MAX);
	if (mime_parse(msg, len, &op->meta, NULL) == 0) {
		op->msg.meta = op->meta.data;
		op->msg.meta_len = op->meta.len;
	}
	op->rcpts = rs_xcalloc(t->n, sizeof(*op->rcpts));
	for (size_t i = 0; i < t->n; i++) {
		/* RCPT checked the quota already; the store only counts. */
		op->rcpts[i].acct = t->accts[i].acct;
		op->rcpts[i].quota = t->accts[i].quota;
	}
	if (smtp_policy_idem(s, msg, len, op->idem)) {
		op->msg.idem = op->idem;
		op->msg.idem_len = sizeof(op->idem);
	}
	rs_err_clear(&err);
	if (deliver_message(p->node->deliver, &op->msg, op->rcpts, op->n,
	                    op->id, smtp_policy_on_stored, op, &err) != 0) {
		rs_logc(smtp_session__log(s), RS_LOG_ERR, "smtp.store_failed",
		        "id=%s size=%zu error=\"%s\"", op->id, len, err.msg);
		rs_buf_free(&op->meta);
		free(op->rcpts);
		free(op);
		smtp_reply__reject(s, 451, "4.3.0", "store_error",
		                   "Error: temporary failure storing the "
		                   "message, try again later");
		return -1;
	}
	smtp_session__ref(s);
	return 0;
}

const struct smtp_hooks smtp_policy_hooks = {
	.on_helo = NULL,
	.on_mail = NULL,
	.on_rcpt = smtp_policy_on_rcpt,
	.on_data_end = smtp_policy_on_data_end,
	.on_reset = smtp_policy_on_reset,
};
