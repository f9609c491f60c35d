/* cluster_rec.h: the cluster's records in the coordination store and
 * their keys, all under "/roost/<cluster>/" (cluster/README.md has the
 * table). Values are JSON. Pure: no I/O; parsing never trusts its input
 * (a record that does not parse is refused, not half-read).
 *
 *   config             {"partitions":P,"replicas":R,"token_sha256":HEX,
 *                       "peer_key":B64,"created":T}   cluster init
 *   members/<id>       {"zone":Z,"state":"active","added":T}  node add
 *   alive/<id>         {"host":H,"port_base":B,"started":T,
 *                       "version":V,"store":"ok"|"failed","lease":L}
 *                                          the node, on its lease
 *   controller         {"id":ID}           the elected node, on its lease
 *   partitions/<p>     {"epoch":E,"primary":ID,"replicas":[ID…],
 *                       "in_sync":[ID…]}   the controller, by CAS
 *   used/<p>           {}                  the first account placed in p
 */
#ifndef ROOST_CLUSTER_CLUSTER_REC_H
#define ROOST_CLUSTER_CLUSTER_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"

#define CLUSTER_ID_MAX        63      /* node id octets */
#define CLUSTER_NAME_MAX      63      /* cluster name octets */
#define CLUSTER_HOST_MAX      255
#define CLUSTER_ZONE_MAX      63
#define CLUSTER_REPLICAS_MAX  7
#define CLUSTER_PARTS_MAX     4096
#define CLUSTER_KEY_LEN       32      /* the peer key (RPC_PSK_LEN) */

struct cluster_config {
	uint32_t partitions;
	uint32_t replicas;
	char     token_sha256[65];        /* hex of the admin token's hash */
	uint8_t  peer_key[CLUSTER_KEY_LEN];
	int64_t  created;
};

enum cluster_member_state {
	CLUSTER_MEMBER_ACTIVE,
	CLUSTER_MEMBER_DRAINING,
};

struct cluster_member {
	char     id[CLUSTER_ID_MAX + 1];
	char     zone[CLUSTER_ZONE_MAX + 1];
	enum cluster_member_state state;
	int64_t  added;
};

struct cluster_alive {
	char     id[CLUSTER_ID_MAX + 1];
	char     host[CLUSTER_HOST_MAX + 1];
	unsigned port_base;
	int64_t  started;
	char     version[32];
	bool     store_failed;    /* its store stopped (fail-stop): it leads
	                           * nothing and follows nothing */
	int64_t  lease;           /* the lease the key is on (what the
	                           * controller revokes for a dead process) */
};

struct cluster_part {
	uint32_t id;
	int64_t  epoch;
	char     primary[CLUSTER_ID_MAX + 1];   /* "" = unassigned */
	char     replicas[CLUSTER_REPLICAS_MAX][CLUSTER_ID_MAX + 1];
	size_t   nreplicas;
	char     in_sync[CLUSTER_REPLICAS_MAX][CLUSTER_ID_MAX + 1];
	size_t   nin_sync;
};

/* A node id or cluster name: [a-z0-9][a-z0-9._-]* of at most max octets. */
bool cluster_rec_name_ok(const char *s, size_t max);

/* Key of a record: "<prefix><what>[/<name>]", owned. prefix ends in '/'. */
char *cluster_rec_key(const char *prefix, const char *what,
                      const char *name);
char *cluster_rec_part_key(const char *prefix, uint32_t part);
/* The part of key after "<prefix><what>/" (NULL if key is not one). */
const char *cluster_rec_key_name(const char *prefix, const char *what,
                                 const char *key);

/* Each *_json returns an owned NUL-terminated JSON text; each *_parse
 * fills *r from len octets: 0, or -1 with err (RS_EINVAL). */
char *cluster_config_json(const struct cluster_config *c);
int cluster_config_parse(const uint8_t *v, size_t len,
                         struct cluster_config *r, struct rs_err *err)
	RS_MUST_CHECK;
char *cluster_member_json(const struct cluster_member *m);
int cluster_member_parse(const char *id, const uint8_t *v, size_t len,
                         struct cluster_member *r, struct rs_err *err)
	RS_MUST_CHECK;
char *cluster_alive_json(const struct cluster_alive *a);
int cluster_alive_parse(const char *id, const uint8_t *v, size_t len,
                        struct cluster_alive *r, struct rs_err *err)
	RS_MUST_CHECK;
char *cluster_part_json(const struct cluster_part *p);
int cluster_part_parse(uint32_t id, const uint8_t *v, size_t len,
                       struct cluster_part *r, struct rs_err *err)
	RS_MUST_CHECK;

const char *cluster_member_state_name(enum cluster_member_state s);

/* Whether id is among the part's replicas / in-sync set. */
bool cluster_part_has_replica(const struct cluster_part *p, const char *id);

#endif
