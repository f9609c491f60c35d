/* cluster_view.c: the cluster's state in memory. Each record family
 * (members/, alive/, partitions/, used/, controller) is one prefix that
 * is read whole and then watched from the revision it was read at; a
 * watch reset (compaction) replaces the family's copy. */
#include "cluster/cluster_view.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord.h"
#include "lib/rs_log.h"
#include "lib/rs_map.h"
#include "lib/rs_mem.h"

enum cv_family {
	CV_MEMBERS,
	CV_ALIVE,
	CV_PARTS,
	CV_USED,
	CV_CONTROLLER,
	CV_COUNT,
};

static const char *const cv_family_names[CV_COUNT] = {
	"members", "alive", "partitions", "used", "controller" };

struct cluster_view;

/* One watched prefix. */
struct cv_sub {
	struct cluster_view *v;
	enum cv_family       fam;
	char                *prefix;   /* owns */
	bool                 loaded;
};

struct cluster_view {
	struct coord             *coord;
	char                     *prefix;     /* owns */
	uint32_t                  nparts;
	struct cluster_view_part *parts;      /* owns [nparts] */
	struct rs_map            *members;    /* id -> owned cluster_member */
	struct rs_map            *alive;      /* id -> owned cluster_alive */
	char                      controller[CLUSTER_ID_MAX + 1];
	struct cv_sub             subs[CV_COUNT];
	unsigned                  nloaded;
	cluster_view_done_fn     *start_cb;
	void                     *start_arg;
	bool                      failed;
	struct {
		cluster_view_changed_fn *fn;
		void                    *arg;
	} listeners[CLUSTER_VIEW_LISTENERS];
	size_t                    nlisteners;
	/* Sorted snapshots for the list calls, rebuilt on demand. */
	const struct cluster_member **member_list;  /* owns the array */
	size_t                    nmember_list;
	const struct cluster_alive  **alive_list;   /* owns the array */
	size_t                    nalive_list;
	bool                      lists_stale;
};

struct cluster_view *
cluster_view_new(struct coord *c, const char *prefix, uint32_t npartitions)
{
	struct cluster_view *v = rs_xcalloc(1, sizeof(*v));

	v->coord = c;
	v->prefix = rs_xstrdup(prefix);
	v->nparts = npartitions;
	v->parts = rs_xcalloc(npartitions ? npartitions : 1, sizeof(*v->parts));
	for (uint32_t i = 0; i < npartitions; i++)
		v->parts[i].rec.id = i;
	v->members = rs_map_new();
	v->alive = rs_map_new();
	v->lists_stale = true;
	for (int f = 0; f < CV_COUNT; f++) {
		v->subs[f].v = v;
		v->subs[f].fam = (enum cv_family)f;
		v->subs[f].prefix = f == CV_CONTROLLER
		    ? rs_xasprintf("%scontroller", prefix)
		    : rs_xasprintf("%s%s/", prefix, cv_family_names[f]);
	}
	return v;
}

static void
cv_map_clear(struct rs_map *m)
{
	size_t pos = 0;
	const char *k;
	void *val;

	while (rs_map_next(m, &pos, &k, &val))
		free(val);
}

void
cluster_view_free(struct cluster_view **pp)
{
	struct cluster_view *v = *pp;

	if (v == NULL)
		return;
	cv_map_clear(v->members);
	cv_map_clear(v->alive);
	rs_map_free(&v->members);
	rs_map_free(&v->alive);
	for (int f = 0; f < CV_COUNT; f++)
		free(v->subs[f].prefix);
	free(v->member_list);
	free(v->alive_list);
	free(v->parts);
	free(v->prefix);
	free(v);
	*pp = NULL;
}

/* The partition number of "<prefix>partitions/<p>" or used/<p>; -1. */
static int64_t
cv_part_of(const struct cluster_view *v, const char *name)
{
	char *end;
	unsigned long p;

	if (name[0] < '0' || name[0] > '9')
		return -1;
	p = strtoul(name, &end, 10);
	if (*end != '\0' || p >= v->nparts || (name[0] == '0' && name[1]))
		return -1;
	return (int64_t)p;
}

static void
cv_bad(const char *key, const struct rs_err *err)
{
	rs_log(RS_LOG_WARN, "cluster.bad_record", "key=%s error=\"%s\"", key,
	       err->msg);
}

