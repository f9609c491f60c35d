/* dir.c: the directory's in-memory copy: loading it from the coordination
 * store, keeping it current from the watch, and the record format. */
#include "node/dir/dir.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/dir/dir_int.h"

const char *const dir_kind_names[DIR_KIND_COUNT] = {
	"domains", "accounts", "aliases", "groups" };

struct dir *
dir_new(struct coord *c, const char *prefix, uint32_t npartitions)
{
	struct dir *d = rs_xcalloc(1, sizeof(*d));

	d->coord = c;
	d->prefix = rs_xasprintf("%sdir/", prefix);
	d->npartitions = npartitions == 0 ? 1 : npartitions;
	for (int k = 0; k < DIR_KIND_COUNT; k++)
		d->maps[k] = rs_map_new();
	return d;
}

void
dir_set_guard(struct dir *d, const struct dir_guard *g)
{
	d->guard = *g;
}

static void
dir_map_clear(struct rs_map *m)
{
	size_t pos = 0;
	const char *k;
	void *v;

	while (rs_map_next(m, &pos, &k, &v))
		dir__entry_free(v);
}

void
dir_free(struct dir **pp)
{
	struct dir *d = *pp;

	if (d == NULL)
		return;
	for (int k = 0; k < DIR_KIND_COUNT; k++) {
		dir_map_clear(d->maps[k]);
		rs_map_free(&d->maps[k]);
	}
	while (d->waiters != NULL) {
		struct dir_waiter *w = d->waiters;

		d->waiters = w->next;
		free(w);
	}
	free(d->prefix);
	free(d);
	*pp = NULL;
}

char *
dir__key(const struct dir *d, enum dir_kind k, const char *addr)
{
	return rs_xasprintf("%s%s/%s", d->prefix, dir_kind_names[k], addr);
}

const char *
dir__domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

void
dir__entry_free(struct dir_entry *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nitems; i++)
		free(e->items[i]);
	free(e->items);
	free(e);
}

static int
dir_parse_items(struct dir_entry *e, json_t *arr)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) > DIR_TARGETS_MAX)
		return -1;
	e->items = rs_xcalloc(json_array_size(arr), sizeof(char *));
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return -1;
		e->items[e->nitems++] = rs_xstrdup(json_string_value(v));
	}
	return 0;
}

/* A new entry holding copies of its strings in one allocation. */
static struct dir_entry *
dir_entry_new(const char *addr, const char *name, const char *password)
{
	size_t la = strlen(addr) + 1, ln = strlen(name) + 1;
	size_t lp = strlen(password) + 1;
	struct dir_entry *e = rs_xcalloc(1, sizeof(*e) + la + ln + lp);
	char *p = e->text;

	memcpy(p, addr, la);
	e->addr = p;
	memcpy(p += la, name, ln);
	e->name = p;
	memcpy(p += ln, password, lp);
	e->password = p;
	return e;
}

static const char *
dir_json_str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s != NULL ? s : "";
}

struct dir_entry *
dir__entry_parse(enum dir_kind k, const char *addr, const uint8_t *val,
                 size_t len)
{
	json_error_t jerr;
	json_t *j = json_loadb((const char *)val, len, 0, &jerr);
	struct dir_entry *e;
	const char *s;
	int ok = 0;

	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	/* Only accounts keep a password; the tree is dropped before
	 * returning, so loading holds one record's tree at a time. */
	e = dir_entry_new(addr, dir_json_str(j, "name"),
	                  k == DIR_KIND_ACCOUNT ? dir_json_str(j, "password")
	                                        : "");
	e->created = json_integer_value(json_object_get(j, "created"));
	switch (k) {
	case DIR_KIND_DOMAIN:
		ok = 1;
		break;
	case DIR_KIND_ACCOUNT:
		s = json_string_value(json_object_get(j, "id"));
		e->acct.part = (uint32_t)json_integer_value(
			json_object_get(j, "partition"));
		e->quota = (uint64_t)json_integer_value(json_object_get(j, "quota"));
		ok = s != NULL && strlen(s) == 16;
		if (ok)
			e->acct.id = strtoull(s, NULL, 16);
		break;
	case DIR_KIND_ALIAS:
		ok = dir_parse_items(e, json_object_get(j, "targets")) == 0;
		break;
	case DIR_KIND_GROUP:
		ok = dir_parse_items(e, json_object_get(j, "members")) == 0;
		break;
	case DIR_KIND_COUNT:
		break;
	}
	json_decref(j);
	if (!ok) {
		dir__entry_free(e);
		return NULL;
	}
	return e;
}

