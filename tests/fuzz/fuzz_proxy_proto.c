/* fuzz_proxy_proto.c: libFuzzer target for node/core/proxy_proto.c. The
 * first input byte picks a chunk size; the rest is parsed once whole and
 * once in chunks. Checks the parser's promises: the two runs agree, it
 * never consumes past the header (nor more than the caps), a finished
 * parser stays finished, and a header's addresses are TCP ones of one
 * family. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/proxy_proto.h"

struct fuzz_run {
	int    rc;
	size_t used;
	struct proxy_proto_hdr hdr;
};

static void
fuzz_run(const uint8_t *in, size_t len, size_t step, struct fuzz_run *r)
{
	struct proxy_proto *p = proxy_proto_new();
	struct rs_err err;
	size_t pos = 0, used;

	memset(r, 0, sizeof(*r));
	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step;

		used = 0;
		err.msg[0] = '\0';
		r->rc = proxy_proto_feed(p, in + pos, n, &used, &r->hdr, &err);
		if (used > n || (r->rc == 0 && used != n))
			abort();
		if (r->rc < 0 && err.msg[0] == '\0')
			abort();
		r->used += used;
		pos += n;
		if (r->rc != 0)
			break;
	}
	/* Finished means finished: nothing more is consumed. */
	if (r->rc != 0 && (proxy_proto_feed(p, in, len, &used, &r->hdr,
	                                    &err) != -1 || used != 0))
		abort();
	proxy_proto_free(&p);
}

static void
fuzz_check_hdr(const struct fuzz_run *r)
{
	const struct proxy_proto_hdr *h = &r->hdr;

	if (r->used > PROXY_PROTO_MAX)
		abort();
	if (h->version == 1 && r->used > PROXY_PROTO_V1_MAX)
		abort();
	if (h->version != 1 && h->version != 2)
		abort();
	if (h->local) {
		if (h->src.ss_family != 0 || h->dst.ss_family != 0)
			abort();
		return;
	}
	if ((h->src.ss_family != AF_INET && h->src.ss_family != AF_INET6) ||
	    h->src.ss_family != h->dst.ss_family)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run whole, chunks;

	if (size == 0)
		return 0;
	fuzz_run(data + 1, size - 1, size, &whole);
	fuzz_run(data + 1, size - 1, (size_t)data[0] % 32 + 1, &chunks);
	if (whole.rc != chunks.rc)
		abort();
	if (whole.rc == 0 && (whole.used != size - 1 || chunks.used != size - 1))
		abort();
	if (whole.rc != 1)
		return 0;
	if (whole.used != chunks.used ||
	    memcmp(&whole.hdr, &chunks.hdr, sizeof(whole.hdr)) != 0)
		abort();
	fuzz_check_hdr(&whole);
	return 0;
}