/* Applies one change of family f; value NULL for a delete. */
static void
cv_apply(struct cluster_view *v, enum cv_family f, const struct coord_kv *kv,
         bool put)
{
	const char *name = f == CV_CONTROLLER ? ""
	    : cluster_rec_key_name(v->prefix, cv_family_names[f], kv->key);
	struct rs_err err;
	int64_t p;

	if (name == NULL)
		return;
	rs_err_clear(&err);
	switch (f) {
	case CV_MEMBERS: {
		struct cluster_member *m = rs_xcalloc(1, sizeof(*m));

		if (!put || cluster_member_parse(name, kv->value, kv->len, m,
		                                 &err) != 0) {
			if (put)
				cv_bad(kv->key, &err);
			free(m);
			free(rs_map_del(v->members, name));
		} else {
			free(rs_map_put(v->members, name, m));
		}
		break;
	}
	case CV_ALIVE: {
		struct cluster_alive *a = rs_xcalloc(1, sizeof(*a));

		if (!put || cluster_alive_parse(name, kv->value, kv->len, a,
		                                &err) != 0) {
			if (put)
				cv_bad(kv->key, &err);
			free(a);
			free(rs_map_del(v->alive, name));
		} else {
			free(rs_map_put(v->alive, name, a));
		}
		break;
	}
	case CV_PARTS:
		if ((p = cv_part_of(v, name)) < 0)
			return;
		if (put && cluster_part_parse((uint32_t)p, kv->value, kv->len,
		                              &v->parts[p].rec, &err) == 0) {
			v->parts[p].mod_rev = kv->mod_rev;
			break;
		}
		if (put)
			cv_bad(kv->key, &err);
		memset(&v->parts[p].rec, 0, sizeof(v->parts[p].rec));
		v->parts[p].rec.id = (uint32_t)p;
		/* A record that does not parse is still there: a CAS on it
		 * must compare with its revision, or it could never be
		 * repaired. */
		v->parts[p].mod_rev = put ? kv->mod_rev : 0;
		break;
	case CV_USED:
		if ((p = cv_part_of(v, name)) >= 0)
			v->parts[p].used_rev = put ? kv->mod_rev : 0;
		break;
	case CV_CONTROLLER:
		if (strcmp(kv->key, v->subs[CV_CONTROLLER].prefix) != 0)
			return;
		v->controller[0] = '\0';
		if (put) {
			json_t *o = json_loadb((const char *)kv->value, kv->len,
			                       0, NULL);
			const char *id = json_string_value(json_object_get(o,
			                                                   "id"));

			/* A bad value reads as no controller. */
			if (id != NULL && cluster_rec_name_ok(id, CLUSTER_ID_MAX))
				memcpy(v->controller, id, strlen(id) + 1);
			json_decref(o);
		}
		break;
	default:
		break;
	}
	v->lists_stale = true;
}

static void
cv_notify(struct cluster_view *v)
{
	if (v->nloaded < CV_COUNT)
		return;
	for (size_t i = 0; i < v->nlisteners; i++)
		v->listeners[i].fn(v->listeners[i].arg);
}

static void
cv_on_watch(void *arg, const struct coord_event *evs, size_t n, int64_t rev)
{
	struct cv_sub *s = arg;

	(void)rev;
	for (size_t i = 0; i < n; i++)
		cv_apply(s->v, s->fam, &evs[i].kv,
		         evs[i].type == COORD_EVENT_PUT);
	cv_notify(s->v);
}

/* Forgets everything of a family before a full reload. */
static void
cv_clear(struct cluster_view *v, enum cv_family f)
{
	switch (f) {
	case CV_MEMBERS:
		cv_map_clear(v->members);
		rs_map_free(&v->members);
		v->members = rs_map_new();
		break;
	case CV_ALIVE:
		cv_map_clear(v->alive);
		rs_map_free(&v->alive);
		v->alive = rs_map_new();
		break;
	case CV_PARTS:
		for (uint32_t i = 0; i < v->nparts; i++) {
			memset(&v->parts[i].rec, 0, sizeof(v->parts[i].rec));
			v->parts[i].rec.id = i;
			v->parts[i].mod_rev = 0;
		}
		break;
	case CV_USED:
		for (uint32_t i = 0; i < v->nparts; i++)
			v->parts[i].used_rev = 0;
		break;
	case CV_CONTROLLER:
		v->controller[0] = '\0';
		break;
	default:
		break;
	}
	v->lists_stale = true;
}

static void
cv_on_reset(void *arg, const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct cv_sub *s = arg;

	(void)rev;
	cv_clear(s->v, s->fam);
	for (size_t i = 0; i < n; i++)
		cv_apply(s->v, s->fam, &kvs[i], true);
	rs_log(RS_LOG_WARN, "cluster.view_reloaded", "family=%s keys=%zu",
	       cv_family_names[s->fam], n);
	cv_notify(s->v);
}

