/* dir.h: the directory (the Active Directory role): domains, accounts,
 * aliases and groups. The source of truth is the coordination store
 * (cluster/coord.h) under "<prefix>dir/"; every node keeps an in-memory
 * copy fed by a watch, so lookups on the mail path are synchronous and
 * never wait on the network. Loop thread only.
 *
 * Records are JSON values:
 *   dir/domains/<domain>   {"created":T}
 *   dir/accounts/<addr>    {"id":"<16 hex>","partition":P,"name":N,
 *                           "quota":BYTES,"password":"$scrypt$…",
 *                           "created":T}   (an imported account's
 *                           password may be in another scheme until its
 *                           first login: "{SSHA512}…", "$6$…")
 *   dir/aliases/<addr>     {"targets":["a@d",…]}   (<addr> "@d" = catch-all)
 *   dir/groups/<addr>      {"name":N,"members":["a@d",…]}
 * Addresses are lookup keys: ASCII-lowercased (rs_addr_key). */
#ifndef ROOST_NODE_DIR_DIR_H
#define ROOST_NODE_DIR_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_addr.h"
#include "lib/rs_err.h"
#include "storage/store.h"

struct dir;
struct coord;

#define DIR_NAME_MAX      256     /* display name octets */
#define DIR_TARGETS_MAX   1000    /* alias targets or group members */
#define DIR_EXPAND_MAX    10000   /* accounts one address may expand to */
#define DIR_DEPTH_MAX     16      /* nesting of aliases and groups */
#define DIR_PASSWORD_MAX  255     /* stored password form octets */

/* A snapshot of an account, copied out of the directory. */
struct dir_account {
	char              addr[RS_ADDR_TEXT_MAX];
	struct store_acct acct;
	char              name[DIR_NAME_MAX + 1];
	uint64_t          quota;       /* bytes; 0 = unlimited */
	char              password[DIR_PASSWORD_MAX + 1]; /* stored form, "" =
	                                * no login (node/auth/passwd.h) */
	int64_t           rev;         /* the record's revision: for a
	                                * change that must not overwrite a
	                                * newer one */
};

/* Never returns NULL. prefix is "/roost/<cluster>/"; npartitions is the
 * cluster's partition count (accounts are placed by hash at creation). */
struct dir *dir_new(struct coord *c, const char *prefix,
                    uint32_t npartitions);
void dir_free(struct dir **pp);

/* A cluster places accounts in partitions that the controller may still
 * move while they hold no account. Creating an account therefore runs,
 * in its own transaction, a compare that the account's partition is
 * still where the node last saw it and an operation that marks the
 * partition used (cluster/controller.h): the guard fills both, with keys
 * and value that stay valid until the next call. 0, or -1 with err
 * (RS_EUNAVAIL: the partition has no primary yet). */
struct coord_cmp;
struct coord_op;
struct dir_guard {
	int  (*part)(void *arg, uint32_t part, struct coord_cmp *cmp_r,
	             struct coord_op *op_r, struct rs_err *err);
	void  *arg;
};
void dir_set_guard(struct dir *d, const struct dir_guard *g);

/* Loads the directory and starts watching it; cb(arg, rc) runs once the
 * in-memory copy is complete (rc 0) or loading failed. */
typedef void dir_done_fn(void *arg, int rc, const struct rs_err *err);
int dir_start(struct dir *d, dir_done_fn *cb, void *arg,
              struct rs_err *err) RS_MUST_CHECK;

/* ---- lookups: synchronous, in memory ---- */

bool dir_domain_exists(const struct dir *d, const char *domain);
/* 0 and *r filled, or RS_ENOTFOUND. addr is a lookup key. */
int dir_account_get(const struct dir *d, const char *addr,
                    struct dir_account *r) RS_MUST_CHECK;

/* Resolves a recipient (a lookup key) to the accounts that get a copy:
 * exact account, alias, or group; then, for "local+tag@d", the same for
 * "local@d" (RFC 5233 subaddress); then the domain's catch-all alias.
 * Aliases and groups expand recursively (depth <= DIR_DEPTH_MAX, cycles
 * cut), each account appearing once. Targets in foreign domains are
 * skipped (XXX: forwarding needs outbound relay).
 * Appends to *out (an owned array the caller frees, grown as needed),
 * skipping accounts already in it, so one transaction's recipients share
 * one deduplicated list.
 * Returns 0; RS_ENOTFOUND (no such recipient, domain is local);
 * RS_EPERM (domain not local: relaying); RS_ETOOBIG (expands too far). */
