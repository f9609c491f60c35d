/* coord_etcd_json.c: the JSON the gateway speaks: keys and values in
 * base64, int64 fields as decimal strings, errors as gRPC status bodies.
 * Pure: no I/O. Everything read from etcd is checked, never asserted. */
#include "cluster/coord_etcd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_base64.h"
#include "lib/rs_mem.h"

/* Jansson fails only without memory; so do we (as rs_xmalloc does). */
static json_t *
ce_json_check(json_t *j)
{
	if (j == NULL) {
		fprintf(stderr, "fatal: out of memory building JSON\n");
		abort();
	}
	return j;
}

json_t *
coord_etcd__b64(const void *p, size_t n)
{
	char *s = rs_xmalloc(rs_base64_encoded_size(n));
	size_t len = rs_base64_encode(p, n, s);
	json_t *j = json_stringn(s, len);

	free(s);
	return ce_json_check(j);
}

json_t *
coord_etcd__i64_new(int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	return ce_json_check(json_string(s));
}

int
coord_etcd__i64(const json_t *obj, const char *name, int64_t *v_r)
{
	const json_t *j = json_object_get(obj, name);
	const char *s;
	char *end;
	long long v;

	*v_r = 0;
	if (j == NULL)
		return 0;
	if (json_is_integer(j)) {
		*v_r = json_integer_value(j);
		return 0;
	}
	s = json_string_value(j);
	if (s == NULL || s[0] == '\0')
		return RS_EIO;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return RS_EIO;
	*v_r = v;
	return 0;
}

char *
coord_etcd__dump(json_t *o)
{
	char *s = json_dumps(ce_json_check(o), JSON_COMPACT);

	json_decref(o);
	if (s == NULL) {
		fprintf(stderr, "fatal: out of memory writing JSON\n");
		abort();
	}
	return s;
}

/* Decodes obj.name (absent: empty) into an owned NUL-ended buffer. */
static int
ce_unb64(const json_t *obj, const char *name, uint8_t **p_r, size_t *len_r)
{
	const json_t *j = json_object_get(obj, name);
	const char *s = "";
	size_t n = 0;

	if (j != NULL) {
		s = json_string_value(j);
		if (s == NULL)
			return RS_EIO;
		n = json_string_length(j);
	}
	*p_r = rs_xmalloc(n / 4 * 3 + 1);
	if (rs_base64_decode(s, n, *p_r, len_r) != 0) {
		RS_FREE(p_r);
		return RS_EIO;
	}
	(*p_r)[*len_r] = '\0';
	return 0;
}

int
coord_etcd__kv_parse(const json_t *kv, struct coord_kv *out,
                     struct rs_err *err)
{
	uint8_t *key = NULL, *val = NULL;
	size_t klen, vlen;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(kv) || ce_unb64(kv, "key", &key, &klen) != 0)
		return rs_err_set(err, RS_EIO, "etcd: a kv without a key");
	if (klen == 0 || memchr(key, '\0', klen) != NULL) {
		free(key);
		return rs_err_set(err, RS_EIO, "etcd: an empty key or one "
		                  "with a NUL byte");
	}
	if (ce_unb64(kv, "value", &val, &vlen) != 0 ||
	    coord_etcd__i64(kv, "create_revision", &out->create_rev) != 0 ||
	    coord_etcd__i64(kv, "mod_revision", &out->mod_rev) != 0) {
		free(key);
		free(val);
		return rs_err_set(err, RS_EIO, "etcd: a malformed kv");
	}
	out->key = (char *)key;
	out->value = val;
	out->len = vlen;
	return 0;
}

void
coord_etcd__kv_free(struct coord_kv *kv)
{
	free((char *)kv->key);
	free((uint8_t *)kv->value);
	kv->key = NULL;
	kv->value = NULL;
}

/* etcd's prefix range ends at the prefix with its last byte below 0xff
 * incremented (and the 0xff bytes after it dropped). */
size_t
coord_etcd__prefix_end(const char *prefix, uint8_t *out)
{
	size_t n = strlen(prefix);

	memcpy(out, prefix, n);
	while (n > 0) {
		if (out[n - 1] < 0xff) {
			out[n - 1]++;
			return n;
		}
		n--;
	}
	out[0] = '\0';
	return 1;
}

bool
coord_etcd__grpc_error(const json_t *root, int *code_r, const char **msg_r)
{
	const json_t *e = json_object_get(root, "error");
	const json_t *code;

	if (json_is_object(e)) {
		/* A stream's error: {"error": {"grpc_code", "message"}}. */
		code = json_object_get(e, "grpc_code");
		*msg_r = json_string_value(json_object_get(e, "message"));
	} else {
		/* {"error": "…", "code": N, "message": "…"}; a
		 * LeaseGrantResponse has an "error" too, but no code. */
		code = json_object_get(root, "code");
		*msg_r = json_string_value(e);
	}
	if (!json_is_integer(code) || json_object_get(root, "header") != NULL)
		return false;
	*code_r = (int)json_integer_value(code);
	if (*msg_r == NULL)
		*msg_r = "(no message)";
	return true;
}

int
coord_etcd__grpc_rc(int code, const char *msg)
{
	switch (code) {
	case 3:                         /* InvalidArgument */
		if (strstr(msg, "authentication failed") != NULL ||
		    strstr(msg, "user name is empty") != NULL)
			return RS_EPERM;
		if (strstr(msg, "too large") != NULL)
			return RS_ETOOBIG;
		return RS_EINVAL;
	case CE_GRPC_NOT_FOUND:
		return RS_ENOTFOUND;
	case 7:                         /* PermissionDenied */
	case CE_GRPC_UNAUTHENTICATED:
		return RS_EPERM;
	case 8:                         /* ResourceExhausted */
		/* "too many requests", "database space exceeded": etcd
		 * takes nothing now; anything else is about this request. */
		if (strstr(msg, "too many") != NULL ||
		    strstr(msg, "space exceeded") != NULL)
			return RS_EUNAVAIL;
		return RS_ETOOBIG;
	case 4:                         /* DeadlineExceeded */
	case CE_GRPC_UNAVAILABLE:
		return RS_EUNAVAIL;
	case 9:                         /* FailedPrecondition */
	case CE_GRPC_OUT_OF_RANGE:      /* a compacted or future revision */
		return RS_EINVAL;
	default:
		return RS_EIO;
	}
}