char *
dir__entry_json(enum dir_kind k, const struct dir_entry *e)
{
	json_t *j = json_object(), *arr;
	char idbuf[17];
	char *out;

	json_object_set_new(j, "created", json_integer(e->created));
	switch (k) {
	case DIR_KIND_ACCOUNT:
		snprintf(idbuf, sizeof(idbuf), "%016llx",
		         (unsigned long long)e->acct.id);
		json_object_set_new(j, "id", json_string(idbuf));
		json_object_set_new(j, "partition", json_integer(e->acct.part));
		json_object_set_new(j, "name", json_string(e->name ? e->name : ""));
		json_object_set_new(j, "quota", json_integer((json_int_t)e->quota));
		json_object_set_new(j, "password",
		                    json_string(e->password ? e->password : ""));
		break;
	case DIR_KIND_ALIAS:
	case DIR_KIND_GROUP:
		arr = json_array();
		for (size_t i = 0; i < e->nitems; i++)
			json_array_append_new(arr, json_string(e->items[i]));
		json_object_set_new(j, k == DIR_KIND_ALIAS ? "targets" : "members",
		                    arr);
		if (k == DIR_KIND_GROUP)
			json_object_set_new(j, "name",
			                    json_string(e->name ? e->name : ""));
		break;
	case DIR_KIND_DOMAIN:
	case DIR_KIND_COUNT:
		break;
	}
	out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (out == NULL)
		abort();                   /* only on out of memory */
	return out;
}

/* Splits "<prefix><kind>/<addr>" into kind and address. */
static int
dir_split_key(const struct dir *d, const char *key, enum dir_kind *k_r,
              const char **addr_r)
{
	size_t plen = strlen(d->prefix);

	if (strncmp(key, d->prefix, plen) != 0)
		return -1;
	key += plen;
	for (int k = 0; k < DIR_KIND_COUNT; k++) {
		size_t n = strlen(dir_kind_names[k]);

		if (strncmp(key, dir_kind_names[k], n) == 0 && key[n] == '/' &&
		    key[n + 1] != '\0') {
			*k_r = (enum dir_kind)k;
			*addr_r = key + n + 1;
			return 0;
		}
	}
	return -1;
}

void
dir__apply(struct dir *d, const struct coord_event *ev)
{
	enum dir_kind k;
	const char *addr;
	struct dir_entry *e = NULL;

	if (dir_split_key(d, ev->kv.key, &k, &addr) != 0)
		return;
	if (ev->type == COORD_EVENT_PUT) {
		e = dir__entry_parse(k, addr, ev->kv.value, ev->kv.len);
		if (e == NULL) {
			rs_log(RS_LOG_WARN, "dir.bad_record", "key=%s", ev->kv.key);
			return;
		}
		e->mod_rev = ev->kv.mod_rev;
		dir__entry_free(rs_map_put(d->maps[k], addr, e));
	} else {
		dir__entry_free(rs_map_del(d->maps[k], addr));
	}
}

/* Runs the waiters whose revision the copy has reached. */
static void
dir_run_waiters(struct dir *d)
{
	struct dir_waiter **pw = &d->waiters;

	while (*pw != NULL) {
		struct dir_waiter *w = *pw;

		if (w->rev > d->applied_rev) {
			pw = &w->next;
			continue;
		}
		*pw = w->next;
		w->cb(w->arg, w->rc, &w->err);
		free(w);
	}
}

void
dir__wait(struct dir *d, int64_t rev, int rc, const struct rs_err *err,
          dir_done_fn *cb, void *arg)
{
	struct dir_waiter *w = rs_xcalloc(1, sizeof(*w));

	w->rev = rc == 0 ? rev : 0;
	w->cb = cb;
	w->arg = arg;
	w->rc = rc;
	if (err != NULL)
		w->err = *err;
	w->next = d->waiters;
	d->waiters = w;
	dir_run_waiters(d);
}

