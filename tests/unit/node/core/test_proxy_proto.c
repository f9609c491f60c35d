/* test_proxy_proto.c: PROXY protocol headers v1 and v2, valid and not,
 * fed whole and one byte at a time; both ways must give the same result,
 * and a valid header must consume exactly its own octets. */
#include <stdio.h>
#include <stdlib.h>

#include "node/core/netaddr.h"
#include "node/core/proxy_proto.h"
#include "tests/unit/test.h"

/* The v2 signature (it holds a NUL, so inputs carry their length). */
#define SIG "\r\n\r\n\0\r\nQUIT\n"
#define IN(s) (const uint8_t *)(s), sizeof(s) - 1

struct pp_case {
	const uint8_t *in;
	size_t         len;
	int            want_rc;
	size_t         want_used;    /* rc 1: the header's length */
	unsigned       want_version;
	bool           want_local;
	const char    *want_src;     /* netaddr_format; NULL if local */
	const char    *want_dst;
	const char    *want_reason;  /* rc -1 */
};

/* What one run gives: rc, octets used up to the result, the header. */
struct pp_run {
	int    rc;
	size_t used;
	struct proxy_proto_hdr hdr;
	char   reason[sizeof(((struct rs_err *)0)->msg)];
};

static void
pp_run(const uint8_t *in, size_t len, size_t step, struct pp_run *r)
{
	struct proxy_proto *p = proxy_proto_new();
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step, used = 0;
		struct rs_err err = { 0 };

		r->rc = proxy_proto_feed(p, in + pos, n, &used, &r->hdr, &err);
		TEST_ASSERT(used <= n);
		TEST_ASSERT(r->rc != 0 || used == n);
		r->used += used;
		pos += n;
		if (r->rc < 0)
			snprintf(r->reason, sizeof(r->reason), "%s", err.msg);
		if (r->rc != 0)
			break;
	}
	proxy_proto_free(&p);
	TEST_ASSERT(p == NULL);
}

static void
pp_check(const struct pp_case *c, size_t i, const struct pp_run *r)
{
	char buf[NETADDR_TEXT_MAX];

	TEST_ASSERT_IDX(r->rc == c->want_rc, i);
	if (r->rc < 0) {
		TEST_ASSERT_IDX(strcmp(r->reason, c->want_reason) == 0, i);
		return;
	}
	TEST_ASSERT_IDX(r->used == c->want_used, i);
	if (r->rc == 0)
		return;
	TEST_ASSERT_IDX(r->hdr.version == c->want_version, i);
	TEST_ASSERT_IDX(r->hdr.local == c->want_local, i);
	if (c->want_local) {
		TEST_ASSERT_IDX(r->hdr.src.ss_family == 0, i);
		return;
	}
	netaddr_format((const struct sockaddr *)&r->hdr.src, buf, sizeof(buf));
	TEST_ASSERT_IDX(strcmp(buf, c->want_src) == 0, i);
	netaddr_format((const struct sockaddr *)&r->hdr.dst, buf, sizeof(buf));
	TEST_ASSERT_IDX(strcmp(buf, c->want_dst) == 0, i);
}

#define V1_TCP4 "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n"
#define V2_TCP4 SIG "\x21\x11\x00\x0c" "\xc0\x00\x02\x01" "\xc6\x33\x64\x02" \
	"\xdc\x04" "\x00\x19"

