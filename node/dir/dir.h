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
 *                           "created":T}
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

/* A snapshot of an account, copied out of the directory. */
struct dir_account {
	char              addr[RS_ADDR_TEXT_MAX];
	struct store_acct acct;
	char              name[DIR_NAME_MAX + 1];
	uint64_t          quota;       /* bytes; 0 = unlimited */
	char              password[256]; /* "$scrypt$…" or "" (no login) */
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
/* password_hash may be "" (account cannot log in until passwd). */
int dir_account_add(struct dir *d, const char *addr, const char *name,
                    uint64_t quota, const char *password_hash,
                    dir_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;
int dir_account_del(struct dir *d, const char *addr, dir_done_fn *cb,
                    void *arg, struct rs_err *err) RS_MUST_CHECK;
int dir_account_set_password(struct dir *d, const char *addr,
                             const char *password_hash, dir_done_fn *cb,
                             void *arg, struct rs_err *err) RS_MUST_CHECK;
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
