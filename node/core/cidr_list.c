/* cidr_list.c: networks as (family, 16 address octets, prefix length);
 * matching compares the whole octets of the prefix, then the masked rest.
 * A linear scan: the lists are a handful of proxies. */
#include "node/core/cidr_list.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

/* "ffff:…:255.255.255.255/128" fits with room to spare. */
#define CIDR_TEXT_MAX 64

struct cidr_net {
	int      family;              /* AF_INET or AF_INET6 */
	uint8_t  addr[16];            /* 4 or 16 octets used */
	unsigned prefix;              /* bits */
};

struct cidr_list {
	struct cidr_net *nets;        /* owns */
	size_t           n;
};

/* Whether the first prefix bits of a and b agree. */
static bool
cidr_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));

	if (memcmp(a, b, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ b[whole]) & mask) == 0;
}

/* A prefix length: decimal, no heading zero, at most max. */
static bool
cidr_prefix_parse(const char *s, unsigned max, unsigned *v_r)
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*v_r = v;
	return true;
}

/* One entry, already trimmed, of at most CIDR_TEXT_MAX - 1 octets. */
static int
cidr_net_parse(char *s, struct cidr_net *net, struct rs_err *err)
{
	char *slash = strchr(s, '/');
	unsigned max;

	if (slash != NULL)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	net->family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	max = net->family == AF_INET ? 32 : 128;
	if (inet_pton(net->family, s, net->addr) != 1)
		return rs_err_set(err, RS_EINVAL, "bad address \"%s\"", s);
	net->prefix = max;
	if (slash != NULL && !cidr_prefix_parse(slash + 1, max, &net->prefix))
		return rs_err_set(err, RS_EINVAL, "bad prefix length \"%s\" "
		                  "after %s", slash + 1, s);
	/* The bits after the prefix must be zero. */
	for (unsigned bit = net->prefix; bit < max; bit++)
		if ((net->addr[bit / 8] >> (7 - bit % 8)) & 1u)
			return rs_err_set(err, RS_EINVAL, "%s/%u has host bits "
			                  "set", s, net->prefix);
	return 0;
}

int
cidr_list_parse(const char *text, struct cidr_list **r, struct rs_err *err)
{
	struct cidr_list *l = rs_xcalloc(1, sizeof(*l));
	const char *p = text;

	while (*p == ' ' || *p == '\t')
		p++;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		char item[CIDR_TEXT_MAX];

		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(item)) {
			cidr_list_free(&l);
			return rs_err_set(err, RS_EINVAL, n == 0 ? "empty entry"
			                  : "entry too long");
		}
		memcpy(item, p, n);
		item[n] = '\0';
		l->nets = rs_xreallocarray(l->nets, l->n + 1, sizeof(*l->nets));
		if (cidr_net_parse(item, &l->nets[l->n], err) != 0) {
			cidr_list_free(&l);
			return -1;
		}
		l->n++;
		if (end == NULL)
			break;
		p = end + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0') {
			cidr_list_free(&l);
			return rs_err_set(err, RS_EINVAL, "empty entry");
		}
	}
	*r = l;
	return 0;
}

void
cidr_list_free(struct cidr_list **pp)
{
	if (*pp == NULL)
		return;
	free((*pp)->nets);
	RS_FREE(pp);
}

bool
cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
	const uint8_t *v4 = NULL, *v6 = NULL;

	if (l == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		v4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *in6 =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		v6 = in6->s6_addr;
		/* RFC 4291 section 2.5.5.2: an IPv4 client on a dual-stack
		 * socket is also that IPv4 address. */
		if (IN6_IS_ADDR_V4MAPPED(in6))
			v4 = v6 + 12;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct cidr_net *net = &l->nets[i];
		const uint8_t *a = net->family == AF_INET ? v4 : v6;

		if (a != NULL && cidr_prefix_eq(net->addr, a, net->prefix))
			return true;
	}
	return false;
}

size_t
cidr_list_count(const struct cidr_list *l)
{
	return l != NULL ? l->n : 0;
}
