/* test_rpc_frame.c: the RPC framing codec (cluster/rpc_frame.c). Each
 * case is decoded twice, fed all at once and one octet at a time; both
 * runs must give the same frames and the same verdict. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/rpc_frame.h"
#include "lib/rs_mem.h"
#include "tests/unit/test.h"

#define T_MAX 4096

struct t_out {
	int      rc;            /* last feed: 0 (need more) or -1 */
	int      code;          /* err.code after -1 */
	unsigned nframes;
	int      kinds[4];
	uint64_t ids[4];
	size_t   paylen[4];
	size_t   consumed;
};

/* Appends f, encoded, to buf at *len. */
static void
t_put(uint8_t *buf, size_t *len, const Roost__RpcFrame *f)
{
	size_t size;

	TEST_ASSERT(rpc_frame_size(f, T_MAX, &size, NULL) == 0);
	rpc_frame_encode(f, buf + *len, size);
	*len += size;
}

static void
t_decode(const uint8_t *in, size_t len, size_t chunk, struct t_out *o)
{
	struct rpc_frame_dec *d = rpc_frame_dec_new(T_MAX);
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk, used;
		Roost__RpcFrame *f = NULL;
		struct rs_err err;
		int rc = rpc_frame_dec_feed(d, in + off, n, &used, &f, &err);

		TEST_ASSERT(used <= n);
		off += used;
		o->consumed = off;
		if (rc < 0) {
			o->rc = -1;
			o->code = err.code;
			break;
		}
		if (rc == 1) {
			if (o->nframes < 4) {
				o->kinds[o->nframes] = (int)f->kind;
				o->ids[o->nframes] = f->id;
				o->paylen[o->nframes] = f->payload.len;
			}
			o->nframes++;
			rpc_frame_free(&f);
		} else {
			TEST_ASSERT(used == n);
		}
		o->rc = 0;
	}
	rpc_frame_dec_free(&d);
	TEST_ASSERT(d == NULL);
}