static void
dir_on_watch(void *arg, const struct coord_event *evs, size_t n, int64_t rev)
{
	struct dir *d = arg;

	for (size_t i = 0; i < n; i++)
		dir__apply(d, &evs[i]);
	if (rev > d->applied_rev)
		d->applied_rev = rev;
	dir_run_waiters(d);
}

/* The watch lost its place (etcd compacted the revisions it needed): the
 * copy is rebuilt from the prefix as it is now. */
static void
dir_on_reset(void *arg, const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct dir *d = arg;

	for (int k = 0; k < DIR_KIND_COUNT; k++) {
		dir_map_clear(d->maps[k]);
		rs_map_free(&d->maps[k]);
		d->maps[k] = rs_map_new();
	}
	for (size_t i = 0; i < n; i++) {
		struct coord_event ev = { COORD_EVENT_PUT, kvs[i] };

		dir__apply(d, &ev);
	}
	if (rev > d->applied_rev)
		d->applied_rev = rev;
	rs_log(RS_LOG_WARN, "dir.reloaded", "accounts=%zu rev=%lld",
	       rs_map_count(d->maps[DIR_KIND_ACCOUNT]), (long long)rev);
	dir_run_waiters(d);
}

static void
dir_on_loaded(void *arg, int rc, const struct rs_err *err,
              const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct dir *d = arg;
	struct rs_err werr;

	if (rc != 0) {
		d->start_cb(d->start_arg, rc, err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct coord_event ev = { COORD_EVENT_PUT, kvs[i] };

		dir__apply(d, &ev);
	}
	d->applied_rev = rev;
	if (coord_watch(d->coord, d->prefix, rev, dir_on_watch,
	                dir_on_reset, d, &werr) != 0) {
		d->start_cb(d->start_arg, werr.code, &werr);
		return;
	}
	d->loaded = true;
	rs_log(RS_LOG_INFO, "dir.loaded",
	       "domains=%zu accounts=%zu aliases=%zu groups=%zu rev=%lld",
	       rs_map_count(d->maps[DIR_KIND_DOMAIN]),
	       rs_map_count(d->maps[DIR_KIND_ACCOUNT]),
	       rs_map_count(d->maps[DIR_KIND_ALIAS]),
	       rs_map_count(d->maps[DIR_KIND_GROUP]), (long long)rev);
	d->start_cb(d->start_arg, 0, NULL);
}

int
dir_start(struct dir *d, dir_done_fn *cb, void *arg, struct rs_err *err)
{
	d->start_cb = cb;
	d->start_arg = arg;
	return coord_range(d->coord, d->prefix, dir_on_loaded, d, err);
}

bool
dir_domain_exists(const struct dir *d, const char *domain)
{
	return rs_map_get(d->maps[DIR_KIND_DOMAIN], domain) != NULL;
}

bool
dir__taken(const struct dir *d, const char *addr)
{
	return rs_map_get(d->maps[DIR_KIND_ACCOUNT], addr) != NULL ||
	       rs_map_get(d->maps[DIR_KIND_ALIAS], addr) != NULL ||
	       rs_map_get(d->maps[DIR_KIND_GROUP], addr) != NULL;
}

int
dir_account_get(const struct dir *d, const char *addr, struct dir_account *r)
{
	const struct dir_entry *e = rs_map_get(d->maps[DIR_KIND_ACCOUNT], addr);

	if (e == NULL)
		return RS_ENOTFOUND;
	snprintf(r->addr, sizeof(r->addr), "%s", e->addr);
	r->acct = e->acct;
	snprintf(r->name, sizeof(r->name), "%s", e->name ? e->name : "");
	r->quota = e->quota;
	snprintf(r->password, sizeof(r->password), "%s",
	         e->password ? e->password : "");
	r->rev = e->mod_rev;
	return 0;
}

size_t
dir_count_domains(const struct dir *d)
{
	return rs_map_count(d->maps[DIR_KIND_DOMAIN]);
}

size_t
dir_count_accounts(const struct dir *d)
{
	return rs_map_count(d->maps[DIR_KIND_ACCOUNT]);
}
