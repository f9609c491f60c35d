/* proxy_proto.c: the PROXY protocol header, v1 and v2, byte by byte. The
 * v1 line and the v2 fixed part and TCP address block are copied into one
 * small buffer; v2 bytes we do not interpret (other families' addresses,
 * TLVs) are counted, not kept. Section numbers are those of HAProxy's
 * doc/proxy-protocol.txt. No I/O, no allocation after proxy_proto_new(). */
#include "node/core/proxy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

/* Section 2.2: the 12-octet signature, then version/command, family and
 * a 16-bit length, 16 octets in all. */
#define PP_V2_FIXED 16u
#define PP_V2_TCP6_ADDR 36u           /* 2 * 16 + 2 * 2 */
#define PP_V2_TCP4_ADDR 12u           /* 2 * 4 + 2 * 2 */
#define PP_V2_UNIX_ADDR 216u          /* 2 * 108 */
#define PP_V2_CMD_LOCAL 0x0u
#define PP_V2_CMD_PROXY 0x1u

static const uint8_t pp_v2_sig[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};
static const char pp_v1_sig[] = "PROXY ";

enum pp_state {
	PP_START,         /* nothing yet: the first octet picks the version */
	PP_V1,            /* copying the line up to its LF */
	PP_V2_HEAD,       /* copying the 16 fixed octets */
	PP_V2_BODY,       /* address block and TLVs */
	PP_DONE,          /* returned 1 or -1 */
};

/* Where the next TLV octet falls (section 2.2: type, 16-bit length,
 * value). */
enum pp_tlv {
	PP_TLV_TYPE,
	PP_TLV_LEN_HI,
	PP_TLV_LEN_LO,
	PP_TLV_VALUE,
};

struct proxy_proto {
	enum pp_state state;
	size_t   len;                 /* octets in buf */
	/* v1: the line; v2: the fixed part, then a TCP address block. */
	uint8_t  buf[PROXY_PROTO_V1_MAX + 1];
	/* v2 body: octets in all, octets seen, how many of the first go
	 * into buf, where the address block ends. */
	size_t   body, seen, copy, addr;
	bool     local;               /* keep the connection's addresses */
	bool     tlvs;                /* the rest after addr must be TLVs */
	enum pp_tlv tlv;
	size_t   tlv_left;            /* value octets of the current TLV */
};

struct proxy_proto *
proxy_proto_new(void)
{
	return rs_xcalloc(1, sizeof(struct proxy_proto));
}

void
proxy_proto_free(struct proxy_proto **pp)
{
	RS_FREE(pp);
}

/* Ends the parse with -1. */
static int
pp_fail(struct proxy_proto *p, struct rs_err *err, int code, const char *why)
{
	p->state = PP_DONE;
	return rs_err_set(err, code, "%s", why);
}

/* ---- version 1 (section 2.1) ---- */

/* A port: decimal, [0..65535], no heading zeroes. */
static bool
pp_v1_port(const char *s, uint16_t *port_r)
{
	size_t n = strlen(s);
	unsigned long v = 0;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port_r = (uint16_t)v;
	return true;
}

/* An address of family af into ss (port zero). inet_pton is exactly as
 * strict as section 2.1 asks of IPv4 (four decimal numbers up to 255, no
 * heading zeroes, glibc) and accepts every canonical IPv6 form. */
static bool
pp_v1_addr(int af, const char *ip, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		in->sin_family = AF_INET;
		return inet_pton(AF_INET, ip, &in->sin_addr) == 1;
	}
	in6->sin6_family = AF_INET6;
	return inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1;
}

static void
pp_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* The line without its CRLF, NUL-terminated, "PROXY " checked. The four
 * fields after "TCP4 " or "TCP6 " are split at single spaces: an empty
 * field means a doubled or trailing space. */
static int
pp_v1_line(struct proxy_proto *p, char *line, struct proxy_proto_hdr *h,
           struct rs_err *err)
{
	char *proto = line + sizeof(pp_v1_sig) - 1, *f[4];
	size_t n = 1;
	uint16_t sport, dport;
	int af;

