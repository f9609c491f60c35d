/* roostctl_args.c: option parsing for subcommands, sizes in and out, the
 * --node check and token-line trimming. Pure (no I/O); what each option
 * means is up to the command files. */
#include "tools/roostctl/roostctl_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "lib/rs_config.h"
#include "lib/rs_mem.h"

static const struct roostctl_optspec *
roostctl_args_find(const struct roostctl_optspec *spec, size_t nspec,
                   const char *name, size_t len, size_t *idx_r)
{
	for (size_t i = 0; i < nspec; i++) {
		if (strlen(spec[i].name) == len &&
		    memcmp(spec[i].name, name, len) == 0) {
			*idx_r = i;
			return &spec[i];
		}
	}
	return NULL;
}

/* Handles the option at argv[*i] ("--name", "--name=v"); may consume the
 * next word as its value. 0, 1 (help) or -1. */
static int
roostctl_args_option(struct roostctl_args *a, int argc, char *const *argv,
                     int *i, struct rs_err *err)
{
	const char *word = argv[*i], *name = word + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const struct roostctl_optspec *s;
	struct roostctl_optval *v;
	size_t idx;

	if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0)
		return 1;
	if (word[1] != '-')
		return rs_err_set(err, RS_EINVAL, "unknown option '%s'", word);
	s = roostctl_args_find(a->spec, a->nspec, name, len, &idx);
	if (s == NULL)
		return rs_err_set(err, RS_EINVAL, "unknown option '--%.*s'",
		                  (int)len, name);
	if (s->kind == ROOSTCTL_OPT_FLAG && eq != NULL)
		return rs_err_set(err, RS_EINVAL, "option '--%s' takes no "
		                  "value", s->name);
	if (!s->repeat && roostctl_args_has(a, s->name))
		return rs_err_set(err, RS_EINVAL, "option '--%s' given twice",
		                  s->name);
	v = &a->opt[a->nopt];
	v->spec = idx;
	if (s->kind == ROOSTCTL_OPT_FLAG) {
		v->val = "";
	} else if (eq != NULL) {
		v->val = eq + 1;
	} else {
		/* The next word is the value even if it starts with '-': a
		 * display name may. */
		if (*i + 1 >= argc)
			return rs_err_set(err, RS_EINVAL, "option '--%s' "
			                  "needs a value", s->name);
		v->val = argv[++*i];
	}
	if (s->kind == ROOSTCTL_OPT_SIZE &&
	    roostctl_args_size(v->val, &v->size) != 0)
		return rs_err_set(err, RS_EINVAL, "bad --%s '%s': want bytes "
		                  "or a number with K, M or G (500M, 2G)",
		                  s->name, v->val);
	a->nopt++;
	return 0;
}

int
roostctl_args_parse(struct roostctl_args *a,
                    const struct roostctl_optspec *spec, size_t nspec,
                    int argc, char *const *argv, struct rs_err *err)
{
	bool opts_done = false;

	memset(a, 0, sizeof(*a));
	a->spec = spec;
	a->nspec = nspec;
	/* Each word is at most one option or one positional argument. */
	a->pos = rs_xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*a->pos));
	a->opt = rs_xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*a->opt));
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		int rc;

		if (!opts_done && strcmp(w, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (opts_done || w[0] != '-' || w[1] == '\0') {
			a->pos[a->npos++] = w;
			continue;
		}
		rc = roostctl_args_option(a, argc, argv, &i, err);
		if (rc != 0)
			return rc;
	}
	for (size_t k = 0; k < nspec; k++)
		if (spec[k].required && !roostctl_args_has(a, spec[k].name))
			return rs_err_set(err, RS_EINVAL, "missing --%s",
			                  spec[k].name);
	return 0;
}

void
roostctl_args_free(struct roostctl_args *a)
{
	RS_FREE(&a->pos);
	RS_FREE(&a->opt);
	a->npos = 0;
	a->nopt = 0;
}

