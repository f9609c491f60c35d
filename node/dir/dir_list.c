/* dir_list.c: JSON listings of the directory for the admin API, sorted by
 * address so that output is stable. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/dir/dir_int.h"

static int
dir_cmp_entry(const void *a, const void *b)
{
	const struct dir_entry *const *x = a, *const *y = b;

	return strcmp((*x)->addr, (*y)->addr);
}

/* The entries of a map whose domain is domain (NULL: all), sorted. */
static struct dir_entry **
dir_sorted(const struct rs_map *m, const char *domain, bool is_domain,
           size_t *n_r)
{
	/* An array of pointers: sizeof(*v) is meant. */
	struct dir_entry **v = rs_xcalloc(rs_map_count(m) + 1, sizeof(*v)); // NOLINT(bugprone-sizeof-expression)
	size_t pos = 0, n = 0;
	const char *k;
	void *e;

	while (rs_map_next(m, &pos, &k, &e)) {
		const char *dom = is_domain ? k : dir__domain_of(k);

		if (domain == NULL || strcmp(dom, domain) == 0)
			v[n++] = e;
	}
	qsort(v, n, sizeof(*v), dir_cmp_entry); // NOLINT(bugprone-sizeof-expression)
	*n_r = n;
	return v;
}

static json_t *
dir_items_json(const struct dir_entry *e)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < e->nitems; i++)
		json_array_append_new(arr, json_string(e->items[i]));
	return arr;
}

static size_t
dir_count_in_domain(const struct dir *d, const char *domain)
{
	size_t n = 0, pos = 0;
	const char *k;
	void *e;

	while (rs_map_next(d->maps[DIR_KIND_ACCOUNT], &pos, &k, &e))
		if (strcmp(dir__domain_of(k), domain) == 0)
			n++;
	return n;
}

json_t *
dir_list_domains(const struct dir *d)
{
	size_t n;
	struct dir_entry **v = dir_sorted(d->maps[DIR_KIND_DOMAIN], NULL, true,
	                                  &n);
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:I}", "name",
		    v[i]->addr, "accounts",
		    (json_int_t)dir_count_in_domain(d, v[i]->addr)));
	free(v);
	return arr;
}

json_t *
dir_list_accounts(const struct dir *d, const char *domain)
{
	size_t n;
	struct dir_entry **v = dir_sorted(d->maps[DIR_KIND_ACCOUNT], domain,
	                                  false, &n);
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I}",
		    "address", v[i]->addr, "name", v[i]->name ? v[i]->name : "",
		    "quota", (json_int_t)v[i]->quota,
		    "partition", (json_int_t)v[i]->acct.part));
	free(v);
	return arr;
}

json_t *
dir_list_aliases(const struct dir *d)
{
	size_t n;
	struct dir_entry **v = dir_sorted(d->maps[DIR_KIND_ALIAS], NULL, false,
	                                  &n);
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:o}", "address",
		    v[i]->addr, "targets", dir_items_json(v[i])));
	free(v);
	return arr;
}

json_t *
dir_list_groups(const struct dir *d)
{
	size_t n;
	struct dir_entry **v = dir_sorted(d->maps[DIR_KIND_GROUP], NULL, false,
	                                  &n);
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "address",
		    v[i]->addr, "name", v[i]->name ? v[i]->name : "",
		    "members", dir_items_json(v[i])));
	free(v);
	return arr;
}

json_t *
dir_group_members(const struct dir *d, const char *addr)
{
	const struct dir_entry *e = rs_map_get(d->maps[DIR_KIND_GROUP], addr);

	return e != NULL ? dir_items_json(e) : NULL;
}