	h->version = 1;
	p->state = PP_DONE;
	/* "UNKNOWN": the receiver must ignore the rest of the line. */
	if (strncmp(proto, "UNKNOWN", 7) == 0 &&
	    (proto[7] == '\0' || proto[7] == ' ')) {
		h->local = true;
		return 1;
	}
	if (strncmp(proto, "TCP4 ", 5) == 0)
		af = AF_INET;
	else if (strncmp(proto, "TCP6 ", 5) == 0)
		af = AF_INET6;
	else
		return pp_fail(p, err, RS_EINVAL, "bad_protocol");
	f[0] = proto + 5;
	for (char *c = f[0]; *c != '\0'; c++) {
		if (*c != ' ')
			continue;
		if (n == 4)
			return pp_fail(p, err, RS_EINVAL, "bad_fields");
		*c = '\0';
		f[n++] = c + 1;
	}
	if (n != 4)
		return pp_fail(p, err, RS_EINVAL, "bad_fields");
	for (size_t i = 0; i < 4; i++)
		if (f[i][0] == '\0')
			return pp_fail(p, err, RS_EINVAL, "bad_fields");
	if (!pp_v1_addr(af, f[0], &h->src) || !pp_v1_addr(af, f[1], &h->dst))
		return pp_fail(p, err, RS_EINVAL, "bad_address");
	if (!pp_v1_port(f[2], &sport) || !pp_v1_port(f[3], &dport))
		return pp_fail(p, err, RS_EINVAL, "bad_port");
	pp_set_port(&h->src, sport);
	pp_set_port(&h->dst, dport);
	return 1;
}

/* Copies line octets until the LF. Section 2.1: US-ASCII text, CRLF and
 * nothing else ends it ("must not tolerate a single CR or LF"), at most
 * 107 octets with the CRLF. */
static int
pp_v1_feed(struct proxy_proto *p, const uint8_t *in, size_t len,
           size_t *used_r, struct proxy_proto_hdr *h, struct rs_err *err)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = in[i];
		bool after_cr = p->len > 0 && p->buf[p->len - 1] == '\r';

		if (c == '\n') {
			if (!after_cr)
				return pp_fail(p, err, RS_EINVAL, "bad_crlf");
			*used_r = i + 1;
			p->buf[p->len - 1] = '\0';
			return pp_v1_line(p, (char *)p->buf, h, err);
		}
		if (after_cr)
			return pp_fail(p, err, RS_EINVAL, "bad_crlf");
		if (p->len + 1 >= PROXY_PROTO_V1_MAX)
			return pp_fail(p, err, RS_ETOOBIG, "too_long");
		if (p->len < sizeof(pp_v1_sig) - 1 &&
		    c != (uint8_t)pp_v1_sig[p->len])
			return pp_fail(p, err, RS_EINVAL, "bad_signature");
		if (c != '\r' && (c < 0x20 || c > 0x7e))
			return pp_fail(p, err, RS_EINVAL, "bad_char");
		p->buf[p->len++] = c;
	}
	*used_r = len;
	return 0;
}

/* ---- version 2 (section 2.2) ---- */

/* The fixed part is complete: version, command, family, length. */
static int
pp_v2_head(struct proxy_proto *p, struct rs_err *err)
{
	unsigned ver = p->buf[12] >> 4, cmd = p->buf[12] & 0x0fu;
	unsigned fam = p->buf[13];

	p->body = ((size_t)p->buf[14] << 8) | p->buf[15];
	if (ver != 2)
		return pp_fail(p, err, RS_EINVAL, "bad_version");
	if (cmd != PP_V2_CMD_LOCAL && cmd != PP_V2_CMD_PROXY)
		return pp_fail(p, err, RS_EINVAL, "bad_command");
	if (PP_V2_FIXED + p->body > PROXY_PROTO_MAX)
		return pp_fail(p, err, RS_ETOOBIG, "too_long");
	p->state = PP_V2_BODY;
	/* LOCAL: "discard the protocol block including the family which
	 * is ignored"; UNSPEC: "the receiver should ignore address
	 * information". Neither says where TLVs would start. */
	p->local = cmd == PP_V2_CMD_LOCAL || fam == 0x00;
	if (p->local)
		return 0;
	switch (fam) {
	case 0x11:                      /* TCP over IPv4 */
		p->addr = p->copy = PP_V2_TCP4_ADDR;
		break;
	case 0x21:                      /* TCP over IPv6 */
		p->addr = p->copy = PP_V2_TCP6_ADDR;
		break;
	/* UDP and UNIX: valid, but not ours; "fall back to the UNSPEC
	 * mode for the valid combinations ... it does not support". */
	case 0x12:
		p->addr = PP_V2_TCP4_ADDR;
		break;
	case 0x22:
		p->addr = PP_V2_TCP6_ADDR;
		break;
	case 0x31:
	case 0x32:
		p->addr = PP_V2_UNIX_ADDR;
		break;
	default:
		return pp_fail(p, err, RS_EINVAL, "bad_family");
	}
	if (p->body < p->addr)
		return pp_fail(p, err, RS_EINVAL, "bad_length");
	p->local = p->copy == 0;
	p->tlvs = true;
	return 0;
}

