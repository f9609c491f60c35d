/* dir_int.h: the directory's in-memory copy, shared by dir*.c only. */
#ifndef ROOST_NODE_DIR_DIR_INT_H
#define ROOST_NODE_DIR_DIR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/rs_map.h"
#include "node/dir/dir.h"

struct coord_cmp;
struct coord_event;

enum dir_kind {
	DIR_KIND_DOMAIN,
	DIR_KIND_ACCOUNT,
	DIR_KIND_ALIAS,
	DIR_KIND_GROUP,
	DIR_KIND_COUNT,
};

/* One entry of any kind; fields unused by a kind stay zero. An entry of
 * the copy is one allocation: the strings live in text[] after it (a
 * directory of 100,000 imported accounts takes about 40 MB). Entries built
 * on the stack for a change point their strings elsewhere. */
struct dir_entry {
	const char        *addr;      /* the map key (address or domain) */
	const char        *name;      /* account, group */
	const char        *password;  /* account ("" = none) */
	int64_t            mod_rev;
	int64_t            created;
	uint64_t           quota;     /* account */
	struct store_acct  acct;      /* account */
	char             **items;     /* owns: alias targets, group members */
	size_t             nitems;
	char               text[];    /* owns: addr, name, password strings */
};

/* A caller waiting for its change to show in the in-memory copy. */
struct dir_waiter {
	int64_t            rev;
	dir_done_fn       *cb;
	void              *arg;
	int                rc;
	struct rs_err      err;
	struct dir_waiter *next;
};

struct dir {
	struct coord      *coord;
	char              *prefix;      /* owns: "/roost/<cluster>/dir/" */
	uint32_t           npartitions;
	struct rs_map     *maps[DIR_KIND_COUNT]; /* key -> owned dir_entry */
	int64_t            applied_rev; /* highest revision in the copy */
	bool               loaded;
	dir_done_fn       *start_cb;
	void              *start_arg;
	struct dir_waiter *waiters;     /* owns */
	struct dir_guard   guard;       /* part NULL: standalone */
};

extern const char *const dir_kind_names[DIR_KIND_COUNT];

/* The coordination key of an entry: "<prefix><kind>/<addr>"; owned. */
char *dir__key(const struct dir *d, enum dir_kind k, const char *addr);
/* Parses a JSON record into a new entry (NULL if malformed). */
struct dir_entry *dir__entry_parse(enum dir_kind k, const char *addr,
                                   const uint8_t *val, size_t len);
/* Serialises an entry to an owned JSON text. */
char *dir__entry_json(enum dir_kind k, const struct dir_entry *e);
void dir__entry_free(struct dir_entry *e);
/* The domain part of an address key ("" if none). */
const char *dir__domain_of(const char *addr);
/* Normalises an address (or "@domain" when catch_all) into key.
 * 0 or -1 with err. */
int dir__norm_addr(const char *in, bool catch_all, char *key, size_t size,
                   struct rs_err *err);
/* Applies one committed coordination change to the copy. */
void dir__apply(struct dir *d, const struct coord_event *ev);
/* Runs cb once the copy has caught up with rev (now, or from the watch). */
void dir__wait(struct dir *d, int64_t rev, int rc, const struct rs_err *err,
               dir_done_fn *cb, void *arg);
/* Whether addr is taken by an account, alias or group. */
bool dir__taken(const struct dir *d, const char *addr);

/* ---- shared by dir_change.c and dir_import.c ---- */

/* Validates a new address of any kind: syntax, local domain, free; key
 * gets the lookup key. 0 or -1 with err (RS_EINVAL, RS_ENOTFOUND,
 * RS_ECONFLICT). */
int dir__check_new(const struct dir *d, const char *in, bool catch_all,
                   char *key, size_t size, struct rs_err *err);
/* Fills a new account entry for key (a checked lookup key): the strings
 * are borrowed, and placed as every account is: the partition from a
 * stable hash of the address, a fresh random id. */
void dir__account_init(const struct dir *d, struct dir_entry *e,
                       const char *key, const char *name, uint64_t quota,
                       const char *password_hash);
/* The compares that addr is held by no account, alias or group: three,
 * into cmps, with their keys in keys[] (owned by the caller). */
size_t dir__free_cmps(const struct dir *d, const char *addr,
                      struct coord_cmp *cmps, char **keys);
/* The compare that domain is as the copy has it (absent: rev 0); its key
 * into *key_r (owned by the caller). */
void dir__domain_cmp(const struct dir *d, const char *domain,
                     struct coord_cmp *cmp, char **key_r);

#endif