void
test_rpc_frame_cases(void)
{
	static uint8_t big[T_MAX];
	Roost__RpcFrame req = ROOST__RPC_FRAME__INIT;
	Roost__RpcFrame end = ROOST__RPC_FRAME__INIT;
	uint8_t valid[2 * T_MAX], two[3 * T_MAX];
	size_t vlen = 0, tlen = 0, slen;
	const uint8_t over[] = { 0, 0, 0x10, 0x01, 0x08, 0x02 };
	const uint8_t junk[] = { 0, 0, 0, 3, 0xff, 0xff, 0xff };
	const uint8_t empty[] = { 0, 0, 0, 0 };
	const uint8_t kind99[] = { 0, 0, 0, 2, 0x08, 99 };
	const uint8_t trunc[] = { 0, 0, 0, 9, 0x08, 0x02, 0x10 };
	/* An unknown field is fine; field number 0 (an over-long tag that
	 * protobuf-c would take) is not. */
	const uint8_t unknown[] = { 0, 0, 0, 5, 0x08, 0x06, 0xf8, 0x01, 7 };
	const uint8_t field0[] = { 0, 0, 0, 8, 0x08, 0x06, 0x80, 0x80, 0x80,
	                           0x00, 0x08, 0x08 };
	uint8_t after[16];

	req.kind = ROOST__RPC_FRAME__KIND__REQUEST;
	req.id = 77;
	req.method = 1;
	req.deadline_ms = 500;
	req.payload.data = big;
	req.payload.len = 3000;
	t_put(valid, &vlen, &req);
	end.kind = ROOST__RPC_FRAME__KIND__STREAM_END;
	end.id = 1ull << 40;
	memcpy(two, valid, vlen);
	tlen = vlen;
	t_put(two, &tlen, &end);
	slen = tlen;
	t_put(two, &slen, &end);        /* a third, cut short below */
	slen -= 2;
	/* Garbage after a refused prefix is never looked at. */
	memcpy(after, junk, sizeof(junk));
	memcpy(after + sizeof(junk), over, sizeof(over));

	const struct {
		const uint8_t *in;
		size_t len;
		int want_rc, want_code;
		unsigned want_frames;
		int want_kind;
		size_t want_consumed;
	} cases[] = {
		{ valid, vlen, 0, 0, 1, ROOST__RPC_FRAME__KIND__REQUEST, vlen },
		{ two, tlen, 0, 0, 2, ROOST__RPC_FRAME__KIND__REQUEST, tlen },
		{ two, slen, 0, 0, 2, ROOST__RPC_FRAME__KIND__REQUEST, slen },
		/* 4097 octets announced: refused on the prefix alone. */
		{ over, sizeof(over), -1, RS_ETOOBIG, 0, 0, 4 },
		{ junk, sizeof(junk), -1, RS_EINVAL, 0, 0, sizeof(junk) },
		{ empty, sizeof(empty), -1, RS_EINVAL, 0, 0, 4 },
		{ kind99, sizeof(kind99), -1, RS_EINVAL, 0, 0, sizeof(kind99) },
		{ trunc, sizeof(trunc), 0, 0, 0, 0, sizeof(trunc) },
		{ unknown, sizeof(unknown), 0, 0, 1,
		  ROOST__RPC_FRAME__KIND__STREAM_END, sizeof(unknown) },
		{ field0, sizeof(field0), -1, RS_EINVAL, 0, 0, sizeof(field0) },
		{ after, sizeof(junk) + sizeof(over), -1, RS_EINVAL, 0, 0,
		  sizeof(junk) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct t_out a, b;

		t_decode(cases[i].in, cases[i].len, cases[i].len, &a);
		t_decode(cases[i].in, cases[i].len, 1, &b);
		TEST_ASSERT_IDX(a.rc == cases[i].want_rc, i);
		TEST_ASSERT_IDX(a.code == cases[i].want_code, i);
		TEST_ASSERT_IDX(a.nframes == cases[i].want_frames, i);
		TEST_ASSERT_IDX(a.consumed == cases[i].want_consumed, i);
		if (cases[i].want_frames > 0)
			TEST_ASSERT_IDX(a.kinds[0] == cases[i].want_kind, i);
		TEST_ASSERT_IDX(a.rc == b.rc && a.code == b.code &&
		                a.nframes == b.nframes &&
		                a.consumed == b.consumed, i);
		for (unsigned k = 0; k < a.nframes && k < 4; k++)
			TEST_ASSERT_IDX(a.kinds[k] == b.kinds[k] &&
			                a.ids[k] == b.ids[k] &&
			                a.paylen[k] == b.paylen[k], i);
	}
}

void
test_rpc_frame_fields(void)
{
	Roost__RpcFrame f = ROOST__RPC_FRAME__INIT, *g = NULL;
	struct rpc_frame_dec *d = rpc_frame_dec_new(1 << 20);
	uint8_t payload[100000], *wire;
	size_t size, used;
	struct rs_err err;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	f.kind = ROOST__RPC_FRAME__KIND__REPLY;
	f.id = 0xfffffffffffull;
	f.rc = RS_ENOTFOUND;
	f.error = (char *)"no such mailbox";
	f.payload.data = payload;
	f.payload.len = sizeof(payload);
	f.stream = true;
	f.window = 262144;
	TEST_ASSERT(rpc_frame_size(&f, 1000, &size, &err) == -1);
	TEST_ASSERT_INTEQ(err.code, RS_ETOOBIG);
	TEST_ASSERT(rpc_frame_size(&f, 1 << 20, &size, NULL) == 0);
	wire = rs_xmalloc(size + 1);
	rpc_frame_encode(&f, wire, size);
	wire[size] = 0x5a;              /* the next frame's first octet */
	TEST_ASSERT_INTEQ(rpc_frame_dec_feed(d, wire, size + 1, &used, &g,
	                                     &err), 1);
	TEST_ASSERT_INTEQ(used, size);
	TEST_ASSERT(g != NULL && g->id == f.id && g->rc == RS_ENOTFOUND &&
	            g->stream && g->window == 262144);
	TEST_ASSERT_STREQ(g != NULL ? g->error : NULL, "no such mailbox");
	TEST_ASSERT(g != NULL && g->payload.len == sizeof(payload) &&
	            memcmp(g->payload.data, payload, sizeof(payload)) == 0);
	rpc_frame_free(&g);
	TEST_ASSERT(g == NULL);
	free(wire);
	rpc_frame_dec_free(&d);
	rpc_frame_dec_free(&d);         /* NULL-safe */
}

/* A STREAM_DATA frame of RPC_FRAME_DATA_FIT octets with the largest id
 * fills one TLS record exactly; one octet more does not fit. */
void
test_rpc_frame_record(void)
{
	static uint8_t payload[RPC_FRAME_DATA_FIT + 1];
	Roost__RpcFrame f = ROOST__RPC_FRAME__INIT;
	size_t size;

	f.kind = ROOST__RPC_FRAME__KIND__STREAM_DATA;
	f.id = UINT64_MAX;
	f.payload.data = payload;
	f.payload.len = RPC_FRAME_DATA_FIT;
	TEST_ASSERT(rpc_frame_size(&f, 1 << 20, &size, NULL) == 0);
	TEST_ASSERT_INTEQ(size, RPC_FRAME_RECORD);
	f.payload.len++;
	TEST_ASSERT(rpc_frame_size(&f, 1 << 20, &size, NULL) == 0);
	TEST_ASSERT(size > RPC_FRAME_RECORD);
}

/* rpc_frame_data_head plus the payload are the octets rpc_frame_encode
 * writes for the same STREAM_DATA frame. */
void
test_rpc_frame_data_head(void)
{
	static const struct {
		uint64_t id;
		size_t   n;
	} cases[] = {
		{ 1, 1 }, { 127, 127 }, { 128, 128 }, { 300, 16383 },
		{ 0, 16384 }, { 1ull << 35, RPC_FRAME_DATA_FIT },
		{ UINT64_MAX, 200000 },
	};
	static uint8_t payload[200000];
	Roost__RpcFrame f = ROOST__RPC_FRAME__INIT;
	uint8_t head[RPC_FRAME_DATA_HEAD], *wire;
	size_t size, hlen;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f.kind = ROOST__RPC_FRAME__KIND__STREAM_DATA;
		f.id = cases[i].id;
		f.payload.data = payload;
		f.payload.len = cases[i].n;
		TEST_ASSERT_IDX(rpc_frame_size(&f, 1 << 20, &size, NULL) == 0,
		                i);
		wire = rs_xmalloc(size);
		rpc_frame_encode(&f, wire, size);
		hlen = rpc_frame_data_head(cases[i].id, cases[i].n, head);
		TEST_ASSERT_IDX(hlen <= RPC_FRAME_DATA_HEAD &&
		                hlen + cases[i].n == size &&
		                memcmp(wire, head, hlen) == 0 &&
		                memcmp(wire + hlen, payload, cases[i].n) == 0, i);
		free(wire);
	}
}

