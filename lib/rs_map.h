/* rs_map.h: a hash map keyed by strings or, with the _n calls, by octet
 * strings that may hold NULs (open addressing, linear probing). Keys are
 * copied and owned by the map; values are borrowed pointers the caller
 * manages. Not thread-safe. */
#ifndef ROOST_LIB_RS_MAP_H
#define ROOST_LIB_RS_MAP_H

#include <stddef.h>
#include <stdint.h>

struct rs_map;

/* Never returns NULL. */
struct rs_map *rs_map_new(void);
/* Frees the map and its keys (not the values); NULL-safe. */
void rs_map_free(struct rs_map **pp);

/* Returns the value or NULL. */
void *rs_map_get(const struct rs_map *m, const char *key);
/* Sets key to value and returns the previous value (or NULL). */
void *rs_map_put(struct rs_map *m, const char *key, void *value);
/* Removes key and returns its value (or NULL). */
void *rs_map_del(struct rs_map *m, const char *key);
/* The same, keyed by klen octets. */
void *rs_map_getn(const struct rs_map *m, const void *key, size_t klen);
void *rs_map_putn(struct rs_map *m, const void *key, size_t klen, void *value);
void *rs_map_deln(struct rs_map *m, const void *key, size_t klen);
size_t rs_map_count(const struct rs_map *m);

/* Iteration: start with *pos = 0; returns 1 with key/value while there are
 * entries, then 0. The map must not change during iteration (deletion
 * shifts entries); collect keys first to delete many. */
int rs_map_next(const struct rs_map *m, size_t *pos, const char **key_r,
                void **value_r);

/* FNV-1a, for callers that shard by key. */
uint64_t rs_hash_str(const char *s);
/* FNV-1a of n octets (keys that may hold NULs). */
uint64_t rs_hash_bytes(const void *p, size_t n);

#endif