/* One octet of the TLV area. */
static void
pp_v2_tlv(struct proxy_proto *p, uint8_t c)
{
	switch (p->tlv) {
	case PP_TLV_TYPE:
		p->tlv = PP_TLV_LEN_HI;
		break;
	case PP_TLV_LEN_HI:
		p->tlv_left = (size_t)c << 8;
		p->tlv = PP_TLV_LEN_LO;
		break;
	case PP_TLV_LEN_LO:
		p->tlv_left |= c;
		p->tlv = p->tlv_left > 0 ? PP_TLV_VALUE : PP_TLV_TYPE;
		break;
	case PP_TLV_VALUE:
		if (--p->tlv_left == 0)
			p->tlv = PP_TLV_TYPE;
		break;
	}
}

/* The body is complete: the addresses, if they are ours. */
static int
pp_v2_done(struct proxy_proto *p, struct proxy_proto_hdr *h,
           struct rs_err *err)
{
	const uint8_t *a = p->buf + PP_V2_FIXED;

	if (p->tlvs && p->tlv != PP_TLV_TYPE)
		return pp_fail(p, err, RS_EINVAL, "bad_tlv");
	p->state = PP_DONE;
	h->version = 2;
	h->local = p->local;
	if (p->copy == PP_V2_TCP4_ADDR) {
		struct sockaddr_in *s = (struct sockaddr_in *)&h->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&h->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
	} else if (p->copy == PP_V2_TCP6_ADDR) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&h->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
	}
	return 1;
}

static int
pp_v2_feed(struct proxy_proto *p, const uint8_t *in, size_t len,
           size_t *used_r, struct proxy_proto_hdr *h, struct rs_err *err)
{
	size_t i = 0;

	while (p->state == PP_V2_HEAD && i < len) {
		uint8_t c = in[i++];

		/* Section 7: reject at the first octet that cannot be. */
		if (p->len < sizeof(pp_v2_sig) && c != pp_v2_sig[p->len])
			return pp_fail(p, err, RS_EINVAL, "bad_signature");
		p->buf[p->len++] = c;
		if (p->len == PP_V2_FIXED && pp_v2_head(p, err) < 0)
			return -1;
	}
	while (p->state == PP_V2_BODY && p->seen < p->body && i < len) {
		uint8_t c = in[i++];

		if (p->seen < p->copy)
			p->buf[PP_V2_FIXED + p->seen] = c;
		else if (p->seen >= p->addr && p->tlvs)
			pp_v2_tlv(p, c);
		p->seen++;
	}
	*used_r = i;
	if (p->state == PP_V2_BODY && p->seen == p->body)
		return pp_v2_done(p, h, err);
	return 0;
}

int
proxy_proto_feed(struct proxy_proto *p, const uint8_t *in, size_t len,
                 size_t *used_r, struct proxy_proto_hdr *hdr_r,
                 struct rs_err *err)
{
	*used_r = 0;
	if (p->state == PP_DONE)
		return rs_err_set(err, RS_EINVAL, "finished");
	memset(hdr_r, 0, sizeof(*hdr_r));
	if (p->state == PP_START) {
		if (len == 0)
			return 0;
		/* Section 2.2: "PROXY" is v1, the signature's CR is v2. */
		if (in[0] == (uint8_t)pp_v1_sig[0])
			p->state = PP_V1;
		else if (in[0] == pp_v2_sig[0])
			p->state = PP_V2_HEAD;
		else
			return pp_fail(p, err, RS_EINVAL, "bad_signature");
	}
	if (p->state == PP_V1)
		return pp_v1_feed(p, in, len, used_r, hdr_r, err);
	return pp_v2_feed(p, in, len, used_r, hdr_r, err);
}
