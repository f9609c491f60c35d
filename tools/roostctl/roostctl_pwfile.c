/* roostctl_pwfile.c: one line of a Dovecot passwd-file at a time (see the
 * header). Splits in place; knows nothing of schemes beyond the shape of
 * a hash, which the node checks. */
#include "tools/roostctl/roostctl_pwfile.h"

#include <stdlib.h>
#include <string.h>

#define PWFILE_FIELDS 7          /* before the extra fields */

/* A size as a Dovecot quota rule writes it: digits and an optional unit
 * (b, k, M, G, T in either case); unit is the multiplier without one.
 * 0, or -1 (not a plain size: relative, a percentage, garbage). */
static int
pwfile_size(const char *s, size_t n, uint64_t unit, uint64_t *v_r)
{
	uint64_t v = 0, mul = unit;
	size_t i = 0;

	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (i + 1 == n) {
		switch (s[i] | 0x20) {
		case 'b': mul = 1; break;
		case 'k': mul = 1024; break;
		case 'm': mul = 1024 * 1024; break;
		case 'g': mul = 1024ull * 1024 * 1024; break;
		case 't': mul = 1024ull * 1024 * 1024 * 1024; break;
		default: return -1;
		}
	} else if (i != n) {
		return -1;
	}
	if (v > INT64_MAX / mul)
		return -1;
	*v_r = v * mul;
	return 0;
}

/* Looks for the default quota rule among the space-separated extra
 * fields: [userdb_]quota_rule=*:storage=SIZE or *:bytes=N. */
static void
pwfile_quota(const char *extra, struct roostctl_pwent *e)
{
	static const char *const keys[] = { "userdb_quota_rule=*:",
	                                    "quota_rule=*:" };
	const char *p = extra;

	while (*p != '\0') {
		size_t n = strcspn(p, " \t");

		for (size_t k = 0; k < 2; k++) {
			size_t kl = strlen(keys[k]);
			const char *r = p + kl;
			size_t rl = n - kl;

			if (n <= kl || strncmp(p, keys[k], kl) != 0)
				continue;
			/* storage= counts kilobytes unless a unit says. */
			if ((rl > 8 && strncmp(r, "storage=", 8) == 0 &&
			     pwfile_size(r + 8, rl - 8, 1024, &e->quota) == 0) ||
			    (rl > 6 && strncmp(r, "bytes=", 6) == 0 &&
			     pwfile_size(r + 6, rl - 6, 1, &e->quota) == 0))
				e->has_quota = true;
		}
		p += n;
		p += strspn(p, " \t");
	}
}

int
roostctl_pwfile_parse(char *line, struct roostctl_pwent *e,
                      struct rs_err *err)
{
	char *f[PWFILE_FIELDS + 1] = { 0 };
	char *p = line, *at;
	size_t n;

	memset(e, 0, sizeof(*e));
	line[strcspn(line, "\r\n")] = '\0';
	p += strspn(p, " \t");
	if (*p == '\0' || *p == '#')
		return 0;
	/* Seven fields cut at colons; the extra fields keep theirs. */
	for (n = 0; n < PWFILE_FIELDS && p != NULL; n++) {
		f[n] = p;
		p = strchr(p, ':');
		if (p != NULL)
			*p++ = '\0';
	}
	f[PWFILE_FIELDS] = p;
	at = strrchr(f[0], '@');
	if (at == NULL || at == f[0] || at[1] == '\0')
		return rs_err_set(err, RS_EINVAL, "'%.100s' is not an address "
		                  "(user@domain)", f[0]);
	e->addr = f[0];
	if (f[1] == NULL || f[1][0] == '\0')
		return rs_err_set(err, RS_EINVAL, "%.100s: no password hash",
		                  e->addr);
	if (!((f[1][0] == '{' && strchr(f[1], '}') != NULL) || f[1][0] == '$'))
		return rs_err_set(err, RS_EINVAL, "%.100s: the password is no "
		                  "hash ({SCHEME}hash or $id$…)", e->addr);
	e->hash = f[1];
	if (f[4] != NULL && f[4][0] != '\0')
		e->name = f[4];
	if (f[PWFILE_FIELDS] != NULL)
		pwfile_quota(f[PWFILE_FIELDS], e);
	return 1;
}
