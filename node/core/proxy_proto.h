/* proxy_proto.h: incremental parser of the PROXY protocol header that a
 * load balancer (HAProxy) sends before the client's own bytes, version 1
 * (a text line) and version 2 (binary), as doc/proxy-protocol.txt of
 * HAProxy specifies them. Pure: no I/O, no allocation after
 * proxy_proto_new(). Fuzzed by tests/fuzz/fuzz_proxy_proto.c.
 *
 * Strict, as the specification asks ("any sequence which does not exactly
 * match the protocol must be discarded"): one space between v1 fields,
 * CRLF and nothing else to end the line, no heading zeroes, ports up to
 * 65535, v2 version 2 with command LOCAL or PROXY, a known family byte, an
 * address block at least as long as the family needs, TLVs that tile the
 * rest exactly. The parser never consumes a byte past the header, so the
 * client's pipelined bytes stay where they were. */
#ifndef ROOST_NODE_CORE_PROXY_PROTO_H
#define ROOST_NODE_CORE_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/rs_err.h"

/* Section 2.1: a v1 line is at most 107 octets with its CRLF. */
#define PROXY_PROTO_V1_MAX 107u
/* Our cap on a whole v2 header (16 octets and the length field's bytes):
 * room for the longest address block (AF_UNIX, 216) and a good deal of
 * TLVs; HAProxy sends 28 or 52 octets without TLVs. */
#define PROXY_PROTO_MAX 2048u

struct proxy_proto;                   /* opaque */

struct proxy_proto_hdr {
	unsigned version;             /* 1 or 2 */
	/* true: keep the connection's own addresses (v2 LOCAL, a v1
	 * UNKNOWN line, or a v2 family other than TCP over IPv4/IPv6,
	 * which section 2.2 lets a receiver treat as UNSPEC); src and dst
	 * are then zeroed. */
	bool     local;
	struct sockaddr_storage src;  /* the client (AF_INET or AF_INET6) */
	struct sockaddr_storage dst;  /* the address it connected to */
};

/* Never returns NULL. */
struct proxy_proto *proxy_proto_new(void);
/* Frees *pp, sets it to NULL; NULL-safe. */
void proxy_proto_free(struct proxy_proto **pp);

/* Feeds the bytes that follow those already fed. 1: the header is
 * complete, *hdr_r filled, *used_r counts up to its last octet (the
 * caller's bytes after it are not the header's); 0: all of in consumed
 * (*used_r == len), more needed; -1: not a valid header, err->msg a short
 * reason token ("bad_signature", "bad_port", ...) with code RS_EINVAL or
 * RS_ETOOBIG, *used_r meaningless. Once 1 or -1 was returned the parser
 * is finished: later feeds return -1 ("finished") and consume nothing. */
int proxy_proto_feed(struct proxy_proto *p, const uint8_t *in, size_t len,
                     size_t *used_r, struct proxy_proto_hdr *hdr_r,
                     struct rs_err *err) RS_MUST_CHECK;

#endif
