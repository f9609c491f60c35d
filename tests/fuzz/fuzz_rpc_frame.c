/* fuzz_rpc_frame.c: libFuzzer target for cluster/rpc_frame.c. The first
 * byte picks the chunk size and the second the size limit; the rest is
 * what a peer sends. Decoded once whole and once in chunks: both runs
 * must agree on every frame and on the verdict. Every decoded frame must
 * encode again and decode to the same fields. Checks the consumption
 * promises and that a refused prefix is refused before its body. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/rpc_frame.h"

#define FUZZ_FRAMES 64

struct fuzz_run {
	int      verdict;          /* 0: ended needing more; -1: error */
	int      code;
	size_t   consumed;
	unsigned n;
	uint64_t ids[FUZZ_FRAMES];
	int      kinds[FUZZ_FRAMES];
	size_t   lens[FUZZ_FRAMES];
};

static bool
fuzz_same(const Roost__RpcFrame *a, const Roost__RpcFrame *b)
{
	return a->kind == b->kind && a->id == b->id && a->method == b->method &&
	       a->deadline_ms == b->deadline_ms && a->rc == b->rc &&
	       a->stream == b->stream && a->window == b->window &&
	       a->max_frame == b->max_frame && a->version == b->version &&
	       strcmp(a->error, b->error) == 0 &&
	       strcmp(a->node_id, b->node_id) == 0 &&
	       a->payload.len == b->payload.len &&
	       (a->payload.len == 0 ||
	        memcmp(a->payload.data, b->payload.data, a->payload.len) == 0);
}

/* f encodes within max and decodes to the same frame. */
static void
fuzz_roundtrip(const Roost__RpcFrame *f, size_t max)
{
	struct rpc_frame_dec *d = rpc_frame_dec_new(max);
	Roost__RpcFrame *g = NULL;
	struct rs_err err;
	uint8_t *wire;
	size_t size, used;

	if (rpc_frame_size(f, max, &size, &err) != 0)
		abort();      /* it came in under max; proto3 packs canonically */
	wire = malloc(size);
	if (wire == NULL)
		abort();
	rpc_frame_encode(f, wire, size);
	if (rpc_frame_dec_feed(d, wire, size, &used, &g, &err) != 1 ||
	    used != size || !fuzz_same(f, g))
		abort();
	rpc_frame_free(&g);
	rpc_frame_dec_free(&d);
	free(wire);
}

static void
fuzz_decode(const uint8_t *in, size_t len, size_t step, size_t max,
            bool check, struct fuzz_run *o)
{
	struct rpc_frame_dec *d = rpc_frame_dec_new(max);
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	while (off < len) {
		size_t n = len - off < step ? len - off : step, used = 0;
		Roost__RpcFrame *f = NULL;
		struct rs_err err;
		int rc = rpc_frame_dec_feed(d, in + off, n, &used, &f, &err);

		if (used > n || (rc == 0 && used != n) ||
		    (rc == 1) != (f != NULL))
			abort();
		off += used;
		if (rc < 0) {
			if (err.code != RS_ETOOBIG && err.code != RS_EINVAL)
				abort();
			/* Too big is seen on the prefix: no body octet kept. */
			if (err.code == RS_ETOOBIG && used > RPC_FRAME_HDR)
				abort();
			/* Failed for good. */
			if (rpc_frame_dec_feed(d, in, len, &used, &f, &err) != -1)
				abort();
			o->verdict = -1;
			o->code = err.code;
			break;
		}
		if (rc == 1) {
			if (check)
				fuzz_roundtrip(f, max);
			if (o->n < FUZZ_FRAMES) {
				o->ids[o->n] = f->id;
				o->kinds[o->n] = (int)f->kind;
				o->lens[o->n] = f->payload.len;
			}
			o->n++;
			rpc_frame_free(&f);
		}
	}
	o->consumed = off;
	rpc_frame_dec_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run whole, bits;
	size_t step, max;

	if (size < 2)
		return 0;
	step = (size_t)data[0] + 1;
	max = (size_t)data[1] * 64;      /* 0 to 16 KiB */
	fuzz_decode(data + 2, size - 2, size, max, true, &whole);
	fuzz_decode(data + 2, size - 2, step, max, false, &bits);
	if (whole.verdict != bits.verdict || whole.code != bits.code ||
	    whole.consumed != bits.consumed || whole.n != bits.n)
		abort();
	for (unsigned i = 0; i < whole.n && i < FUZZ_FRAMES; i++)
		if (whole.ids[i] != bits.ids[i] ||
		    whole.kinds[i] != bits.kinds[i] ||
		    whole.lens[i] != bits.lens[i])
			abort();
	return 0;
}
