/* store_cache.c: the writer's cache of the records every operation reads
 * and rewrites (account state, mailbox names and records, index chunks).
 * Without it each delivery looks them up in RocksDB again, and a lookup
 * in a large memtable is a walk over scattered skip-list nodes.
 *
 * The writer is the only writer, so the cache can hold the latest state
 * (the batch included): store__put/store__del update it as they write,
 * a miss is filled from the batch and the DB. An operation's changes are
 * noted in an undo log, replayed when the operation is rolled back; a
 * group that fails to write empties the cache. Entries are never removed
 * one by one: an entry can be "unknown" again, and a cache grown past its
 * bounds is emptied between groups. The table is lib/rs_map keyed by the
 * RocksDB key. */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_map.h"
#include "lib/rs_mem.h"
#include "storage/store_keys.h"

#define STORE_CACHE_MAX_ENTRIES ((size_t)1 << 16)
#define STORE_CACHE_MAX_BYTES   ((size_t)32 << 20)
/* Values above this are not worth a copy here (index chunks are ~1 KiB). */
#define STORE_CACHE_MAX_VAL     4096

enum store_cache_state { STORE_CACHE_UNKNOWN, STORE_CACHE_PRESENT,
                         STORE_CACHE_ABSENT };

struct store_cache_ent {
	uint8_t                *val;    /* owns when PRESENT */
	size_t                  vlen;
	enum store_cache_state  state;
};

/* What an entry was before the running operation changed it. Entries
 * live until the cache is emptied, which drops the undo log too. */
struct store_cache_undo {
	struct store_cache_ent *e;
	uint8_t                *val;    /* owns */
	size_t                  vlen;
	enum store_cache_state  state;
};

struct store_cache {
	struct rs_map           *map;    /* owns; key -> store_cache_ent */
	size_t                   bytes;  /* keys and values held */
	struct store_cache_undo *undo;   /* owns */
	size_t                   nundo, undocap;
};

/* The records worth caching: P 'a' acct(8) then S, N, X or I. */
static bool
store_cache_wanted(const uint8_t *key, size_t klen)
{
	if (klen < STORE_KEYS_ACCT_LEN || key[4] != 'a' ||
	    store_keys_get32(key) > STORE_PART_MAX)
		return false;
	switch (key[13]) {
	case 'S': case 'N': case 'X': case 'I':
		return true;
	default:
		return false;
	}
}

struct store_cache *
store__cache_new(void)
{
	struct store_cache *c = rs_xcalloc(1, sizeof(*c));

	c->map = rs_map_new();
	return c;
}

static void
store_cache_drop_undo(struct store_cache *c)
{
	for (size_t i = 0; i < c->nundo; i++)
		free(c->undo[i].val);
	c->nundo = 0;
}

/* Frees the undo log, every entry and the map. */
static void
store_cache_drop_all(struct store_cache *c)
{
	size_t pos = 0;
	const char *key;
	void *v;

	store_cache_drop_undo(c);
	while (rs_map_next(c->map, &pos, &key, &v)) {
		struct store_cache_ent *e = v;

		free(e->val);
		free(e);
	}
	rs_map_free(&c->map);
	c->bytes = 0;
}

void
store__cache_clear(struct store_cache *c)
{
	store_cache_drop_all(c);
	c->map = rs_map_new();
}

void
store__cache_free(struct store_cache **pp)
{
	struct store_cache *c = *pp;

	if (c == NULL)
		return;
	*pp = NULL;
	store_cache_drop_all(c);
	free(c->undo);
	free(c);
}

/* The entry of key, made (UNKNOWN) if missing. */
static struct store_cache_ent *
store_cache_entry(struct store_cache *c, const uint8_t *key, size_t klen)
{
	struct store_cache_ent *e = rs_map_getn(c->map, key, klen);

	if (e != NULL)
		return e;
	e = rs_xcalloc(1, sizeof(*e));
	(void)rs_map_putn(c->map, key, klen, e);
	c->bytes += klen;
	return e;
}

static void
store_cache_set(struct store_cache *c, struct store_cache_ent *e,
                enum store_cache_state state, const void *val, size_t vlen)
{
	free(e->val);
	c->bytes -= e->vlen;
	e->val = NULL;
	e->vlen = 0;
	e->state = state;
	if (state == STORE_CACHE_PRESENT) {
		e->val = rs_xmalloc(vlen > 0 ? vlen : 1);
		if (vlen > 0)
			memcpy(e->val, val, vlen);
		e->vlen = vlen;
		c->bytes += vlen;
	}
}

int
store__cache_get(struct store_cache *c, const uint8_t *key, size_t klen,
                 uint8_t **val_r, size_t *len_r)
{
	struct store_cache_ent *e;

	if (!store_cache_wanted(key, klen))
		return STORE_CACHE_MISS;
	e = rs_map_getn(c->map, key, klen);
	if (e == NULL || e->state == STORE_CACHE_UNKNOWN)
		return STORE_CACHE_MISS;
	if (e->state == STORE_CACHE_ABSENT)
		return RS_ENOTFOUND;
	*val_r = rs_xmalloc(e->vlen > 0 ? e->vlen : 1);
	memcpy(*val_r, e->val, e->vlen);
	*len_r = e->vlen;
	return 0;
}

void
store__cache_fill(struct store_cache *c, const uint8_t *key, size_t klen,
                  const uint8_t *val, size_t vlen)
{
	if (!store_cache_wanted(key, klen) ||
	    (val != NULL && vlen > STORE_CACHE_MAX_VAL))
		return;
	store_cache_set(c, store_cache_entry(c, key, klen),
	                val != NULL ? STORE_CACHE_PRESENT : STORE_CACHE_ABSENT,
	                val, vlen);
}

void
store__cache_write(struct store_cache *c, const uint8_t *key, size_t klen,
                   const void *val, size_t vlen)
{
	struct store_cache_ent *e;
	struct store_cache_undo *u;

	if (!store_cache_wanted(key, klen))
		return;
	e = store_cache_entry(c, key, klen);
	if (c->nundo == c->undocap) {
		c->undocap = c->undocap != 0 ? c->undocap * 2 : 32;
		c->undo = rs_xreallocarray(c->undo, c->undocap,
		                           sizeof(*c->undo));
	}
	u = &c->undo[c->nundo++];
	u->e = e;
	u->state = e->state;
	u->val = e->val;        /* moved: the entry gets a new value */
	u->vlen = e->vlen;
	c->bytes -= e->vlen;
	e->val = NULL;
	e->vlen = 0;
	if (val != NULL && vlen > STORE_CACHE_MAX_VAL)
		e->state = STORE_CACHE_UNKNOWN;   /* too big: read it again */
	else
		store_cache_set(c, e, val != NULL ? STORE_CACHE_PRESENT
		                                  : STORE_CACHE_ABSENT,
		                val, vlen);
}

void
store__cache_op_done(struct store_cache *c, bool ok)
{
	if (ok) {
		store_cache_drop_undo(c);
		return;
	}
	while (c->nundo > 0) {
		struct store_cache_undo *u = &c->undo[--c->nundo];
		struct store_cache_ent *e = u->e;

		free(e->val);
		c->bytes -= e->vlen;
		e->val = u->val;
		e->vlen = u->vlen;
		e->state = u->state;
		c->bytes += u->vlen;
	}
}

void
store__cache_group_done(struct store_cache *c, bool ok)
{
	if (!ok || rs_map_count(c->map) > STORE_CACHE_MAX_ENTRIES ||
	    c->bytes > STORE_CACHE_MAX_BYTES)
		store__cache_clear(c);
	else
		store_cache_drop_undo(c);
}
