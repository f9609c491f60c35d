/* rs_config.c: key = value configuration parsing and typed getters. */
#include "lib/rs_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"

struct rs_config_kv {
	char *key;             /* owns */
	char *value;           /* owns */
};

struct rs_config {
	struct rs_config_kv *kv;   /* owns */
	size_t n, cap;
};

struct rs_config *
rs_config_new(void)
{
	return rs_xcalloc(1, sizeof(struct rs_config));
}

void
rs_config_free(struct rs_config **pp)
{
	struct rs_config *c = *pp;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->kv[i].key);
		free(c->kv[i].value);
	}
	free(c->kv);
	free(c);
	*pp = NULL;
}

static struct rs_config_kv *
rs_config_find(const struct rs_config *c, const char *key, size_t klen)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strlen(c->kv[i].key) == klen &&
		    memcmp(c->kv[i].key, key, klen) == 0)
			return &c->kv[i];
	}
	return NULL;
}

static int
rs_config_put_n(struct rs_config *c, const char *key, size_t klen,
                const char *val, size_t vlen)
{
	struct rs_config_kv *kv = rs_config_find(c, key, klen);

	if (kv != NULL) {
		free(kv->value);
		kv->value = rs_xstrndup(val, vlen);
		return 0;
	}
	if (c->n >= RS_CONFIG_MAX_KEYS)
		return RS_ETOOBIG;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->kv = rs_xreallocarray(c->kv, c->cap, sizeof(*c->kv));
	}
	c->kv[c->n].key = rs_xstrndup(key, klen);
	c->kv[c->n].value = rs_xmemdup(val, vlen);
	c->n++;
	return 0;
}

void
rs_config_put(struct rs_config *c, const char *key, const char *value)
{
	/* Program-supplied keys: the key limit is far above what code sets. */
	(void)rs_config_put_n(c, key, strlen(key), value, strlen(value));
}

static int
rs_config_key_ok(struct rs_str k)
{
	if (k.len == 0 || k.len > 128)
		return 0;
	for (size_t i = 0; i < k.len; i++) {
		char ch = k.p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

/* The value of a line, from just after '=': a quoted string, or the text
 * up to an inline comment (a '#' after a space or tab), trimmed. A
 * quoted value ends at the next '"'; only a comment may follow it.
 * 0, or -1 when a quote is not closed properly. */
static int
rs_config_value(struct rs_str raw, struct rs_str *out)
{
	struct rs_str v = rs_str_trim(raw);

	if (v.len > 0 && v.p[0] == '"') {
		const char *q = v.len > 1 ? memchr(v.p + 1, '"', v.len - 1)
		                          : NULL;
		struct rs_str rest;

		if (q == NULL)
			return -1;
		rest = rs_str_trim(rs_str_make(q + 1, v.len -
		                               (size_t)(q + 1 - v.p)));
		if (rest.len > 0 && rest.p[0] != '#')
			return -1;
		*out = rs_str_make(v.p + 1, (size_t)(q - v.p - 1));
		return 0;
	}
	/* In the raw text, so that "k =  # note" is an empty value. */
	for (size_t i = 1; i < raw.len; i++) {
		if (raw.p[i] == '#' &&
		    (raw.p[i - 1] == ' ' || raw.p[i - 1] == '\t')) {
			raw.len = i;
			break;
		}
	}
	*out = rs_str_trim(raw);
	return 0;
}

/* Parses one "key = value" line (no newline). */
static int
rs_config_line(struct rs_config *c, struct rs_str line, const char *origin,
               size_t lineno, struct rs_err *err)
{
	const char *eq;
	struct rs_str k, v;

	line = rs_str_trim(line);
	if (line.len > 0 && line.p[line.len - 1] == '\r')
		line = rs_str_trim(rs_str_make(line.p, line.len - 1));
	if (line.len == 0 || line.p[0] == '#')
		return 0;
	if (memchr(line.p, '\0', line.len) != NULL)
		return rs_err_set(err, RS_EINVAL, "%s:%zu: NUL byte", origin,
		                  lineno);
	eq = memchr(line.p, '=', line.len);
	if (eq == NULL)
		return rs_err_set(err, RS_EINVAL, "%s:%zu: expected key = value",
		                  origin, lineno);
	k = rs_str_trim(rs_str_make(line.p, (size_t)(eq - line.p)));
	if (!rs_config_key_ok(k))
		return rs_err_set(err, RS_EINVAL, "%s:%zu: bad key", origin,
		                  lineno);
	if (rs_config_value(rs_str_make(eq + 1, line.len -
	                                (size_t)(eq - line.p) - 1), &v) != 0)
		return rs_err_set(err, RS_EINVAL,
		                  "%s:%zu: unterminated quote", origin, lineno);
	if (rs_config_put_n(c, k.p, k.len, v.p, v.len) != 0)
		return rs_err_set(err, RS_ETOOBIG, "%s:%zu: too many keys",
		                  origin, lineno);
	return 0;
}

int
rs_config_parse(struct rs_config *c, const char *text, size_t len,
                const char *origin, struct rs_err *err)
{
	size_t pos = 0, lineno = 0;

	if (len > RS_CONFIG_MAX_FILE)
		return rs_err_set(err, RS_ETOOBIG, "%s: file too large", origin);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		lineno++;
		if (end - pos > RS_CONFIG_MAX_LINE)
			return rs_err_set(err, RS_ETOOBIG, "%s:%zu: line too long",
			                  origin, lineno);
		if (rs_config_line(c, rs_str_make(text + pos, end - pos), origin,
		                   lineno, err) != 0)
			return -1;
		pos = end + 1;
	}
	return 0;
}

int
rs_config_load_file(struct rs_config *c, const char *path, struct rs_err *err)
{
	struct rs_buf b;
	char chunk[8192];
	int fd, rc;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rs_err_set(err, RS_EIO, "%s: %s", path, strerror(errno));
	rs_buf_init(&b, RS_CONFIG_MAX_FILE);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (rs_buf_append(&b, chunk, (size_t)n) != 0) {
			close(fd);
			rs_buf_free(&b);
			return rs_err_set(err, RS_ETOOBIG, "%s: file too large",
			                  path);
		}
	}
	close(fd);
	if (n < 0) {
		rs_buf_free(&b);
		return rs_err_set(err, RS_EIO, "%s: %s", path, strerror(errno));
	}
	rc = rs_config_parse(c, (const char *)b.data, b.len, path, err);
	rs_buf_free(&b);
	return rc;
}

