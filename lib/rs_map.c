/* rs_map.c: open-addressing map with tombstone-free deletion
 * (backward-shift), so lookups never degrade after many deletes. Keys
 * are octet strings with a length; the string API passes strlen. */
#include "lib/rs_map.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct rs_map_slot {
	char    *key;          /* owns, NUL-terminated; NULL = empty */
	size_t   klen;
	void    *value;        /* borrowed */
	uint64_t hash;
};

struct rs_map {
	struct rs_map_slot *slots;  /* owns */
	size_t cap;                 /* power of two */
	size_t n;
};

uint64_t
rs_hash_str(const char *s)
{
	return rs_hash_bytes(s, strlen(s));
}

uint64_t
rs_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

struct rs_map *
rs_map_new(void)
{
	struct rs_map *m = rs_xcalloc(1, sizeof(*m));

	m->cap = 16;
	m->slots = rs_xcalloc(m->cap, sizeof(*m->slots));
	return m;
}

void
rs_map_free(struct rs_map **pp)
{
	struct rs_map *m = *pp;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
	*pp = NULL;
}

static size_t
rs_map_find(const struct rs_map *m, const void *key, size_t klen, uint64_t h)
{
	size_t i = h & (m->cap - 1);

	while (m->slots[i].key != NULL) {
		if (m->slots[i].hash == h && m->slots[i].klen == klen &&
		    memcmp(m->slots[i].key, key, klen) == 0)
			return i;
		i = (i + 1) & (m->cap - 1);
	}
	return i;                   /* the empty slot where key would go */
}

static void
rs_map_grow(struct rs_map *m)
{
	struct rs_map_slot *old = m->slots;
	size_t oldcap = m->cap;

	m->cap *= 2;
	m->slots = rs_xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].key != NULL) {
			size_t j = old[i].hash & (m->cap - 1);

			while (m->slots[j].key != NULL)
				j = (j + 1) & (m->cap - 1);
			m->slots[j] = old[i];
		}
	}
	free(old);
}

void *
rs_map_get(const struct rs_map *m, const char *key)
{
	return rs_map_getn(m, key, strlen(key));
}

void *
rs_map_put(struct rs_map *m, const char *key, void *value)
{
	return rs_map_putn(m, key, strlen(key), value);
}

void *
rs_map_del(struct rs_map *m, const char *key)
{
	return rs_map_deln(m, key, strlen(key));
}

void *
rs_map_getn(const struct rs_map *m, const void *key, size_t klen)
{
	size_t i = rs_map_find(m, key, klen, rs_hash_bytes(key, klen));

	return m->slots[i].key != NULL ? m->slots[i].value : NULL;
}

void *
rs_map_putn(struct rs_map *m, const void *key, size_t klen, void *value)
{
	uint64_t h = rs_hash_bytes(key, klen);
	size_t i = rs_map_find(m, key, klen, h);
	void *old;

	if (m->slots[i].key != NULL) {
		old = m->slots[i].value;
		m->slots[i].value = value;
		return old;
	}
	if ((m->n + 1) * 4 > m->cap * 3) {
		rs_map_grow(m);
		i = rs_map_find(m, key, klen, h);
	}
	m->slots[i].key = rs_xmalloc(klen + 1);
	memcpy(m->slots[i].key, key, klen);
	m->slots[i].key[klen] = '\0';
	m->slots[i].klen = klen;
	m->slots[i].value = value;
	m->slots[i].hash = h;
	m->n++;
	return NULL;
}

void *
rs_map_deln(struct rs_map *m, const void *key, size_t klen)
{
	size_t i = rs_map_find(m, key, klen, rs_hash_bytes(key, klen));
	size_t mask = m->cap - 1;
	void *old;

	if (m->slots[i].key == NULL)
		return NULL;
	old = m->slots[i].value;
	free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->n--;
	/* Backward-shift: pull later members of the probe run into the hole. */
	for (size_t j = (i + 1) & mask; m->slots[j].key != NULL;
	     j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;

		/* Move j to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			i = j;
		}
	}
	return old;
}

size_t
rs_map_count(const struct rs_map *m)
{
	return m->n;
}

int
rs_map_next(const struct rs_map *m, size_t *pos, const char **key_r,
            void **value_r)
{
	while (*pos < m->cap) {
		struct rs_map_slot *s = &m->slots[(*pos)++];

		if (s->key != NULL) {
			*key_r = s->key;
			*value_r = s->value;
			return 1;
		}
	}
	return 0;
}