static void
cv_on_loaded(void *arg, int rc, const struct rs_err *err,
             const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct cv_sub *s = arg;
	struct cluster_view *v = s->v;
	struct rs_err werr;

	if (v->failed)
		return;
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			cv_apply(v, s->fam, &kvs[i], true);
		rs_err_clear(&werr);
		if (coord_watch(v->coord, s->prefix, rev, cv_on_watch,
		                cv_on_reset, s, &werr) != 0) {
			rc = werr.code ? werr.code : RS_EIO;
			err = &werr;
		}
	}
	if (rc != 0) {
		v->failed = true;
		v->start_cb(v->start_arg, rc, err);
		return;
	}
	s->loaded = true;
	if (++v->nloaded == CV_COUNT) {
		v->start_cb(v->start_arg, 0, NULL);
		cv_notify(v);
	}
}

int
cluster_view_start(struct cluster_view *v, cluster_view_done_fn *cb,
                   void *arg, struct rs_err *err)
{
	v->start_cb = cb;
	v->start_arg = arg;
	for (int f = 0; f < CV_COUNT; f++)
		if (coord_range(v->coord, v->subs[f].prefix, cv_on_loaded,
		                &v->subs[f], err) != 0) {
			/* Ranges already asked for report into a failed view. */
			v->failed = true;
			return -1;
		}
	return 0;
}

void
cluster_view_listen(struct cluster_view *v, cluster_view_changed_fn *fn,
                    void *arg)
{
	if (v->nlisteners == CLUSTER_VIEW_LISTENERS)
		abort();                     /* a wiring bug, not input */
	v->listeners[v->nlisteners].fn = fn;
	v->listeners[v->nlisteners].arg = arg;
	v->nlisteners++;
}

uint32_t
cluster_view_npartitions(const struct cluster_view *v)
{
	return v->nparts;
}

const char *
cluster_view_prefix(const struct cluster_view *v)
{
	return v->prefix;
}

const struct cluster_view_part *
cluster_view_part(const struct cluster_view *v, uint32_t part)
{
	return part < v->nparts ? &v->parts[part] : NULL;
}

const struct cluster_member *
cluster_view_member(const struct cluster_view *v, const char *id)
{
	return rs_map_get(v->members, id);
}

const struct cluster_alive *
cluster_view_alive(const struct cluster_view *v, const char *id)
{
	return rs_map_get(v->alive, id);
}

const char *
cluster_view_controller(const struct cluster_view *v)
{
	return v->controller;
}

static int
cv_cmp_member(const void *a, const void *b)
{
	return strcmp((*(const struct cluster_member *const *)a)->id,
	              (*(const struct cluster_member *const *)b)->id);
}

static int
cv_cmp_alive(const void *a, const void *b)
{
	return strcmp((*(const struct cluster_alive *const *)a)->id,
	              (*(const struct cluster_alive *const *)b)->id);
}

/* Rebuilds the sorted lists after a change (the view is logically const:
 * the lists are a cache of the maps). */
static void
cv_lists(const struct cluster_view *cv)
{
	struct cluster_view *v = (struct cluster_view *)cv;
	size_t pos = 0, i = 0;
	const char *k;
	void *val;

	if (!v->lists_stale)
		return;
	free(v->member_list);
	free(v->alive_list);
	v->nmember_list = rs_map_count(v->members);
	v->member_list = rs_xcalloc(v->nmember_list + 1,
	                            sizeof(struct cluster_member *));
	while (rs_map_next(v->members, &pos, &k, &val))
		v->member_list[i++] = val;
	qsort(v->member_list, v->nmember_list,
	      sizeof(struct cluster_member *), cv_cmp_member);
	v->nalive_list = rs_map_count(v->alive);
	v->alive_list = rs_xcalloc(v->nalive_list + 1,
	                           sizeof(struct cluster_alive *));
	pos = i = 0;
	while (rs_map_next(v->alive, &pos, &k, &val))
		v->alive_list[i++] = val;
	qsort(v->alive_list, v->nalive_list, sizeof(struct cluster_alive *),
	      cv_cmp_alive);
	v->lists_stale = false;
}

size_t
cluster_view_members(const struct cluster_view *v,
                     const struct cluster_member *const **list_r)
{
	cv_lists(v);
	*list_r = v->member_list;
	return v->nmember_list;
}

size_t
cluster_view_alives(const struct cluster_view *v,
                    const struct cluster_alive *const **list_r)
{
	cv_lists(v);
	*list_r = v->alive_list;
	return v->nalive_list;
}

int
cluster_view_node_addr(const struct cluster_view *v, const char *id,
                       const char **host_r, unsigned *port_base_r)
{
	const struct cluster_alive *a = rs_map_get(v->alive, id);

	if (a == NULL)
		return RS_EUNAVAIL;
	*host_r = a->host;
	*port_base_r = a->port_base;
	return 0;
}
