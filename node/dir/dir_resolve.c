/* dir_resolve.c: recipient resolution: account, alias, group, subaddress,
 * catch-all; recursive expansion with a depth limit and cycle cut. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/dir/dir_int.h"

struct dir_expand {
	const struct dir   *d;
	struct rs_map      *seen;       /* addresses already expanded */
	struct dir_account **out;
	size_t             *n, *cap;
	int                 rc;         /* RS_ETOOBIG once past the limit */
};

static void
dir_out_add(struct dir_expand *x, const struct dir_entry *e)
{
	struct dir_account *a;

	for (size_t i = 0; i < *x->n; i++)
		if ((*x->out)[i].acct.id == e->acct.id &&
		    (*x->out)[i].acct.part == e->acct.part)
			return;             /* one copy per account */
	if (*x->n >= DIR_EXPAND_MAX) {
		x->rc = RS_ETOOBIG;
		return;
	}
	if (*x->n == *x->cap) {
		*x->cap = *x->cap ? *x->cap * 2 : 8;
		*x->out = rs_xreallocarray(*x->out, *x->cap, sizeof(**x->out));
	}
	a = &(*x->out)[(*x->n)++];
	memset(a, 0, sizeof(*a));
	snprintf(a->addr, sizeof(a->addr), "%s", e->addr);
	a->acct = e->acct;
	snprintf(a->name, sizeof(a->name), "%s", e->name ? e->name : "");
	a->quota = e->quota;
	/* The password hash is not needed on the mail path: left empty. */
}

/* Expands addr; returns whether it names anything in the directory. */
static bool
dir_expand(struct dir_expand *x, const char *addr, unsigned depth)
{
	const struct dir_entry *e;

	if (rs_map_get(x->seen, addr) != NULL)
		return true;                /* a cycle, or met before: done */
	if ((e = rs_map_get(x->d->maps[DIR_KIND_ACCOUNT], addr)) != NULL) {
		dir_out_add(x, e);
		return true;
	}
	e = rs_map_get(x->d->maps[DIR_KIND_ALIAS], addr);
	if (e == NULL)
		e = rs_map_get(x->d->maps[DIR_KIND_GROUP], addr);
	if (e == NULL)
		return false;
	rs_map_put(x->seen, addr, (void *)e);
	if (depth >= DIR_DEPTH_MAX)
		return true;                /* too deep: stop, keep what we have */
	for (size_t i = 0; i < e->nitems && x->rc == 0; i++) {
		/* XXX(dir): targets in foreign domains need outbound relay. */
		if (!dir_domain_exists(x->d, dir__domain_of(e->items[i])))
			continue;
		(void)dir_expand(x, e->items[i], depth + 1);
	}
	return true;
}

int
dir_resolve(const struct dir *d, const char *addr, struct dir_account **out,
            size_t *n, size_t *cap, struct rs_err *err)
{
	struct dir_expand x = { d, rs_map_new(), out, n, cap, 0 };
	const char *domain = dir__domain_of(addr);
	const char *plus = strchr(addr, '+');
	char alt[RS_ADDR_TEXT_MAX];
	bool found;

	if (!dir_domain_exists(d, domain)) {
		rs_map_free(&x.seen);
		return rs_err_set(err, RS_EPERM, "domain %s is not local", domain);
	}
	found = dir_expand(&x, addr, 0);
	/* RFC 5233 subaddress: "local+detail@domain" reaches "local@domain". */
	if (!found && plus != NULL && plus < domain - 1) {
		snprintf(alt, sizeof(alt), "%.*s@%s", (int)(plus - addr), addr,
		         domain);
		found = dir_expand(&x, alt, 0);
	}
	if (!found) {
		snprintf(alt, sizeof(alt), "@%s", domain);
		found = dir_expand(&x, alt, 0);
	}
	rs_map_free(&x.seen);
	if (x.rc != 0)
		return rs_err_set(err, x.rc, "%s expands to too many accounts",
		                  addr);
	if (!found)
		return rs_err_set(err, RS_ENOTFOUND, "no such recipient %s", addr);
	return 0;
}
