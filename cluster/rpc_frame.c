/* rpc_frame.c: length-prefixed RpcFrame codec. The decoder checks the
 * announced length against its limit before it buffers anything, unpacks
 * in place when a whole frame sits in one chunk, and copies otherwise.
 * What a frame means is rpc_conn.c's business, not this file's. */
#include "cluster/rpc_frame.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct rpc_frame_dec {
	size_t   max;             /* largest body accepted */
	uint8_t  hdr[RPC_FRAME_HDR];
	size_t   hdr_len;         /* prefix octets read */
	size_t   body_len;        /* announced; valid once hdr_len == 4 */
	uint8_t *body;            /* owns: partial body, body_len octets */
	size_t   have;            /* octets of body filled */
	bool     failed;
};

/* protobuf-c allocates through this, so running out of memory aborts as
 * everywhere else instead of looking like a malformed frame. */
static void *
rpc_frame_alloc(void *data, size_t n)
{
	(void)data;
	return rs_xmalloc(n == 0 ? 1 : n);
}

static void
rpc_frame_dealloc(void *data, void *p)
{
	(void)data;
	free(p);
}

static ProtobufCAllocator rpc_frame_allocator = {
	rpc_frame_alloc, rpc_frame_dealloc, NULL
};

struct rpc_frame_dec *
rpc_frame_dec_new(size_t max)
{
	struct rpc_frame_dec *d = rs_xcalloc(1, sizeof(*d));

	d->max = max;
	return d;
}

void
rpc_frame_dec_free(struct rpc_frame_dec **dp)
{
	if (*dp == NULL)
		return;
	free((*dp)->body);
	free(*dp);
	*dp = NULL;
}

void
rpc_frame_dec_set_max(struct rpc_frame_dec *d, size_t max)
{
	d->max = max;
}

size_t
rpc_frame_dec_pending(const struct rpc_frame_dec *d)
{
	return d->hdr_len + d->have;
}

void
rpc_frame_free(Roost__RpcFrame **fp)
{
	if (*fp == NULL)
		return;
	roost__rpc_frame__free_unpacked(*fp, &rpc_frame_allocator);
	*fp = NULL;
}

static int
rpc_frame_dec_fail(struct rpc_frame_dec *d, struct rs_err *err, int code,
                   const char *what)
{
	d->failed = true;
	free(d->body);
	d->body = NULL;
	return rs_err_set(err, code, "rpc frame: %s", what);
}

static bool
rpc_frame_kind_ok(int kind)
{
	return kind >= ROOST__RPC_FRAME__KIND__HELLO &&
	       kind <= ROOST__RPC_FRAME__KIND__STREAM_RESET;
}

/* Fields this version does not know are kept (a newer peer may send
 * them), but field number 0 does not exist: protobuf-c takes it when
 * the tag is an over-long varint, and refuses it otherwise. Found by
 * fuzz_rpc_frame (regress input). */
static bool
rpc_frame_unknown_ok(const Roost__RpcFrame *f)
{
	for (unsigned i = 0; i < f->base.n_unknown_fields; i++)
		if (f->base.unknown_fields[i].tag == 0)
			return false;
	return true;
}

/* Unpacks a whole body; 1 or -1 (the decoder is reset for the next
 * frame either way). */
static int
rpc_frame_dec_unpack(struct rpc_frame_dec *d, const uint8_t *p, size_t n,
                     Roost__RpcFrame **frame_r, struct rs_err *err)
{
	Roost__RpcFrame *f = roost__rpc_frame__unpack(&rpc_frame_allocator, n,
	                                              p);

	free(d->body);
	d->body = NULL;
	d->hdr_len = d->have = d->body_len = 0;
	if (f == NULL)
		return rpc_frame_dec_fail(d, err, RS_EINVAL, "does not unpack");
	if (!rpc_frame_kind_ok((int)f->kind)) {
		rpc_frame_free(&f);
		return rpc_frame_dec_fail(d, err, RS_EINVAL, "unknown kind");
	}
	if (!rpc_frame_unknown_ok(f)) {
		rpc_frame_free(&f);
		return rpc_frame_dec_fail(d, err, RS_EINVAL, "field number 0");
	}
	*frame_r = f;
	return 1;
}

