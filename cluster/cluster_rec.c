/* cluster_rec.c: JSON forms of the cluster's records and their keys. */
#include "cluster/cluster_rec.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_base64.h"
#include "lib/rs_mem.h"

bool
cluster_rec_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

char *
cluster_rec_key(const char *prefix, const char *what, const char *name)
{
	if (name == NULL)
		return rs_xasprintf("%s%s", prefix, what);
	return rs_xasprintf("%s%s/%s", prefix, what, name);
}

char *
cluster_rec_part_key(const char *prefix, uint32_t part)
{
	return rs_xasprintf("%spartitions/%u", prefix, part);
}

const char *
cluster_rec_key_name(const char *prefix, const char *what, const char *key)
{
	size_t pl = strlen(prefix), wl = strlen(what);

	if (strncmp(key, prefix, pl) != 0 || strncmp(key + pl, what, wl) != 0 ||
	    key[pl + wl] != '/' || key[pl + wl + 1] == '\0')
		return NULL;
	return key + pl + wl + 1;
}

static char *
cluster_rec_dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(o);
	if (s == NULL)
		abort();                /* only out of memory */
	return s;
}

static json_t *
cluster_rec_load(const uint8_t *v, size_t len, struct rs_err *err)
{
	json_error_t je;
	json_t *o = json_loadb((const char *)v, len, JSON_REJECT_DUPLICATES,
	                       &je);

	if (o == NULL) {
		rs_err_set(err, RS_EINVAL, "not JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		rs_err_set(err, RS_EINVAL, "not a JSON object");
		return NULL;
	}
	return o;
}

/* Copies a string member (absent: def) of at most max octets. */
static int
cluster_rec_str(json_t *o, const char *name, const char *def, char *out,
                size_t max, struct rs_err *err)
{
	json_t *v = json_object_get(o, name);
	const char *s = def;

	if (v != NULL) {
		if (!json_is_string(v))
			return rs_err_set(err, RS_EINVAL, "%s: not a string", name);
		s = json_string_value(v);
	}
	if (s == NULL)
		return rs_err_set(err, RS_EINVAL, "%s missing", name);
	if (strlen(s) > max)
		return rs_err_set(err, RS_EINVAL, "%s too long", name);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* An integer member in [min, max] (absent: def, or an error if def < min). */
static int
cluster_rec_int(json_t *o, const char *name, int64_t def, int64_t min,
                int64_t max, int64_t *r, struct rs_err *err)
{
	json_t *v = json_object_get(o, name);

	if (v == NULL) {
		if (def < min)
			return rs_err_set(err, RS_EINVAL, "%s missing", name);
		*r = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return rs_err_set(err, RS_EINVAL, "%s: bad number", name);
	*r = json_integer_value(v);
	return 0;
}

/* ---- config ---- */

char *
cluster_config_json(const struct cluster_config *c)
{
	char key[sizeof(c->peer_key) * 2 + 8];

	rs_base64_encode(c->peer_key, sizeof(c->peer_key), key);
	return cluster_rec_dump(json_pack("{s:i,s:i,s:s,s:s,s:I}",
	    "partitions", (int)c->partitions, "replicas", (int)c->replicas,
	    "token_sha256", c->token_sha256, "peer_key", key,
	    "created", (json_int_t)c->created));
}

int
cluster_config_parse(const uint8_t *v, size_t len, struct cluster_config *r,
                     struct rs_err *err)
{
	json_t *o = cluster_rec_load(v, len, err);
	char key[64];
	int64_t parts = 0, reps = 0, created = 0;
	size_t klen;
	int rc = -1;

	if (o == NULL)
		return -1;
	memset(r, 0, sizeof(*r));
	if (cluster_rec_int(o, "partitions", -1, 1, CLUSTER_PARTS_MAX, &parts,
	                    err) != 0 ||
	    cluster_rec_int(o, "replicas", 1, 1, CLUSTER_REPLICAS_MAX, &reps,
	                    err) != 0 ||
	    cluster_rec_int(o, "created", 0, 0, INT64_MAX, &created, err) != 0 ||
	    cluster_rec_str(o, "token_sha256", NULL, r->token_sha256,
	                    sizeof(r->token_sha256) - 1, err) != 0 ||
	    cluster_rec_str(o, "peer_key", NULL, key, sizeof(key) - 1,
	                    err) != 0)
		goto out;
	if (strlen(r->token_sha256) != 64) {
		rs_err_set(err, RS_EINVAL, "token_sha256: not a SHA-256");
		goto out;
	}
	{
		uint8_t raw[48];

		if (rs_base64_decode(key, strlen(key), raw, &klen) != 0 ||
		    klen != CLUSTER_KEY_LEN) {
			rs_err_set(err, RS_EINVAL, "peer_key: not %d octets",
			           CLUSTER_KEY_LEN);
			goto out;
		}
		memcpy(r->peer_key, raw, CLUSTER_KEY_LEN);
	}
	r->partitions = (uint32_t)parts;
	r->replicas = (uint32_t)reps;
	r->created = created;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* ---- members ---- */

const char *
cluster_member_state_name(enum cluster_member_state s)
{
	return s == CLUSTER_MEMBER_DRAINING ? "draining" : "active";
}

char *
cluster_member_json(const struct cluster_member *m)
{
	return cluster_rec_dump(json_pack("{s:s,s:s,s:I}", "zone", m->zone,
	    "state", cluster_member_state_name(m->state),
	    "added", (json_int_t)m->added));
}

static int
cluster_rec_id(const char *id, char *out, struct rs_err *err)
{
	if (!cluster_rec_name_ok(id, CLUSTER_ID_MAX))
		return rs_err_set(err, RS_EINVAL, "bad node id");
	memcpy(out, id, strlen(id) + 1);
	return 0;
}

int
cluster_member_parse(const char *id, const uint8_t *v, size_t len,
                     struct cluster_member *r, struct rs_err *err)
{
	json_t *o;
	char state[16];
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (cluster_rec_id(id, r->id, err) != 0 ||
	    (o = cluster_rec_load(v, len, err)) == NULL)
		return -1;
	if (cluster_rec_str(o, "zone", "", r->zone, CLUSTER_ZONE_MAX,
	                    err) != 0 ||
	    cluster_rec_str(o, "state", "active", state, sizeof(state) - 1,
	                    err) != 0 ||
	    cluster_rec_int(o, "added", 0, 0, INT64_MAX, &r->added, err) != 0)
		goto out;
	if (strcmp(state, "active") == 0)
		r->state = CLUSTER_MEMBER_ACTIVE;
	else if (strcmp(state, "draining") == 0)
		r->state = CLUSTER_MEMBER_DRAINING;
	else {
		rs_err_set(err, RS_EINVAL, "state: unknown");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* ---- alive ---- */

char *
cluster_alive_json(const struct cluster_alive *a)
{
	return cluster_rec_dump(json_pack("{s:s,s:i,s:I,s:s,s:s,s:I}", "host",
	    a->host, "port_base", (int)a->port_base, "started",
	    (json_int_t)a->started, "version", a->version, "store",
	    a->store_failed ? "failed" : "ok", "lease", (json_int_t)a->lease));
}

int
cluster_alive_parse(const char *id, const uint8_t *v, size_t len,
                    struct cluster_alive *r, struct rs_err *err)
{
	json_t *o;
	int64_t base = 0;
	char store[16];
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (cluster_rec_id(id, r->id, err) != 0 ||
	    (o = cluster_rec_load(v, len, err)) == NULL)
		return -1;
	if (cluster_rec_str(o, "host", NULL, r->host, CLUSTER_HOST_MAX,
	                    err) != 0 ||
	    cluster_rec_int(o, "port_base", -1, 0, 65535 - 99, &base,
	                    err) != 0 ||
	    cluster_rec_int(o, "started", 0, 0, INT64_MAX, &r->started,
	                    err) != 0 ||
	    cluster_rec_str(o, "version", "", r->version,
	                    sizeof(r->version) - 1, err) != 0 ||
	    cluster_rec_str(o, "store", "ok", store, sizeof(store) - 1,
	                    err) != 0 ||
	    cluster_rec_int(o, "lease", 0, 0, INT64_MAX, &r->lease, err) != 0)
		goto out;
	r->store_failed = strcmp(store, "failed") == 0;
	if (r->host[0] == '\0') {
		rs_err_set(err, RS_EINVAL, "host: empty");
		goto out;
	}
	r->port_base = (unsigned)base;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* ---- partitions ---- */

static json_t *
cluster_rec_ids(const char ids[][CLUSTER_ID_MAX + 1], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(ids[i]));
	return a;
}

char *
cluster_part_json(const struct cluster_part *p)
{
	return cluster_rec_dump(json_pack("{s:I,s:s,s:o,s:o}",
	    "epoch", (json_int_t)p->epoch, "primary", p->primary,
	    "replicas", cluster_rec_ids(p->replicas, p->nreplicas),
	    "in_sync", cluster_rec_ids(p->in_sync, p->nin_sync)));
}

static int
cluster_rec_id_list(json_t *o, const char *name,
                    char ids[][CLUSTER_ID_MAX + 1], size_t *n_r,
                    struct rs_err *err)
{
	json_t *a = json_object_get(o, name), *v;
	size_t i;

	*n_r = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > CLUSTER_REPLICAS_MAX)
		return rs_err_set(err, RS_EINVAL, "%s: bad list", name);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) ||
		    !cluster_rec_name_ok(json_string_value(v), CLUSTER_ID_MAX))
			return rs_err_set(err, RS_EINVAL, "%s: bad node id", name);
		snprintf(ids[i], CLUSTER_ID_MAX + 1, "%s", json_string_value(v));
	}
	*n_r = json_array_size(a);
	return 0;
}

int
cluster_part_parse(uint32_t id, const uint8_t *v, size_t len,
                   struct cluster_part *r, struct rs_err *err)
{
	json_t *o = cluster_rec_load(v, len, err);
	int rc = -1;

	if (o == NULL)
		return -1;
	memset(r, 0, sizeof(*r));
	r->id = id;
	if (cluster_rec_int(o, "epoch", -1, 1, INT64_MAX, &r->epoch, err) != 0 ||
	    cluster_rec_str(o, "primary", "", r->primary, CLUSTER_ID_MAX,
	                    err) != 0 ||
	    cluster_rec_id_list(o, "replicas", r->replicas, &r->nreplicas,
	                        err) != 0 ||
	    cluster_rec_id_list(o, "in_sync", r->in_sync, &r->nin_sync,
	                        err) != 0)
		goto out;
	if (r->primary[0] != '\0' &&
	    !cluster_rec_name_ok(r->primary, CLUSTER_ID_MAX)) {
		rs_err_set(err, RS_EINVAL, "primary: bad node id");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

bool
cluster_part_has_replica(const struct cluster_part *p, const char *id)
{
	for (size_t i = 0; i < p->nreplicas; i++)
		if (strcmp(p->replicas[i], id) == 0)
			return true;
	return false;
}