const char *
roostctl_args_get_nth(const struct roostctl_args *a, const char *name,
                      size_t i)
{
	for (size_t k = 0; k < a->nopt; k++) {
		if (strcmp(a->spec[a->opt[k].spec].name, name) != 0)
			continue;
		if (i-- == 0)
			return a->opt[k].val;
	}
	return NULL;
}

const char *
roostctl_args_get(const struct roostctl_args *a, const char *name)
{
	return roostctl_args_get_nth(a, name, 0);
}

bool
roostctl_args_has(const struct roostctl_args *a, const char *name)
{
	return roostctl_args_get(a, name) != NULL;
}

bool
roostctl_args_get_size(const struct roostctl_args *a, const char *name,
                       uint64_t *v_r)
{
	for (size_t k = 0; k < a->nopt; k++) {
		if (strcmp(a->spec[a->opt[k].spec].name, name) == 0) {
			*v_r = a->opt[k].size;
			return true;
		}
	}
	return false;
}

size_t
roostctl_args_count(const struct roostctl_args *a, const char *name)
{
	size_t n = 0;

	for (size_t k = 0; k < a->nopt; k++)
		if (strcmp(a->spec[a->opt[k].spec].name, name) == 0)
			n++;
	return n;
}

int
roostctl_args_size(const char *s, uint64_t *v_r)
{
	/* The same grammar as sizes in the configuration file, so that
	 * "quota = 2G" and "--quota 2G" mean one thing. */
	uint64_t v;

	if (rs_config_parse_size(s, &v) != 0 || v > ROOSTCTL_ARGS_SIZE_MAX)
		return RS_EINVAL;
	*v_r = v;
	return 0;
}

char *
roostctl_args_size_str(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	unsigned u = 0;
	uint64_t div = 1024;
	double x;

	if (v < 1024) {
		snprintf(buf, size, "%llu", (unsigned long long)v);
		return buf;
	}
	while (u + 1 < sizeof(units) - 1 && v / div >= 1024) {
		div *= 1024;
		u++;
	}
	if (v % div == 0) {
		snprintf(buf, size, "%llu%c", (unsigned long long)(v / div),
		         units[u]);
		return buf;
	}
	x = (double)v / (double)div;
	/* Rounding may carry into the next unit: 1023.9K prints as 1.0M. */
	if (x >= 1023.5 && u + 1 < sizeof(units) - 1) {
		x /= 1024;
		u++;
	}
	if (x < 9.95)
		snprintf(buf, size, "%.1f%c", x, units[u]);
	else
		snprintf(buf, size, "%.0f%c", x, units[u]);
	return buf;
}

int
roostctl_args_node(const char *s, struct rs_err *err)
{
	const char *colon;
	uint64_t port;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end == s + 1 || end[1] != ':')
			return rs_err_set(err, RS_EINVAL, "want [ADDR]:PORT");
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || colon == s)
			return rs_err_set(err, RS_EINVAL, "want HOST:PORT");
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return rs_err_set(err, RS_EINVAL, "write an IPv6 "
			                  "address as [ADDR]:PORT");
	}
	if (strcspn(s, " \t\r\n/?#@%\\") != strlen(s))
		return rs_err_set(err, RS_EINVAL, "want HOST:PORT");
	if (rs_str_to_u64(rs_str_cstr(colon + 1), 65535, &port) != 0 ||
	    port == 0)
		return rs_err_set(err, RS_EINVAL, "bad port '%s'", colon + 1);
	return 0;
}

size_t
roostctl_args_first_line(char *s, size_t len)
{
	struct rs_str t;
	size_t n = 0;

	while (n < len && s[n] != '\n' && s[n] != '\r')
		n++;
	t = rs_str_trim(rs_str_make(s, n));
	memmove(s, t.p, t.len);
	s[t.len] = '\0';
	return t.len;
}