int
rpc_frame_dec_feed(struct rpc_frame_dec *d, const uint8_t *in, size_t len,
                   size_t *used_r, Roost__RpcFrame **frame_r,
                   struct rs_err *err)
{
	size_t used = 0, n;

	*used_r = 0;
	*frame_r = NULL;
	if (d->failed)
		return rs_err_set(err, RS_EINVAL, "rpc frame: stream broken");
	while (d->hdr_len < RPC_FRAME_HDR && used < len)
		d->hdr[d->hdr_len++] = in[used++];
	*used_r = used;
	if (d->hdr_len < RPC_FRAME_HDR)
		return 0;
	if (d->body == NULL) {
		d->body_len = (size_t)d->hdr[0] << 24 | (size_t)d->hdr[1] << 16 |
		              (size_t)d->hdr[2] << 8 | (size_t)d->hdr[3];
		/* Checked before a single octet of the body is kept. */
		if (d->body_len > d->max)
			return rpc_frame_dec_fail(d, err, RS_ETOOBIG,
			                          "over the size limit");
		if (len - used >= d->body_len) {
			/* The whole body is here: no copy. */
			*used_r = used + d->body_len;
			return rpc_frame_dec_unpack(d, in + used, d->body_len,
			                            frame_r, err);
		}
		d->body = rs_xmalloc(d->body_len);
	}
	n = d->body_len - d->have;
	if (n > len - used)
		n = len - used;
	memcpy(d->body + d->have, in + used, n);
	d->have += n;
	*used_r = used + n;
	if (d->have < d->body_len)
		return 0;
	return rpc_frame_dec_unpack(d, d->body, d->body_len, frame_r, err);
}

int
rpc_frame_size(const Roost__RpcFrame *f, size_t max, size_t *size_r,
               struct rs_err *err)
{
	size_t n = roost__rpc_frame__get_packed_size(f);

	if (n > max || n > RPC_FRAME_LEN_MAX)
		return rs_err_set(err, RS_ETOOBIG,
		                  "rpc frame of %zu octets over the limit (%zu)",
		                  n, max);
	*size_r = RPC_FRAME_HDR + n;
	return 0;
}

void
rpc_frame_encode(const Roost__RpcFrame *f, uint8_t *out, size_t size)
{
	size_t n = size - RPC_FRAME_HDR;

	out[0] = (uint8_t)(n >> 24);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	roost__rpc_frame__pack(f, out + RPC_FRAME_HDR);
}

static size_t
rpc_frame_varint(uint64_t v, uint8_t *out)
{
	size_t i = 0;

	while (v >= 0x80) {
		out[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[i++] = (uint8_t)v;
	return i;
}

/* Field by field as protobuf-c packs them (field number order; proto3
 * leaves out an id of 0): kind (1, varint), id (2, varint), payload
 * (7, length-delimited). */
size_t
rpc_frame_data_head(uint64_t id, size_t n, uint8_t *out)
{
	size_t len = RPC_FRAME_HDR, body;

	out[len++] = 1 << 3;
	out[len++] = ROOST__RPC_FRAME__KIND__STREAM_DATA;
	if (id != 0) {
		out[len++] = 2 << 3;
		len += rpc_frame_varint(id, out + len);
	}
	out[len++] = 7 << 3 | 2;
	len += rpc_frame_varint(n, out + len);
	body = len - RPC_FRAME_HDR + n;
	out[0] = (uint8_t)(body >> 24);
	out[1] = (uint8_t)(body >> 16);
	out[2] = (uint8_t)(body >> 8);
	out[3] = (uint8_t)body;
	return len;
}

const char *
rpc_frame_kind_name(int kind)
{
	switch (kind) {
	case ROOST__RPC_FRAME__KIND__HELLO: return "HELLO";
	case ROOST__RPC_FRAME__KIND__REQUEST: return "REQUEST";
	case ROOST__RPC_FRAME__KIND__REPLY: return "REPLY";
	case ROOST__RPC_FRAME__KIND__STREAM_DATA: return "STREAM_DATA";
	case ROOST__RPC_FRAME__KIND__STREAM_WINDOW: return "STREAM_WINDOW";
	case ROOST__RPC_FRAME__KIND__STREAM_END: return "STREAM_END";
	case ROOST__RPC_FRAME__KIND__STREAM_RESET: return "STREAM_RESET";
	default: return "UNKNOWN";
	}
}