static const struct pp_case pp_cases[] = {
	/* ---- v1 ---- */
	{ IN(V1_TCP4), 1, 44, 1, false, "192.0.2.1:56324",
	  "198.51.100.2:25", NULL },
	/* The client's pipelined bytes are not the header's. */
	{ IN(V1_TCP4 "EHLO x\r\n"), 1, 44, 1, false, "192.0.2.1:56324",
	  "198.51.100.2:25", NULL },
	{ IN("PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n"), 1, 44, 1,
	  false, "[2001:db8::1]:0", "[2001:db8::2]:65535", NULL },
	{ IN("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\nX"), 1, 37, 1, false,
	  "[::ffff:192.0.2.1]:1", "[::1]:2", NULL },
	{ IN("PROXY UNKNOWN\r\n"), 1, 15, 1, true, NULL, NULL, NULL },
	{ IN("PROXY UNKNOWN ffff::1 ffff::2 65535 65535\r\nA"), 1, 43, 1, true,
	  NULL, NULL, NULL },
	/* Section 2.1: 107 octets with the CRLF, no more. */
	{ IN("PROXY UNKNOWN "
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"), 1, 107, 1, true, NULL,
	  NULL, NULL },
	{ IN("PROXY UNKNOWN "
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"), -1, 0, 0, false, NULL,
	  NULL, "too_long" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 56324"), 0, 39, 0, false,
	  NULL, NULL, NULL },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_crlf" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\r\n"), -1, 0, 0,
	  false, NULL, NULL, "bad_crlf" },
	{ IN("PROXY UNKNOWN a\rb\r\n"), -1, 0, 0, false, NULL, NULL,
	  "bad_crlf" },
	{ IN("PROXY TCP4 192.0.2.1  198.51.100.2 56324 25\r\n"), -1, 0, 0,
	  false, NULL, NULL, "bad_fields" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25 \r\n"), -1, 0, 0,
	  false, NULL, NULL, "bad_fields" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_fields" },
	{ IN("PROXY  TCP4 192.0.2.1 198.51.100.2 1 2\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_protocol" },
	{ IN("PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_protocol" },
	{ IN("PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_protocol" },
	{ IN("PROXY UNKNOWNX\r\n"), -1, 0, 0, false, NULL, NULL,
	  "bad_protocol" },
	{ IN("PROXY \r\n"), -1, 0, 0, false, NULL, NULL, "bad_protocol" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n"), -1, 0, 0,
	  false, NULL, NULL, "bad_port" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 056324 25\r\n"), -1, 0, 0,
	  false, NULL, NULL, "bad_port" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 -1 25\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_port" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 1 2x\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_port" },
	{ IN("PROXY TCP4 192.0.2.01 198.51.100.2 1 25\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_address" },
	{ IN("PROXY TCP4 256.0.2.1 198.51.100.2 1 25\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_address" },
	{ IN("PROXY TCP4 2001:db8::1 198.51.100.2 1 25\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_address" },
	{ IN("PROXY TCP6 192.0.2.1 2001:db8::2 1 25\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_address" },
	{ IN("PROXY TCP4 1.2.3 198.51.100.2 1 25\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_address" },
	{ IN("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\x01\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_char" },
	{ IN("PROXY UNKNOWN \xc3\xa9\r\n"), -1, 0, 0, false, NULL, NULL,
	  "bad_char" },
	{ IN("PROXX TCP4 192.0.2.1 198.51.100.2 1 2\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_signature" },
	{ IN("proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n"), -1, 0, 0, false,
	  NULL, NULL, "bad_signature" },
	{ IN("EHLO client.example\r\n"), -1, 0, 0, false, NULL, NULL,
	  "bad_signature" },
	{ IN("PROXYTCP4\r\n"), -1, 0, 0, false, NULL, NULL,
	  "bad_signature" },
	/* ---- v2 ---- */
	{ IN(V2_TCP4), 1, 28, 2, false, "192.0.2.1:56324", "198.51.100.2:25",
	  NULL },
	{ IN(V2_TCP4 "EHLO x\r\n"), 1, 28, 2, false, "192.0.2.1:56324",
	  "198.51.100.2:25", NULL },
	{ IN(SIG "\x21\x21\x00\x24"
	     "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	     "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02"
	     "\xff\xff" "\x00\x8f" "* tail"), 1, 52, 2, false,
	  "[2001:db8::1]:65535", "[2001:db8::2]:143", NULL },
	/* LOCAL (health checks): no addresses, or addresses to ignore. */
	{ IN(SIG "\x20\x00\x00\x00" "QUIT\r\n"), 1, 16, 2, true, NULL, NULL,
	  NULL },
	{ IN(SIG "\x20\x11\x00\x0c" "\x7f\0\0\x01\x7f\0\0\x01\0\x01\0\x02"),
	  1, 28, 2, true, NULL, NULL, NULL },
	{ IN(SIG "\x20\x77\x00\x03" "abc"), 1, 19, 2, true, NULL, NULL,
	  NULL },
	/* PROXY over UNSPEC, UDP: valid, keep the connection's own. */
	{ IN(SIG "\x21\x00\x00\x02" "ab"), 1, 18, 2, true, NULL, NULL, NULL },
	{ IN(SIG "\x21\x12\x00\x0c" "\x7f\0\0\x01\x7f\0\0\x01\0\x01\0\x02"),
	  1, 28, 2, true, NULL, NULL, NULL },
	/* TLVs are skipped when they tile the rest exactly. */
	{ IN(SIG "\x21\x11\x00\x18" "\xc0\x00\x02\x01" "\xc6\x33\x64\x02"
	     "\xdc\x04" "\x00\x19" "\x04\x00\x02" "ab" "\x04\x00\x00"
	     "\x05\x00\x01" "u"), 1, 40, 2, false, "192.0.2.1:56324",
	  "198.51.100.2:25", NULL },
	{ IN(SIG "\x21\x11\x00\x11" "\xc0\x00\x02\x01" "\xc6\x33\x64\x02"
	     "\xdc\x04" "\x00\x19" "\x04\x00\x05" "ab"), -1, 0, 0, false, NULL,
	  NULL, "bad_tlv" },
	{ IN(SIG "\x21\x11\x00\x0d" "\xc0\x00\x02\x01" "\xc6\x33\x64\x02"
	     "\xdc\x04" "\x00\x19" "\x04"), -1, 0, 0, false, NULL, NULL,
	  "bad_tlv" },
	{ IN(SIG "\x11\x11\x00\x0c"), -1, 0, 0, false, NULL, NULL,
	  "bad_version" },
	{ IN(SIG "\x22\x11\x00\x0c"), -1, 0, 0, false, NULL, NULL,
	  "bad_command" },
	{ IN(SIG "\x21\x41\x00\x00"), -1, 0, 0, false, NULL, NULL,
	  "bad_family" },
	{ IN(SIG "\x21\x13\x00\x0c"), -1, 0, 0, false, NULL, NULL,
	  "bad_family" },
	{ IN(SIG "\x21\x01\x00\x00"), -1, 0, 0, false, NULL, NULL,
	  "bad_family" },
	{ IN(SIG "\x21\x11\x00\x0b" "\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04"
	     "\x00"), -1, 0, 0, false, NULL, NULL, "bad_length" },
	{ IN(SIG "\x21\x21\x00\x0c"), -1, 0, 0, false, NULL, NULL,
	  "bad_length" },
	{ IN(SIG "\x21\x11\x07\xf1"), -1, 0, 0, false, NULL, NULL,
	  "too_long" },
	{ IN(SIG "\x21\x11\xff\xff"), -1, 0, 0, false, NULL, NULL,
	  "too_long" },
	{ IN("\r\n\r\n\0\r\nQUIX"), -1, 0, 0, false, NULL, NULL,
	  "bad_signature" },
	{ IN("\r\nHELO"), -1, 0, 0, false, NULL, NULL, "bad_signature" },
	{ IN(SIG "\x21\x11\x00\x0c" "\xc0\x00"), 0, 18, 0, false, NULL, NULL,
	  NULL },
	{ IN(SIG), 0, 12, 0, false, NULL, NULL, NULL },
	/* ---- neither ---- */
	{ IN("\x16\x03\x01\x02\x00\x01"), -1, 0, 0, false, NULL, NULL,
	  "bad_signature" },
	{ IN("\0"), -1, 0, 0, false, NULL, NULL, "bad_signature" },
};

void
test_proxy_proto_cases(void)
{
	for (size_t i = 0; i < sizeof(pp_cases) / sizeof(pp_cases[0]); i++) {
		const struct pp_case *c = &pp_cases[i];
		struct pp_run whole, bytes;

		pp_run(c->in, c->len, c->len, &whole);
		pp_run(c->in, c->len, 1, &bytes);
		pp_check(c, i, &whole);
		pp_check(c, i, &bytes);
		TEST_ASSERT_IDX(whole.rc == bytes.rc, i);
		TEST_ASSERT_IDX(whole.rc < 0 || whole.used == bytes.used, i);
		TEST_ASSERT_IDX(memcmp(&whole.hdr, &bytes.hdr,
		                       sizeof(whole.hdr)) == 0, i);
	}
}

/* Headers built here: too long for the table. */
static uint8_t *
pp_v2_build(uint8_t fam, size_t body, size_t *len_r)
{
	uint8_t *b = calloc(1, 16 + body);

	memcpy(b, SIG, 12);
	b[12] = 0x21;
	b[13] = fam;
	b[14] = (uint8_t)(body >> 8);
	b[15] = (uint8_t)body;
	*len_r = 16 + body;
	return b;
}

void
test_proxy_proto_v2_sizes(void)
{
	size_t len;
	struct pp_run r;
	/* AF_UNIX: 216 octets of addresses we do not use. */
	uint8_t *b = pp_v2_build(0x31, 216, &len);

	pp_run(b, len, len, &r);
	TEST_ASSERT(r.rc == 1 && r.used == 232 && r.hdr.local);
	pp_run(b, len - 1, 1, &r);
	TEST_ASSERT(r.rc == 0 && r.used == 231);
	free(b);
	b = pp_v2_build(0x31, 215, &len);
	pp_run(b, len, len, &r);
	TEST_ASSERT(r.rc == -1 && strcmp(r.reason, "bad_length") == 0);
	free(b);
	/* The cap exactly: TCP4 and one TLV holding the rest. */
	b = pp_v2_build(0x11, PROXY_PROTO_MAX - 16, &len);
	b[16 + 12] = 0x04;
	b[16 + 13] = (uint8_t)((PROXY_PROTO_MAX - 16 - 15) >> 8);
	b[16 + 14] = (uint8_t)(PROXY_PROTO_MAX - 16 - 15);
	pp_run(b, len, 7, &r);
	TEST_ASSERT(r.rc == 1 && r.used == PROXY_PROTO_MAX && !r.hdr.local);
	TEST_ASSERT(r.hdr.src.ss_family == AF_INET);
	free(b);
	b = pp_v2_build(0x11, PROXY_PROTO_MAX - 15, &len);
	pp_run(b, 16, 16, &r);
	TEST_ASSERT(r.rc == -1 && strcmp(r.reason, "too_long") == 0);
	free(b);
}

void
test_proxy_proto_finished(void)
{
	struct proxy_proto *p = proxy_proto_new();
	struct proxy_proto_hdr h;
	struct rs_err err;
	size_t used = 99;

	TEST_ASSERT(proxy_proto_feed(p, (const uint8_t *)"", 0, &used, &h,
	                             &err) == 0 && used == 0);
	TEST_ASSERT(proxy_proto_feed(p, IN("PROXY UNKNOWN\r\nAB"), &used, &h,
	                             &err) == 1 && used == 15);
	TEST_ASSERT(proxy_proto_feed(p, IN("AB"), &used, &h, &err) == -1);
	TEST_ASSERT(used == 0 && strcmp(err.msg, "finished") == 0);
	proxy_proto_free(&p);
	proxy_proto_free(&p);           /* NULL-safe */
}