int dir_resolve(const struct dir *d, const char *addr,
                struct dir_account **out, size_t *n, size_t *cap,
                struct rs_err *err) RS_MUST_CHECK;

/* Counts for status. */
size_t dir_count_domains(const struct dir *d);
size_t dir_count_accounts(const struct dir *d);

/* ---- listings for the admin API: JSON arrays (jansson), owned ---- */
struct json_t;
struct json_t *dir_list_domains(const struct dir *d);
/* domain NULL: all. */
struct json_t *dir_list_accounts(const struct dir *d, const char *domain);
struct json_t *dir_list_aliases(const struct dir *d);
struct json_t *dir_list_groups(const struct dir *d);
/* One group's members (array of strings) or NULL. */
struct json_t *dir_group_members(const struct dir *d, const char *addr);

/* ---- changes: asynchronous, through the coordination store ----
 * Each validates synchronously (-1 with err: RS_EINVAL bad input,
 * RS_ENOTFOUND missing domain/entry, RS_ECONFLICT address taken) and
 * otherwise returns 0 and later calls cb with the outcome; the in-memory
 * copy already holds the change when cb runs with rc 0. */
int dir_domain_add(struct dir *d, const char *domain, dir_done_fn *cb,
                   void *arg, struct rs_err *err) RS_MUST_CHECK;
/* Refuses (RS_ECONFLICT) while accounts, aliases or groups use it. */
int dir_domain_del(struct dir *d, const char *domain, dir_done_fn *cb,
                   void *arg, struct rs_err *err) RS_MUST_CHECK;
/* password_hash may be "" (account cannot log in until passwd); at most
 * DIR_PASSWORD_MAX octets; its scheme is the caller's business. */
int dir_account_add(struct dir *d, const char *addr, const char *name,
                    uint64_t quota, const char *password_hash,
                    dir_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;
int dir_account_del(struct dir *d, const char *addr, dir_done_fn *cb,
                    void *arg, struct rs_err *err) RS_MUST_CHECK;
/* Replaces the account's password. expect_rev 0: whatever the record
 * holds now; else the revision of the record the caller read
 * (dir_account.rev): a record changed since is left alone (RS_ECONFLICT,
 * at once or from the store). */
int dir_account_set_password(struct dir *d, const char *addr,
                             const char *password_hash, int64_t expect_rev,
                             dir_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;

/* One account of a bulk import (dir_accounts_import). The inputs are
 * borrowed (valid until the callback); the outcome is filled in. */
struct dir_import {
	const char   *addr;          /* any case */
	const char   *name;          /* NULL: none */
	uint64_t      quota;
	const char   *password_hash; /* as dir_account_add */
	/* out */
	int           rc;            /* 0 created; RS_EINVAL, RS_ENOTFOUND (no
	                              * domain), RS_ECONFLICT (address taken:
	                              * skipped, never overwritten), other
	                              * failures of the store */
	struct rs_err err;           /* why, when rc != 0 */
};
/* Creates many accounts (dir_import.c): each is checked as
 * dir_account_add checks one, then they are committed many to a
 * transaction, with the same compares as one creation each (and the
 * guard's, once per partition); a transaction that loses a compare is
 * redone one account at a time, so one taken address fails only itself.
 * create_domains: missing domains are created first (else such accounts
 * fail with RS_ENOTFOUND). v[0..n) stays the caller's until cb, which
 * runs once every account has its outcome, the copy holding the created
 * ones (rc 0 always: the outcomes are in v); when nothing is left to
 * commit it runs before this returns. Returns 0, or -1 with err (no
 * callback) when n is 0. */
int dir_accounts_import(struct dir *d, struct dir_import *v, size_t n,
                        bool create_domains, dir_done_fn *cb, void *arg,
                        struct rs_err *err) RS_MUST_CHECK;
int dir_alias_add(struct dir *d, const char *addr, const char *const *targets,
                  size_t n, dir_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;
int dir_alias_del(struct dir *d, const char *addr, dir_done_fn *cb,
                  void *arg, struct rs_err *err) RS_MUST_CHECK;
/* Creates the group, or adds members to an existing one. */
int dir_group_add(struct dir *d, const char *addr, const char *name,
                  const char *const *members, size_t n, dir_done_fn *cb,
                  void *arg, struct rs_err *err) RS_MUST_CHECK;
int dir_group_del(struct dir *d, const char *addr, dir_done_fn *cb,
                  void *arg, struct rs_err *err) RS_MUST_CHECK;

#endif
