/* admin_int.h: shared by the node/admin sources only. */
#ifndef ROOST_NODE_ADMIN_ADMIN_INT_H
#define ROOST_NODE_ADMIN_ADMIN_INT_H

#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/rs_addr.h"
#include "lib/rs_err.h"
#include "node/admin/admin_api.h"
#include "node/auth/passwd.h"
#include "storage/store.h"

#define ADMIN_SEG_MAX 4

struct admin {
	struct node_ctx    *node;
	struct worker_pool *wp;
	char                token[128];
	bool                token_is_hash; /* token: SHA-256 hex (cluster) */
	admin_status_fn    *status;
	void               *status_arg;
	int64_t             started;
	unsigned            scrypt_ln;
	unsigned            inflight;   /* requests not yet answered */
	bool                freeing;
};

/* One request in flight. Async steps keep it; the connection may close
 * meanwhile (gone), and then the answer is dropped. */
struct admin_req {
	struct admin          *adm;
	struct evhttp_request *req;      /* NULL once gone */
	enum evhttp_cmd_type   method;
	char                  *seg[ADMIN_SEG_MAX]; /* owns: decoded path parts */
	size_t                 nseg;
	json_t                *body;     /* owns: the parsed JSON body */
	json_t                *out;      /* owns: a reply being completed */
	/* scratch for multi-step operations */
	char                   addr[RS_ADDR_TEXT_MAX];
	struct store_acct      acct;
	char                  *name;     /* owns */
	uint64_t               quota;
	char                  *password; /* owns; wiped */
	size_t                 passlen;
	char                   hash[PASSWD_HASH_MAX];
	int                    rc;
	struct rs_err          err;
	unsigned               retries;  /* creation tried again after a
	                                  * lost compare */
};

#define ADMIN_ADD_RETRIES 5

/* Answers with j (taken) and frees r. */
void admin__reply_json(struct admin_req *r, int code, json_t *j);
/* Answers {"error": msg} and frees r. */
void admin__reply_error(struct admin_req *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Answers the HTTP status for an RS_E* code with err's message. */
void admin__reply_rc(struct admin_req *r, int rc, const struct rs_err *err);
/* Answers 204 and frees r. */
void admin__reply_empty(struct admin_req *r, int code);

/* ASCII-lowercases s in place (addresses and domains from paths). */
void admin__lower(char *s);

/* Body helpers: a string member or NULL; an integer or size member. */
const char *admin__str(const struct admin_req *r, const char *key);
int admin__size(const struct admin_req *r, const char *key, uint64_t *v_r)
	RS_MUST_CHECK;
/* The strings of an array member into an owned array of borrowed
 * pointers; -1 if missing or not all strings. */
int admin__strings(const struct admin_req *r, const char *key,
                   const char ***v_r, size_t *n_r) RS_MUST_CHECK;

/* Hashes r->password on a worker, then calls next(r) on the loop (the
 * password is wiped either way; r->hash is "" on failure). */
void admin__hash_password(struct admin_req *r, void (*next)(struct admin_req *));

void admin__domains(struct admin_req *r);
void admin__users(struct admin_req *r);
/* POST /users/import (admin_import.c). */
void admin__users_import(struct admin_req *r);
void admin__aliases(struct admin_req *r);
void admin__groups(struct admin_req *r);
void admin__status(struct admin_req *r);
void admin__nodes(struct admin_req *r);
/* GET /partitions/<p>/digest (admin_digest.c). */
void admin__partitions(struct admin_req *r);
/* Adds the cluster's fields to a status object (nothing standalone). */
void admin__cluster_status(struct admin *adm, json_t *st);

#endif