void
test_rpc_frame_partial(void)
{
	Roost__RpcFrame f = ROOST__RPC_FRAME__INIT, *g = NULL;
	struct rpc_frame_dec *d = rpc_frame_dec_new(1 << 20);
	uint8_t payload[5000] = { 1 }, *wire;
	size_t size = 0, used;
	struct rs_err err;

	f.kind = ROOST__RPC_FRAME__KIND__STREAM_DATA;
	f.payload.data = payload;
	f.payload.len = sizeof(payload);
	TEST_ASSERT(rpc_frame_size(&f, 1 << 20, &size, NULL) == 0);
	wire = rs_xmalloc(size);
	rpc_frame_encode(&f, wire, size);
	TEST_ASSERT_INTEQ(rpc_frame_dec_feed(d, wire, size / 2, &used, &g,
	                                     &err), 0);
	TEST_ASSERT_INTEQ(rpc_frame_dec_pending(d), size / 2);
	/* A lower limit spares the frame whose prefix is read... */
	rpc_frame_dec_set_max(d, 10);
	TEST_ASSERT_INTEQ(rpc_frame_dec_feed(d, wire + size / 2,
	                                     size - size / 2, &used, &g,
	                                     &err), 1);
	TEST_ASSERT(g != NULL && g->payload.len == sizeof(payload));
	rpc_frame_free(&g);
	/* ...and refuses the next; the decoder then stays failed. */
	TEST_ASSERT_INTEQ(rpc_frame_dec_feed(d, wire, size, &used, &g, &err),
	                  -1);
	TEST_ASSERT_INTEQ(err.code, RS_ETOOBIG);
	TEST_ASSERT_INTEQ(rpc_frame_dec_feed(d, wire, 1, &used, &g, &err), -1);
	rpc_frame_dec_free(&d);
	/* Freed holding a partial frame: nothing leaks. */
	d = rpc_frame_dec_new(1 << 20);
	TEST_ASSERT_INTEQ(rpc_frame_dec_feed(d, wire, size - 1, &used, &g,
	                                     &err), 0);
	rpc_frame_dec_free(&d);
	TEST_ASSERT_STREQ(rpc_frame_kind_name(ROOST__RPC_FRAME__KIND__HELLO),
	                  "HELLO");
	TEST_ASSERT_STREQ(rpc_frame_kind_name(42), "UNKNOWN");
	free(wire);
}