int
rs_config_set(struct rs_config *c, const char *kv, struct rs_err *err)
{
	return rs_config_parse(c, kv, strlen(kv), "--set", err);
}

const char *
rs_config_get(const struct rs_config *c, const char *key)
{
	struct rs_config_kv *kv = rs_config_find(c, key, strlen(key));

	return kv != NULL ? kv->value : NULL;
}

const char *
rs_config_get_str(const struct rs_config *c, const char *key, const char *def)
{
	const char *v = rs_config_get(c, key);

	return v != NULL ? v : def;
}

int
rs_config_parse_size(const char *s, uint64_t *v_r)
{
	size_t len = strlen(s);
	uint64_t mult = 1, v;

	if (len > 0) {
		switch (s[len - 1]) {
		case 'k': case 'K': mult = 1024; len--; break;
		case 'm': case 'M': mult = 1024 * 1024; len--; break;
		case 'g': case 'G': mult = 1024ull * 1024 * 1024; len--; break;
		default: break;
		}
	}
	if (rs_str_to_u64(rs_str_make(s, len), UINT64_MAX / mult, &v) != 0)
		return RS_EINVAL;
	*v_r = v * mult;
	return 0;
}

int
rs_config_get_u64(const struct rs_config *c, const char *key, uint64_t def,
                  uint64_t min, uint64_t max, uint64_t *v_r,
                  struct rs_err *err)
{
	const char *s = rs_config_get(c, key);
	uint64_t v = def;

	if (s != NULL && rs_config_parse_size(s, &v) != 0)
		return rs_err_set(err, RS_EINVAL, "%s: not a number: %s", key, s);
	if (v < min || v > max)
		return rs_err_set(err, RS_EINVAL,
		                  "%s: %llu out of range %llu..%llu", key,
		                  (unsigned long long)v, (unsigned long long)min,
		                  (unsigned long long)max);
	*v_r = v;
	return 0;
}

int
rs_config_get_ms(const struct rs_config *c, const char *key, uint64_t def_ms,
                 uint64_t *v_r, struct rs_err *err)
{
	const char *s = rs_config_get(c, key);
	size_t len, unit;
	uint64_t mult = 1000, v;

	if (s == NULL) {
		*v_r = def_ms;
		return 0;
	}
	len = strlen(s);
	unit = len;
	while (unit > 0 && (s[unit - 1] < '0' || s[unit - 1] > '9'))
		unit--;
	if (strcmp(s + unit, "ms") == 0)
		mult = 1;
	else if (strcmp(s + unit, "s") == 0 || s[unit] == '\0')
		mult = 1000;
	else if (strcmp(s + unit, "m") == 0)
		mult = 60000;
	else if (strcmp(s + unit, "h") == 0)
		mult = 3600000;
	else
		return rs_err_set(err, RS_EINVAL, "%s: bad duration: %s", key, s);
	if (rs_str_to_u64(rs_str_make(s, unit), UINT64_MAX / mult, &v) != 0)
		return rs_err_set(err, RS_EINVAL, "%s: bad duration: %s", key, s);
	*v_r = v * mult;
	return 0;
}

int
rs_config_get_bool(const struct rs_config *c, const char *key, bool def,
                   bool *v_r, struct rs_err *err)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	const char *s = rs_config_get(c, key);

	if (s == NULL) {
		*v_r = def;
		return 0;
	}
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v_r = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v_r = false;
			return 0;
		}
	}
	return rs_err_set(err, RS_EINVAL, "%s: expected yes or no: %s", key, s);
}

size_t
rs_config_count(const struct rs_config *c)
{
	return c->n;
}

const char *
rs_config_key_at(const struct rs_config *c, size_t i)
{
	return i < c->n ? c->kv[i].key : NULL;
}
